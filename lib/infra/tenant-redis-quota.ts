import type { RedisConnection, RedisValue } from "./resp";
import {
  type TenantRedisAdmin,
  TenantRedisError,
  tenantRedisCommandRules,
  tenantRedisNames,
  withAdmin,
} from "./tenant-redis";

// Per-tenant memory quotas on the shared tenant Redis. Redis 7 has no per-user memory limit: `maxmemory` is global,
// so with `noeviction` one tenant filling the server makes writes fail for everyone. The platform holds each tenant
// under its own quota instead:
// - the server gets `maxmemory` = the configured total, `noeviction`, and bounded single writes
//   (`proto-max-bulk-len`, `client-query-buffer-limit`, `maxmemory-clients`), applied with CONFIG SET so external
//   servers get them too (applyTenantRedisServerLimits);
// - admission control (the domain, at create time) keeps the sum of tenants' quotas under the total minus headroom;
// - a periodic sweep (enforceTenantRedisQuotas) measures each tenant's keys and switches a tenant over its quota to
//   rules without write commands, except those that free memory, until a later complete measurement finds it
//   back under; then it restores the normal command rules exactly.
// Neither switch touches passwords, key or channel patterns: the command part of the rules is set on its own, so a
// password rotation racing the sweep can never be undone by it. ACL SETUSER changes apply to open connections at
// once, so no reconnect is needed either way.
//
// What this does not bound: writes between sweeps (TENANT_REDIS_HEADROOM_MB absorbs them: docs/configuration.md), and
// memory that is not in keys (client buffers, bounded separately by maxmemory-clients).

/** Write commands a tenant over quota keeps: they only delete or shrink data, so it can get back under. */
export const OVER_QUOTA_ALLOWED_COMMANDS = [
  "del",
  "unlink",
  "expire",
  "pexpire",
  "expireat",
  "pexpireat",
  "getdel",
  "hdel",
  "srem",
  "zrem",
  "zremrangebyscore",
  "zremrangebyrank",
  "zremrangebylex",
  "lrem",
  "ltrim",
  "lpop",
  "rpop",
  "spop",
  "zpopmin",
  "zpopmax",
  "xdel",
  "xtrim",
  "xack",
] as const;

/** The command rules of a tenant over its quota: normal ones, then no writes, then the freeing writes back. */
export function tenantRedisOverQuotaCommandRules(): string[] {
  return [...tenantRedisCommandRules(), "-@write", ...OVER_QUOTA_ALLOWED_COMMANDS.map((command) => `+${command}`)];
}

export type TenantRedisServerLimits = {
  /** The server's total (maxmemory); tenants' quotas must sum to less (admission control). */
  maxMemoryBytes: number;
  /** Largest single value (proto-max-bulk-len); Redis's minimum is 1 MiB. */
  maxValueBytes: number;
  /** All clients' buffers together (maxmemory-clients): past it Redis disconnects the clients using the most. */
  maxClientsMemoryBytes: number;
};

const MIB = 1024 * 1024;

/**
 * Sets the server-wide limits with CONFIG SET (idempotent; cheap enough to run on every sweep, so a restarted or
 * externally managed server converges too). The query buffer limit is twice the largest value, so a command with
 * one maximal value still fits while a pipeline of them does not pile up unbounded.
 */
