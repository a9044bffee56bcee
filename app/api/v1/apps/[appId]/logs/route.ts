import { appLogsEndpoint } from "@/lib/api/endpoints/apps";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { readAppLogs } from "@/lib/domain/app-logs";

export const GET = handle(appLogsEndpoint, async ({ ctx, params, query }) => {
  const since = query.since === undefined ? undefined : new Date(query.since);
  return { status: 200 as const, body: await readAppLogs(getDb(), ctx, params.appId, { tail: query.tail, since }) };
});
