// HTTP metrics from Caddy's JSON access log (issue #17). Caddy writes every request of the tenant routes to
// <data dir>/logs/caddy/access.log (lib/infra/caddy/render.ts, accessLog) and rolls it by size; each sampler pass
// reads what was appended since the saved position and adds it to per-app, per-minute HttpMetric rows.
//
// The position is the file's identity (device and inode) and the byte offset after the last complete line, kept in
// MetricsIngestState. A different inode means Caddy rolled the file: the rest of the old one is read first when it
// is still beside the new one (found by its inode), then the new one from the start. A file shorter than the offset
// was truncated: read from the start. A last line without its newline is being written: left for the next pass. At
// most `maxBytes` are read per pass, so a burst is caught up over a few passes instead of one long one.
//
// Exactly once: the counts and the new position are written in one transaction, and only when the position is
// still the one read (two workers never count the same lines twice; the loser's pass writes nothing).
// Lines that do not parse (access-line.ts) are skipped and counted in `skipped`; requests for hosts no app has (the
// catch-all 404, a domain since removed) in `unmapped`.
import fs from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import type { Db } from "@/lib/db";
import { addSample } from "@/lib/domain/metrics-histogram";
import { Prisma } from "@/lib/generated/prisma/client";
import { type AccessEntry, MAX_LINE_BYTES, parseAccessLine } from "./access-line";
import { hostMap } from "./hosts";

export const INGEST_STATE_ID = "caddy-access";
export const DEFAULT_MAX_READ_BYTES = 8 * 1024 * 1024;

export type IngestDeps = {
  db: Db;
  /** The access log Caddy writes. */
  file: string;
  /** The apps domain, for the platform's own hostnames `<app>-<team slug>.<apps domain>`. */
  appsDomain: string;
  log: Logger;
  maxBytes?: number;
};

export type IngestReport = { lines: number; requests: number; skipped: number; unmapped: number; rows: number };

type Position = { inode: string | null; offset: number };
type Minute = {
  appId: string;
  start: number;
  requests: number;
  classes: [number, number, number, number, number];
  bytes: number;
  latency: number[];
};

const EMPTY: IngestReport = { lines: 0, requests: 0, skipped: 0, unmapped: 0, rows: 0 };

export async function ingestAccessLog(deps: IngestDeps): Promise<IngestReport> {
  const { db } = deps;
  const budget = deps.maxBytes ?? DEFAULT_MAX_READ_BYTES;
  const state = await db.metricsIngestState.findUnique({ where: { id: INGEST_STATE_ID } });
  const saved: Position = { inode: state?.inode ?? null, offset: Number(state?.offset ?? 0n) };
  const current = await identity(deps.file);
  if (current === null) return EMPTY;

  const lines: string[] = [];
  let skipped = 0;
  let position: Position;
  let remaining = budget;
  if (saved.inode !== null && saved.inode !== current.inode) {
    // Rolled: finish the old file if it is still here (Caddy renames it beside the new one), then start the new one.
    const old = await findByInode(deps.file, saved.inode);
    if (old !== null) {
      const chunk = await readLines(old, saved.offset, remaining, true);
      lines.push(...chunk.lines);
      skipped += chunk.oversized;
      remaining -= chunk.consumed;
      if (!chunk.done) {
        position = { inode: saved.inode, offset: saved.offset + chunk.consumed };
        return record(deps, state !== null, saved, position, lines, skipped);
      }
    }
    const chunk = await readLines(deps.file, 0, remaining, false);
    lines.push(...chunk.lines);
    skipped += chunk.oversized;
    position = { inode: current.inode, offset: chunk.consumed };
  } else {
    // Same file, or the first pass; a file shorter than the offset was truncated.
    const start = saved.offset > current.size ? 0 : saved.offset;
    const chunk = await readLines(deps.file, start, remaining, false);
    lines.push(...chunk.lines);
    skipped += chunk.oversized;
    position = { inode: current.inode, offset: start + chunk.consumed };
  }
  return record(deps, state !== null, saved, position, lines, skipped);
}

async function record(
  deps: IngestDeps,
  exists: boolean,
  saved: Position,
  position: Position,
  lines: string[],
  skippedBefore: number,
): Promise<IngestReport> {
  const { db } = deps;
  if (position.inode === saved.inode && position.offset === saved.offset && lines.length === 0 && skippedBefore === 0) {
    return EMPTY;
  }
  const entries: AccessEntry[] = [];
  let skipped = skippedBefore;
  for (const line of lines) {
    const entry = parseAccessLine(line);
    if (entry === null) skipped += 1;
    else entries.push(entry);
  }
  const hosts = entries.length > 0 ? await hostMap(db, deps.appsDomain) : new Map<string, string>();
  const minutes = new Map<string, Minute>();
  let unmapped = 0;
  for (const entry of entries) {
    const appId = hosts.get(entry.host);
    if (appId === undefined) {
      unmapped += 1;
      continue;
    }
    const start = Math.floor(entry.at / 60_000) * 60_000;
    const key = `${appId}/${start}`;
    let minute = minutes.get(key);
    if (minute === undefined) {
      minute = { appId, start, requests: 0, classes: [0, 0, 0, 0, 0], bytes: 0, latency: [] };
      minutes.set(key, minute);
    }
    minute.requests += 1;
    const klass = Math.floor(entry.status / 100) - 1;
    minute.classes[klass] = (minute.classes[klass] ?? 0) + 1;
    minute.bytes += entry.bytes;
    addSample(minute.latency, entry.durationMs);
  }
  const rows = [...minutes.values()];
  const written = await db.$transaction(async (tx) => {
    // The position first, conditional on being what was read: a concurrent pass that got there first wins.
    if (exists) {
      const moved = await tx.metricsIngestState.updateMany({
        where: { id: INGEST_STATE_ID, inode: saved.inode, offset: BigInt(saved.offset) },
        data: {
          inode: position.inode,
          offset: BigInt(position.offset),
          skipped: { increment: BigInt(skipped) },
          unmapped: { increment: BigInt(unmapped) },
        },
      });
      if (moved.count === 0) return false;
    } else {
      const created = await tx.metricsIngestState.createMany({
        data: [
          {
            id: INGEST_STATE_ID,
            inode: position.inode,
            offset: BigInt(position.offset),
            skipped: BigInt(skipped),
            unmapped: BigInt(unmapped),
          },
        ],
        skipDuplicates: true,
      });
      if (created.count === 0) return false;
    }
    if (rows.length > 0) await addMinutes(tx, rows);
    return true;
  });
  if (!written) {
    deps.log.debug("access log: another pass moved the position first");
    return EMPTY;
  }
  return { lines: lines.length, requests: entries.length - unmapped, skipped, unmapped, rows: rows.length };
}

