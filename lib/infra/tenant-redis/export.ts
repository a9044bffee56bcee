import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { createInterface } from "node:readline";
import { z } from "zod";
import { type RedisBinaryValue, type RedisConnection, RedisReplyError } from "../resp";
import { withAdmin } from "./admin";
import { TenantRedisError, type TenantRedisOperation } from "./errors";
import { namesFor } from "./names";
import type { TenantRedisAdmin } from "./types";

// Export and import of one tenant's keys, for moving data between instances (issue #16; not a point-in-time backup:
// SCAN walks a live keyspace, so keys written during the walk may or may not be in it).
//
// The file is JSON lines, chosen because it streams both ways one key at a time, says what it is and which version,
// and needs no parser of our own:
//   {"format":"tussilago-redis-export","version":1,"exportedAt":<ms since epoch>}
//   {"k":"<base64 key name after the prefix>","ttl":<remaining ms at export, or null>,"d":"<base64 DUMP payload>"}
// Key names and values are bytes (base64), not text. DUMP payloads carry Redis's own RDB version and CRC64, so RESTORE
// refuses a damaged value. Key names are stored relative to the tenant's prefix and always re-prefixed with the
// target's on import: a line naming "../x" or another tenant's prefix only ever becomes a key under the target's own.
// TTLs are relative (never RESTORE's ABSTTL): the time since the export is subtracted and keys that expired meanwhile
// are skipped.

export const EXPORT_FORMAT = "tussilago-redis-export";
export const EXPORT_VERSION = 1;
const SCAN_BATCH = 500;
// A key name Redis accepts can be 512 MB; tenants' real ones are short. Longer ones in a file are refused.
const MAX_KEY_BYTES = 64 * 1024;

// Who to connect as: the admin URL (redis://user:password@host:port, as TENANT_REDIS_ADMIN_URL) or the parsed admin.
export type TenantRedisAdminTarget = { adminUrl: string } | { admin: TenantRedisAdmin };

function adminOf(operation: TenantRedisOperation, target: TenantRedisAdminTarget): TenantRedisAdmin {
  // Big values take longer than the default command timeout to DUMP or RESTORE.
  if ("admin" in target) return { commandTimeoutMs: 60_000, ...target.admin };
  return parseAdminUrl(operation, target.adminUrl);
}

function parseAdminUrl(operation: TenantRedisOperation, adminUrl: string): TenantRedisAdmin {
  let url: URL;
  try {
    url = new URL(adminUrl);
  } catch {
    throw new TenantRedisError("invalid_argument", operation, "invalid admin URL");
  }
  if (url.protocol !== "redis:" || !url.username || !url.password) {
    throw new TenantRedisError("invalid_argument", operation, "invalid admin URL");
  }
  return {
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port ? Number(url.port) : 6379,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    commandTimeoutMs: 60_000,
  };
}

