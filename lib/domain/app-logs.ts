// Reading an app's runtime logs. The request never runs podman: it reads the file the worker keeps
// (lib/app-log-file.ts, written by lib/engine/app-logs.ts) and asks the worker to bring it up to date for the
// next poll.
import { enqueue } from "@/jobs/enqueue";
import { type AppLogFilter, type AppLogLine, readAppLogLines } from "@/lib/app-log-file";
import type { Db } from "@/lib/db";
import { getAppOrThrow } from "@/lib/domain/apps";
import { authorize, type Ctx } from "@/lib/domain/context";
import { getEnv } from "@/lib/env";

export const APP_LOG_MAX_TAIL = 1000;
/** A download holds at most this many of the newest matching lines (of the kept file, SEARCH_WINDOW_BYTES). */
export const APP_LOG_DOWNLOAD_LINES = 20_000;

export async function readAppLogs(
  db: Db,
  ctx: Ctx,
  appId: string,
  query: { tail: number } & AppLogFilter,
): Promise<{ lines: AppLogLine[] }> {
  authorize(ctx, "apps:read");
  const app = await getAppOrThrow(db, ctx, appId);
  if (app.status === "running") {
    // One pending collection per app however many readers poll (job_key); it runs in the background.
    await db.$transaction(async (tx) => {
      await enqueue(tx, "app__collect_logs", { appId: app.id }, { jobKey: `app-logs:${app.id}` });
    });
  }
  const tail = Math.min(Math.max(1, Math.trunc(query.tail)), APP_LOG_MAX_TAIL);
  return { lines: await readAppLogLines(getEnv().dataDir, app.id, { ...query, tail }) };
}

/** The matching kept lines as a text file (time, process.replica, stream, text), for the Logs tab's download. */
export async function downloadAppLogs(db: Db, ctx: Ctx, appId: string, filter: AppLogFilter): Promise<string> {
  authorize(ctx, "apps:read");
  const app = await getAppOrThrow(db, ctx, appId);
  const lines = await readAppLogLines(getEnv().dataDir, app.id, { ...filter, tail: APP_LOG_DOWNLOAD_LINES });
  return lines.map((line) => `${line.time} ${line.process}.${line.replica} ${line.stream} ${line.text}\n`).join("");
}
