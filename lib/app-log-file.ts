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

/** The newest `tail` lines at or after `since` (oldest first), from the collected file. */
export async function readAppLogLines(
  dataDir: string,
  appId: string,
  query: { tail: number; since?: Date | undefined },
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
    const start = Math.max(0, size - READ_WINDOW_BYTES);
    const buffer = Buffer.alloc(size - start);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    text = buffer.subarray(0, bytesRead).toString("utf8");
    // Reading from the middle of the file: the first line is a fragment.
    if (start > 0) text = text.slice(text.indexOf("\n") + 1);
  } finally {
    await handle.close();
  }
  const since = query.since?.getTime();
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