/** MATCH pattern for keys that begin with `prefix`: glob characters in it are escaped. */
export function prefixPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, (char) => `\\${char}`)}*`;
}

function unexpected(operation: TenantRedisOperation, what: string): TenantRedisError {
  return new TenantRedisError("unexpected_reply", operation, `${what} answered an unexpected shape`);
}

/** Every key beginning with `prefix`, a SCAN batch at a time, as bytes (key names need not be UTF-8). */
async function* scanKeys(
  connection: RedisConnection,
  operation: TenantRedisOperation,
  prefix: string,
): AsyncGenerator<Buffer[]> {
  let cursor = "0";
  do {
    const reply = await connection.commandBinary(["SCAN", cursor, "MATCH", prefixPattern(prefix), "COUNT", SCAN_BATCH]);
    if (!Array.isArray(reply) || !Buffer.isBuffer(reply[0]) || !Array.isArray(reply[1])) {
      throw unexpected(operation, "SCAN");
    }
    yield reply[1].filter((key): key is Buffer => Buffer.isBuffer(key));
    cursor = reply[0].toString("latin1");
  } while (cursor !== "0");
}

async function writeLine(out: NodeJS.WritableStream, line: string): Promise<number> {
  const bytes = Buffer.byteLength(line) + 1;
  if (!out.write(`${line}\n`)) await once(out, "drain");
  return bytes;
}

export async function exportTenantRedis(
  i: TenantRedisAdminTarget & { resourceId: string; outFile: string },
): Promise<{ keys: number; bytes: number }> {
  const names = namesFor("export", i.resourceId);
  const admin = adminOf("export", i);
  const prefix = Buffer.from(`${names.keyPrefix}:`);
  const out = createWriteStream(i.outFile, { mode: 0o600 });
  const failed = once(out, "error").then(([error]) => {
    throw error;
  });
  const work = withAdmin(admin, "export", async (connection) => {
    let bytes = await writeLine(
      out,
      JSON.stringify({ format: EXPORT_FORMAT, version: EXPORT_VERSION, exportedAt: Date.now() }),
    );
    let keys = 0;
    // SCAN may return a key more than once; the set is bounded by what the tenant may store.
    const seen = new Set<string>();
    for await (const batch of scanKeys(connection, "export", `${names.keyPrefix}:`)) {
      for (const key of batch) {
        const relative = key.subarray(prefix.length).toString("base64");
        if (seen.has(relative)) continue;
        seen.add(relative);
        const payload = await connection.commandBinary(["DUMP", key]);
        const ttl = await connection.commandBinary(["PTTL", key]);
        // Gone since the SCAN (deleted or expired): nothing to carry over.
        if (payload === null || ttl === -2) continue;
        if (!Buffer.isBuffer(payload) || typeof ttl !== "number") throw unexpected("export", "DUMP or PTTL");
        const line = { k: relative, ttl: ttl >= 0 ? ttl : null, d: payload.toString("base64") };
        bytes += await writeLine(out, JSON.stringify(line));
        keys += 1;
      }
    }
    return { keys, bytes };
  });
  try {
    const result = await Promise.race([work, failed]);
    out.end();
    await once(out, "close");
    return result;
  } catch (error) {
    out.destroy();
    throw error;
  }
}

const headerSchema = z.object({
  format: z.literal(EXPORT_FORMAT),
  version: z.literal(EXPORT_VERSION),
  exportedAt: z.number().int().nonnegative(),
});
const entrySchema = z.object({
  k: z.base64().min(1),
  ttl: z.number().int().positive().nullable(),
  d: z.base64().min(1),
});

function restoreFailure(error: unknown, imported: number, lineNumber: number): never {
  if (error instanceof RedisReplyError && error.code === "OOM") {
    throw new TenantRedisError("out_of_memory", "import", `Redis answered OOM after ${imported} keys`, {
      code: "OOM",
    });
  }
  if (error instanceof RedisReplyError && /payload version or checksum/i.test(error.message)) {
    throw new TenantRedisError(
      "invalid_argument",
      "import",
      `line ${lineNumber}: a value is damaged or from a newer Redis`,
    );
  }
  throw error;
}

function expectInteger(value: RedisBinaryValue): number {
  if (typeof value !== "number") throw unexpected("import", "UNLINK");
  return value;
}

export async function importTenantRedis(
  i: TenantRedisAdminTarget & { resourceId: string; inFile: string; mode: "merge" | "replace" },
): Promise<{ keys: number }> {
  const names = namesFor("import", i.resourceId);
  const admin = adminOf("import", i);
  const prefix = Buffer.from(`${names.keyPrefix}:`);
  return withAdmin(admin, "import", async (connection) => {
    // Opened only now: readline drops the lines it reads before the loop below starts asking for them.
    const lines = createInterface({ input: createReadStream(i.inFile), crlfDelay: Number.POSITIVE_INFINITY });
    try {
      let header: z.infer<typeof headerSchema> | null = null;
      let imported = 0;
      let lineNumber = 0;
      for await (const line of lines) {
        lineNumber += 1;
        if (line === "") continue;
        let json: unknown;
        try {
          json = JSON.parse(line);
        } catch {
          throw new TenantRedisError("invalid_argument", "import", `line ${lineNumber} is not JSON`);
        }
        if (header === null) {
          const parsed = headerSchema.safeParse(json);
          if (!parsed.success)
            throw new TenantRedisError("invalid_argument", "import", "not a Redis export of this platform");
          header = parsed.data;
          // Only once the file proved to be an export: a wrong file must not empty the instance.
          if (i.mode === "replace") {
            for await (const batch of scanKeys(connection, "import", `${names.keyPrefix}:`)) {
              if (batch.length > 0) expectInteger(await connection.commandBinary(["UNLINK", ...batch]));
            }
          }
          continue;
        }
        const entry = entrySchema.safeParse(json);
        if (!entry.success) throw new TenantRedisError("invalid_argument", "import", `line ${lineNumber} is invalid`);
        const relative = Buffer.from(entry.data.k, "base64");
        if (relative.length === 0 || relative.length > MAX_KEY_BYTES) {
          throw new TenantRedisError("invalid_argument", "import", `line ${lineNumber} has an invalid key`);
        }
        let ttl = 0;
        if (entry.data.ttl !== null) {
          ttl = entry.data.ttl - Math.max(0, Date.now() - header.exportedAt);
          // Expired since the export: skipped, as it would be gone had it stayed.
          if (ttl <= 0) continue;
        }
        // Merge and replace alike: a key of the file overwrites the target's key of the same name.
        const key = Buffer.concat([prefix, relative]);
        try {
          await connection.commandBinary(["RESTORE", key, ttl, Buffer.from(entry.data.d, "base64"), "REPLACE"]);
        } catch (error) {
          restoreFailure(error, imported, lineNumber);
        }
        imported += 1;
      }
      if (header === null) throw new TenantRedisError("invalid_argument", "import", "the file is empty");
      return { keys: imported };
    } finally {
      lines.close();
    }
  });
}
