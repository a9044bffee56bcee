// The format of an app's runtime log file (<dataDir>/logs/apps/<appId>.log): one JSON object per line. The worker
// appends to it (lib/engine/app-logs.ts, the app__collect_logs job) and the API reads it (lib/domain/app-logs.ts);
// this module is what both share, so the web side reads logs without loading the worker's engine.
import fs from "node:fs/promises";
import { z } from "zod";
import { appLogPath } from "@/lib/data-paths";

/** `process` is the replica's process type ("web", "worker", ...); lines written before #15 read as web. */
export type AppLogLine = { time: string; replica: number; process: string; stream: "stdout" | "stderr"; text: string };

/** What a reader scans from the end of the file: enough for the largest tail the API allows. */
const READ_WINDOW_BYTES = 1024 * 1024;
/**
 * What a filtered read (process, replica, search, time range) scans at most: the whole kept file (the worker keeps
 * it under 4 MiB, lib/engine/app-logs.ts), never more, so a search cannot make a request read unbounded data.
 */
export const SEARCH_WINDOW_BYTES = 4 * 1024 * 1024;
/** The longest search text: a plain substring, matched case-insensitively (never a pattern). */
export const MAX_SEARCH_CHARS = 200;

/** Filters over the kept lines; all optional, combined with AND. */
export type AppLogFilter = {
  since?: Date | undefined;
  until?: Date | undefined;
  process?: string | undefined;
  replica?: number | undefined;
  /** Plain text, case-insensitive substring of the line's text. */
  q?: string | undefined;
};

function isFiltered(filter: AppLogFilter): boolean {
  return filter.process !== undefined || filter.replica !== undefined || !!filter.q || filter.until !== undefined;
}

const lineSchema = z.object({
  t: z.string(),
  r: z.number().int(),
  p: z.string().default("web"),
  s: z.enum(["stdout", "stderr"]),
  m: z.string(),
});

/** One line of the file, without its newline. */
export function encodeAppLogLine(line: AppLogLine): string {
  return JSON.stringify({ t: line.time, r: line.replica, p: line.process, s: line.stream, m: line.text });
}

/** The newest `tail` lines matching the filter (oldest first), from the collected file. */
export async function readAppLogLines(
  dataDir: string,
  appId: string,
  query: { tail: number } & AppLogFilter,
): Promise<AppLogLine[]> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(appLogPath(dataDir, appId), "r");
  } catch {
    return [];
  }
  let text: string;
  try {
    const size = (await handle.stat()).size;
    const start = Math.max(0, size - (isFiltered(query) ? SEARCH_WINDOW_BYTES : READ_WINDOW_BYTES));
    const buffer = Buffer.alloc(size - start);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    text = buffer.subarray(0, bytesRead).toString("utf8");
    // Reading from the middle of the file: the first line is a fragment.
    if (start > 0) text = text.slice(text.indexOf("\n") + 1);
  } finally {
    await handle.close();
  }
  const since = query.since?.getTime();
  const until = query.until?.getTime();
  const needle = query.q ? query.q.toLowerCase() : null;
  const lines: AppLogLine[] = [];
  for (const raw of text.split("\n")) {
    if (raw === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      continue;
    }
    const parsed = lineSchema.safeParse(value);
    if (!parsed.success) continue;
    if (since !== undefined && Date.parse(parsed.data.t) < since) continue;
    if (until !== undefined && Date.parse(parsed.data.t) > until) continue;
    if (query.process !== undefined && parsed.data.p !== query.process) continue;
    if (query.replica !== undefined && parsed.data.r !== query.replica) continue;
    if (needle !== null && !parsed.data.m.toLowerCase().includes(needle)) continue;
    lines.push({
      time: parsed.data.t,
      replica: parsed.data.r,
      process: parsed.data.p,
      stream: parsed.data.s,
      text: parsed.data.m,
    });
  }
  return lines.slice(-query.tail);
}