export async function applyTenantRedisServerLimits(
  admin: TenantRedisAdmin,
  limits: TenantRedisServerLimits,
): Promise<void> {
  const { maxMemoryBytes, maxValueBytes, maxClientsMemoryBytes } = limits;
  for (const value of [maxMemoryBytes, maxValueBytes, maxClientsMemoryBytes]) {
    if (!Number.isSafeInteger(value) || value < MIB) {
      throw new TenantRedisError("invalid_argument", "quota", "invalid server limit");
    }
  }
  await withAdmin(admin, "quota", async (connection) => {
    const answer = await connection.command([
      "CONFIG",
      "SET",
      "maxmemory",
      maxMemoryBytes,
      "maxmemory-policy",
      "noeviction",
      "proto-max-bulk-len",
      maxValueBytes,
      "client-query-buffer-limit",
      Math.max(2 * maxValueBytes, 2 * MIB),
      "maxmemory-clients",
      maxClientsMemoryBytes,
    ]);
    if (answer !== "OK") throw new TenantRedisError("unexpected_reply", "quota", "CONFIG SET did not answer OK");
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Measuring

// One SCAN step and the MEMORY USAGE of each tenant key it returned, summed per `t_<32 hex>` prefix, inside the
// server: key names can be any bytes (the RESP client decodes UTF-8, so a binary key read back from SCAN would not
// be found again by MEMORY USAGE and its memory would go unseen). `no-writes` keeps the script runnable when the
// server is at maxmemory. Each call is short (one SCAN COUNT batch), so it never blocks the server for long.
const MEASURE_SCRIPT = `#!lua flags=no-writes
local reply = redis.call('SCAN', ARGV[1], 'COUNT', ARGV[2])
local sums = {}
local order = {}
for _, key in ipairs(reply[2]) do
  local prefix = string.match(key, '^(t_%x+):')
  if prefix and #prefix == 34 then
    local used = redis.call('MEMORY', 'USAGE', key) or 0
    if sums[prefix] == nil then
      sums[prefix] = 0
      table.insert(order, prefix)
    end
    sums[prefix] = sums[prefix] + used
  end
end
local out = {reply[1]}
for _, prefix in ipairs(order) do
  table.insert(out, prefix)
  table.insert(out, sums[prefix])
end
return out`;

/**
 * A measurement pass that may span several sweeps: the SCAN cursor and the sums so far. Keep one per server and
 * pass it to every sweep; a pass that ran out of time continues where it stopped.
 */
export type TenantRedisUsagePass = { cursor: string; partial: Map<string, number> };

export function newTenantRedisUsagePass(): TenantRedisUsagePass {
  return { cursor: "0", partial: new Map() };
}

function unexpected(what: string): TenantRedisError {
  return new TenantRedisError("unexpected_reply", "quota", what);
}

// Runs SCAN steps until the pass completes or the time budget is spent. Returns whether it completed; the sums
// per user are in `pass.partial` (lower bounds while incomplete).
async function scanUsage(
  connection: RedisConnection,
  pass: TenantRedisUsagePass,
  options: { batch: number; budgetMs: number; now: () => number },
): Promise<boolean> {
  const deadline = options.now() + options.budgetMs;
  do {
    const reply: RedisValue = await connection.command(["EVAL", MEASURE_SCRIPT, 0, pass.cursor, options.batch]);
    if (!Array.isArray(reply) || typeof reply[0] !== "string")
      throw unexpected("the usage script answered a bad shape");
    for (let i = 1; i + 1 < reply.length; i += 2) {
      const user = reply[i];
      const used = reply[i + 1];
      if (typeof user !== "string" || typeof used !== "number")
        throw unexpected("the usage script answered a bad pair");
      pass.partial.set(user, (pass.partial.get(user) ?? 0) + used);
    }
    pass.cursor = reply[0];
    if (pass.cursor === "0") return true;
  } while (options.now() < deadline);
  return false;
}

// ---------------------------------------------------------------------------------------------------------------
// Enforcing

export type TenantRedisQuotaChange = { resourceId: string; usedBytes: number; quotaBytes: number };

export type TenantRedisQuotaResult = {
  /** Whether this sweep finished a measurement pass; restores only happen on complete passes. */
  complete: boolean;
  /** Bytes per resource from the finished pass (or the lower bounds so far). */
  usage: Map<string, number>;
  restricted: TenantRedisQuotaChange[];
  restored: TenantRedisQuotaChange[];
};

// ACL DRYRUN answers OK when the user may run the command, a text when it may not, and an error for a missing user.
async function writeAllowed(connection: RedisConnection, user: string): Promise<boolean | null> {
  try {
    return (await connection.command(["ACL", "DRYRUN", user, "SET", `${user}:k`, "v"])) === "OK";
  } catch (err) {
    if (err instanceof Error && /not found|no such user/i.test(err.message)) return null;
    throw err;
  }
}

async function setCommandRules(connection: RedisConnection, user: string, rules: string[]): Promise<void> {
  const answer = await connection.command(["ACL", "SETUSER", user, ...rules]);
  if (answer !== "OK") throw unexpected("ACL SETUSER did not answer OK");
}

/**
 * Measures tenants' key memory and switches those over quota to no-write rules, and those back under to their
 * normal rules. `quotas` maps resource IDs to bytes; users not in it are measured for nobody and left alone.
 * Usage counts only keys (MEMORY USAGE, sampled for large aggregates), not connections or pub/sub buffers.
 *
 * An incomplete pass (time budget spent) still restricts a tenant whose partial sum is over its quota: the partial
 * sum can only grow. It never restores anyone: that needs a complete measurement.
 *
 * A user that does not exist (deprovisioned meanwhile) is skipped: ACL SETUSER would create it. What remains racy
 * (a deprovision between the check and the SETUSER) leaves an `off` user without password, which
 * tenant_services__sweep removes.
 */
export async function enforceTenantRedisQuotas(
  admin: TenantRedisAdmin,
  input: {
    quotas: ReadonlyMap<string, number>;
    pass: TenantRedisUsagePass;
    budgetMs?: number;
    batch?: number;
    now?: () => number;
  },
): Promise<TenantRedisQuotaResult> {
  const users = new Map<string, { resourceId: string; quotaBytes: number }>();
  for (const [resourceId, quotaBytes] of input.quotas) {
    if (!Number.isSafeInteger(quotaBytes) || quotaBytes < 0) {
      throw new TenantRedisError("invalid_argument", "quota", "invalid quota");
    }
    users.set(tenantRedisNames(resourceId).user, { resourceId, quotaBytes });
  }
  return withAdmin(admin, "quota", async (connection) => {
    const complete = await scanUsage(connection, input.pass, {
      batch: input.batch ?? 500,
      budgetMs: input.budgetMs ?? 1_000,
      now: input.now ?? Date.now,
    });
    const measured = input.pass.partial;
    if (complete) Object.assign(input.pass, newTenantRedisUsagePass());

    const usage = new Map<string, number>();
    const restricted: TenantRedisQuotaChange[] = [];
    const restored: TenantRedisQuotaChange[] = [];
    // Only users whose state may change are asked about, in one pipelined round of DRYRUNs.
    const candidates = [...users].filter(
      ([user, { quotaBytes }]) => complete || (measured.get(user) ?? 0) > quotaBytes,
    );
    const allowedNow = await Promise.all(candidates.map(([user]) => writeAllowed(connection, user)));
    for (const [user, { resourceId }] of users) usage.set(resourceId, measured.get(user) ?? 0);
    for (const [index, [user, { resourceId, quotaBytes }]] of candidates.entries()) {
      const usedBytes = measured.get(user) ?? 0;
      const over = usedBytes > quotaBytes;
      const allowed = allowedNow[index];
      if (allowed === null || allowed === undefined) continue;
      if (over && allowed) {
        await setCommandRules(connection, user, tenantRedisOverQuotaCommandRules());
        restricted.push({ resourceId, usedBytes, quotaBytes });
      } else if (!over && !allowed) {
        await setCommandRules(connection, user, tenantRedisCommandRules());
        restored.push({ resourceId, usedBytes, quotaBytes });
      }
    }
    return { complete, usage, restricted, restored };
  });
}
