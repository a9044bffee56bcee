import { auditEventJson, listAuditEventsEndpoint } from "@/lib/api/endpoints/identity";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { listAuditEvents } from "@/lib/domain/audit";

export const GET = handle(listAuditEventsEndpoint, async ({ ctx, query }) => {
  const { limit, cursor, ...filters } = query;
  const page = await listAuditEvents(getDb(), ctx, filters, { limit, cursor });
  return { status: 200 as const, body: { items: page.items.map(auditEventJson), nextCursor: page.nextCursor } };
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/audit-events");
