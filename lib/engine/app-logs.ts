// Runtime logs of an app's containers. Requests never run podman (docs/architecture.md): the worker copies what live
// replicas printed into <dataDir>/logs/apps/<appId>.log (collectAppLogs, run by the app__collect_logs job that a
// reader's poll asks for), and the API reads that file (readAppLogLines in lib/app-log-file.ts, which holds the
// format). Each line is labelled with the replica's process type and index only: container names, host ports and host paths never
// reach the file's readers.
import fs from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { z } from "zod";
import { encodeAppLogLine } from "@/lib/app-log-file";
import { appLogCursorPath, appLogPath } from "@/lib/data-paths";
import type { Db } from "@/lib/db";
import type { Podman } from "@/lib/infra/podman";

/** The file keeps at most this much; when it grows past it, the older half goes. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;
/** Lines fetched per container and collection: the first collection of a container, and then since the cursor. */
const FIRST_TAIL = 500;
const NEXT_TAIL = 5_000;
const MAX_LINE_CHARS = 8_192;

/** Per container: the newest timestamp already copied, as podman printed it and in milliseconds. */
const cursorSchema = z.record(z.string(), z.object({ ms: z.number(), raw: z.string() }));
type Cursor = z.infer<typeof cursorSchema>;

type Entry = { ms: number; raw: string; replica: number; process: string; stream: "stdout" | "stderr"; text: string };

async function readCursor(file: string): Promise<Cursor> {
  try {
    const parsed = cursorSchema.safeParse(JSON.parse(await fs.readFile(file, "utf8")));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

/** `podman logs --timestamps` prefixes each line with an RFC 3339 timestamp (nanoseconds) and a space. */
function parseLines(text: string, stream: "stdout" | "stderr", replica: number, process: string): Entry[] {
  const entries: Entry[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const space = line.indexOf(" ");
    const raw = space === -1 ? line : line.slice(0, space);
    const ms = Date.parse(raw);
    if (Number.isNaN(ms)) continue;
    entries.push({
      ms,
      raw,
      replica,
      process,
      stream,
      text: (space === -1 ? "" : line.slice(space + 1)).slice(0, MAX_LINE_CHARS),
    });
  }
  return entries;
}

function isNewer(entry: Entry, seen: { ms: number; raw: string } | undefined): boolean {
  if (!seen) return true;
  // Same millisecond: podman's nanoseconds decide (same format within one container's log).
  return entry.ms > seen.ms || (entry.ms === seen.ms && entry.raw > seen.raw);
}

async function trim(file: string): Promise<void> {
  const stat = await fs.stat(file).catch(() => null);
  if (!stat || stat.size <= MAX_FILE_BYTES) return;
  const text = await fs.readFile(file, "utf8");
  const kept = text.slice(text.length - Math.floor(MAX_FILE_BYTES / 2));
  const tmp = `${file}.tmp`;
  await fs.writeFile(tmp, kept.slice(kept.indexOf("\n") + 1), { mode: 0o600 });
  await fs.rename(tmp, file);
}

/**
 * Appends what the app's live replicas printed since the last collection. Best effort by design: a container that
 * is already gone has nothing more to give. Answers the number of lines appended.
 */
export async function collectAppLogs(
  deps: { db: Db; podman: Pick<Podman, "logs">; dataDir: string; log?: Logger },
  appId: string,
  options: {
    /** Only these containers (e.g. the ones about to be removed); the others keep their cursors. */
    containers?: string[];
    /** Skip apps whose logs nobody has read yet (no cursor file). */
    onlyIfRead?: boolean;
  } = {},
): Promise<number> {
  const file = appLogPath(deps.dataDir, appId);
  const cursorFile = appLogCursorPath(deps.dataDir, appId);
  if (options.onlyIfRead && !(await fs.stat(cursorFile).catch(() => null))) return 0;
  const replicas = await deps.db.replica.findMany({
    where: { appId, status: { in: ["starting", "healthy", "draining"] } },
    orderBy: { index: "asc" },
    select: { containerName: true, index: true, process: true },
  });
  const cursor = await readCursor(cursorFile);
  const next: Cursor = {};
  const wanted = options.containers ? new Set(options.containers) : null;
  const fresh: Entry[] = [];
  for (const replica of replicas) {
    const kept = cursor[replica.containerName];
    if (wanted && !wanted.has(replica.containerName)) {
      if (kept) next[replica.containerName] = kept;
      continue;
    }
    const seen = cursor[replica.containerName];
    const logs = await deps.podman.logs(replica.containerName, {
      timestamps: true,
      tail: seen ? NEXT_TAIL : FIRST_TAIL,
      ...(seen ? { since: new Date(seen.ms) } : {}),
    });
    let newest = seen;
    if (logs) {
      const entries = [
        ...parseLines(logs.stdout, "stdout", replica.index, replica.process),
        ...parseLines(logs.stderr, "stderr", replica.index, replica.process),
      ].filter((entry) => isNewer(entry, seen));
      for (const entry of entries) if (isNewer(entry, newest)) newest = { ms: entry.ms, raw: entry.raw };
      fresh.push(...entries);
    }
    if (newest) next[replica.containerName] = newest;
  }
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  if (fresh.length > 0) {
    fresh.sort((a, b) => a.ms - b.ms || (a.raw < b.raw ? -1 : a.raw > b.raw ? 1 : a.replica - b.replica));
    const text = fresh
      .map((entry) =>
        encodeAppLogLine({
          time: new Date(entry.ms).toISOString(),
          replica: entry.replica,
          process: entry.process,
          stream: entry.stream,
          text: entry.text,
        }),
      )
      .join("\n");
    await fs.appendFile(file, `${text}\n`, { mode: 0o600 });
    await trim(file);
  }
  // Only containers still live keep a cursor, so the file does not grow with every container ever run.
  await fs.writeFile(cursorFile, JSON.stringify(next), { mode: 0o600 });
  deps.log?.debug({ appId, lines: fresh.length }, "app logs collected");
  return fresh.length;
}