type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

/** One statement for every (app, minute): counts added to what earlier passes wrote, histograms added bucket-wise. */
async function addMinutes(tx: Tx, rows: Minute[]): Promise<void> {
  const values = rows.map(
    (row) =>
      Prisma.sql`(${row.appId}::uuid, 60, ${new Date(row.start)}, ${row.requests}, ${row.classes[0]}, ${row.classes[1]},
        ${row.classes[2]}, ${row.classes[3]}, ${row.classes[4]}, ${BigInt(row.bytes)}, ${row.latency}::int[])`,
  );
  await tx.$executeRaw`
    INSERT INTO "HttpMetric" AS "m" ("appId", "step", "start", "requests", "status1xx", "status2xx", "status3xx",
      "status4xx", "status5xx", "bytes", "latency")
    VALUES ${Prisma.join(values)}
    ON CONFLICT ("appId", "step", "start") DO UPDATE SET
      "requests" = "m"."requests" + EXCLUDED."requests",
      "status1xx" = "m"."status1xx" + EXCLUDED."status1xx",
      "status2xx" = "m"."status2xx" + EXCLUDED."status2xx",
      "status3xx" = "m"."status3xx" + EXCLUDED."status3xx",
      "status4xx" = "m"."status4xx" + EXCLUDED."status4xx",
      "status5xx" = "m"."status5xx" + EXCLUDED."status5xx",
      "bytes" = "m"."bytes" + EXCLUDED."bytes",
      "latency" = ARRAY(
        SELECT coalesce("a", 0) + coalesce("b", 0)
        FROM unnest("m"."latency", EXCLUDED."latency") WITH ORDINALITY AS "u"("a", "b", "i")
        ORDER BY "i"
      )`;
}

async function identity(file: string): Promise<{ inode: string; size: number } | null> {
  try {
    const stat = await fs.stat(file);
    return { inode: `${stat.dev}:${stat.ino}`, size: stat.size };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/** The rolled file with this identity in the log's directory, if it is still there uncompressed. */
async function findByInode(file: string, inode: string): Promise<string | null> {
  const dir = path.dirname(file);
  const base = path.basename(file, path.extname(file));
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return null;
  }
  for (const name of names) {
    if (!name.startsWith(base) || name.endsWith(".gz")) continue;
    const candidate = path.join(dir, name);
    if (candidate === file) continue;
    if ((await identity(candidate))?.inode === inode) return candidate;
  }
  return null;
}

type Chunk = { lines: string[]; consumed: number; oversized: number; done: boolean };

/**
 * Complete lines from `offset`, reading at most `budget` bytes. `final`: the file is no longer written to, so a
 * last line without its newline is complete. Lines over MAX_LINE_BYTES are skipped (counted in `oversized`).
 */
async function readLines(file: string, offset: number, budget: number, final: boolean): Promise<Chunk> {
  const handle = await fs.open(file, "r");
  try {
    const size = (await handle.stat()).size;
    const length = Math.max(0, Math.min(size - offset, budget));
    const buffer = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
      const { bytesRead } = await handle.read(buffer, read, length - read, offset + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    const reachedEnd = offset + read >= size;
    const lines: string[] = [];
    let oversized = 0;
    let start = 0;
    for (;;) {
      const newline = buffer.indexOf(0x0a, start);
      if (newline === -1 || newline >= read) break;
      const bytes = newline - start;
      if (bytes > MAX_LINE_BYTES) oversized += 1;
      else if (bytes > 0) lines.push(buffer.toString("utf8", start, newline));
      start = newline + 1;
    }
    if (start < read) {
      const tail = read - start;
      if (final && reachedEnd) {
        // The end of a rolled file: its last line is all there will ever be.
        if (tail > MAX_LINE_BYTES) oversized += 1;
        else lines.push(buffer.toString("utf8", start, read));
        start = read;
      } else if (tail >= budget || tail > MAX_LINE_BYTES) {
        // A line longer than a whole read or than any line worth parsing: skip it without holding the position.
        oversized += 1;
        start = read;
      }
    }
    return { lines, consumed: start, oversized, done: reachedEnd && start === read };
  } finally {
    await handle.close();
  }
}
