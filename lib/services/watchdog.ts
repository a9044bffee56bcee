// The worker's watchdog: a loop that enforces, from the platform side, the limits a tenant could otherwise lift or
// overrun on the shared tenant servers (docs/security.md, "Tenant PostgreSQL", "Tenant Redis"):
// - PostgreSQL: statements running longer than the team's statementTimeoutS are cancelled, and sessions idle in a
//   transaction longer than their database's idleInTransactionMs are terminated, whatever the session SET
//   (lib/infra/tenant-postgres-watchdog.ts). The role defaults stay in place as the first line.
// - Redis: the server gets maxmemory, noeviction and bounded single writes, and each instance over its quota
//   (the team's redisMemoryMb) loses its write commands until it is back under (lib/infra/tenant-redis-quota.ts).
// Each part reads its rows and their teams' quotas in a constant number of queries, fails on its own (an
// unreachable Redis does not stop PostgreSQL enforcement), backs off exponentially (bounded) while its server is
// unreachable, and never throws out of a tick: the worker must not crash because a tenant server is down.
import type { Logger } from "pino";
import type { Db } from "@/lib/db";
import { TenantPostgresError, tenantNames } from "@/lib/infra/tenant-postgres";
import { enforceTenantSessionLimits, type TenantSessionLimits } from "@/lib/infra/tenant-postgres-watchdog";
import { TenantRedisError } from "@/lib/infra/tenant-redis";
import {
  applyTenantRedisServerLimits,
  enforceTenantRedisQuotas,
  newTenantRedisUsagePass,
  type TenantRedisQuotaChange,
  type TenantRedisServerLimits,
} from "@/lib/infra/tenant-redis-quota";
import type { TenantPostgresConfig, TenantRedisConfig } from "@/lib/services/tenant-services";

/** The part of a team's quotas the watchdog enforces (lib/domain/quotas.ts, Quotas). */
export type WatchdogQuotas = { statementTimeoutS: number; redisMemoryMb: number };

export type WatchdogDeps = {
  db: Db;
  log: Logger;
  postgres: TenantPostgresConfig | null;
  redis: TenantRedisConfig | null;
  redisServerLimits: TenantRedisServerLimits;
  /** effectiveQuotasForTeams from lib/domain/quotas.ts: one lookup for all teams, in constant queries. */
  quotasForTeams: (db: Db, teamIds: string[]) => Promise<Map<string, WatchdogQuotas>>;
  intervalMs: number;
  now?: () => number;
};

export type WatchdogTickReport = {
  postgres: "ok" | "failed" | "skipped" | "off";
  redis: "ok" | "failed" | "skipped" | "off";
};

export type Watchdog = {
  /** One round of both parts; never throws. Exported for tests, which drive it directly. */
  tick(): Promise<WatchdogTickReport>;
  start(): void;
  /** Stops the loop and waits for a running tick. */
  stop(): Promise<void>;
};

// Backoff while a server is unreachable: the interval doubled per consecutive failure, up to five minutes.
const MAX_BACKOFF_MS = 5 * 60_000;
const MIB = 1024 * 1024;

type Backoff = { failures: number; nextAttemptAt: number };

function failureFields(error: unknown): Record<string, unknown> {
  if (error instanceof TenantPostgresError || error instanceof TenantRedisError) return { failure: error.toLog() };
  return { err: error };
}

export function createWatchdog(deps: WatchdogDeps): Watchdog {
  const now = deps.now ?? Date.now;
  const log = deps.log.child({ component: "watchdog" });
  const backoff: Record<"postgres" | "redis", Backoff> = {
    postgres: { failures: 0, nextAttemptAt: 0 },
    redis: { failures: 0, nextAttemptAt: 0 },
  };
  // The Redis measurement pass continues across ticks when one tick's time budget does not cover the keyspace.
  let redisPass = newTenantRedisUsagePass();

  async function guarded(part: "postgres" | "redis", run: () => Promise<void>): Promise<"ok" | "failed" | "skipped"> {
    const state = backoff[part];
    if (now() < state.nextAttemptAt) return "skipped";
    try {
      await run();
      if (state.failures > 0) log.info({ part, failures: state.failures }, "watchdog: tenant server reachable again");
      state.failures = 0;
      state.nextAttemptAt = 0;
      return "ok";
    } catch (error) {
      state.failures += 1;
      const delayMs = Math.min(deps.intervalMs * 2 ** state.failures, MAX_BACKOFF_MS);
      state.nextAttemptAt = now() + delayMs;
      log.warn(
        { part, failures: state.failures, retryInMs: delayMs, ...failureFields(error) },
        "watchdog: could not enforce tenant limits; backing off",
      );
      return "failed";
    }
  }

  async function enforcePostgres(config: TenantPostgresConfig): Promise<void> {
    const databases = await deps.db.tenantDatabase.findMany({
      select: { id: true, teamId: true, idleInTransactionMs: true },
      orderBy: { id: "asc" },
    });
    if (databases.length === 0) return;
    const quotas = await deps.quotasForTeams(deps.db, [...new Set(databases.map((row) => row.teamId))]);
    const limits = new Map<string, TenantSessionLimits>();
    const byRole = new Map<string, { databaseId: string; teamId: string }>();
    for (const row of databases) {
      const quota = quotas.get(row.teamId);
      if (!quota) continue;
      const role = tenantNames(row.id, "inspect").role;
      limits.set(role, {
        statementTimeoutMs: quota.statementTimeoutS * 1000,
        idleInTransactionMs: row.idleInTransactionMs,
      });
      byRole.set(role, { databaseId: row.id, teamId: row.teamId });
    }
    const actions = await enforceTenantSessionLimits(config.adminUrl, limits);
    for (const action of actions) {
      const owner = byRole.get(action.role);
      const limit = limits.get(action.role);
      // IDs and durations only: never the statement, which is the tenant's and may carry its data.
      const fields = { ...owner, pid: action.pid, elapsedMs: action.elapsedMs, signalled: action.signalled };
      if (action.action === "cancel") {
        log.info(
          { ...fields, limitMs: limit?.statementTimeoutMs },
          "watchdog: tenant statement cancelled (time limit)",
        );
      } else {
        log.info(
          { ...fields, limitMs: limit?.idleInTransactionMs },
          "watchdog: tenant session terminated (idle in transaction)",
        );
      }
    }
  }

  async function enforceRedis(config: TenantRedisConfig): Promise<void> {
    // Every tick, so a restarted or external server converges; one cheap CONFIG SET.
    await applyTenantRedisServerLimits(config.admin, deps.redisServerLimits);
    const instances = await deps.db.tenantRedis.findMany({
      select: { id: true, teamId: true },
      orderBy: { id: "asc" },
    });
    if (instances.length === 0) return;
    const quotas = await deps.quotasForTeams(deps.db, [...new Set(instances.map((row) => row.teamId))]);
    const quotaBytes = new Map<string, number>();
    const teamOf = new Map<string, string>();
    for (const row of instances) {
      const quota = quotas.get(row.teamId);
      if (!quota) continue;
      // Per instance: each Redis instance of the team may hold up to redisMemoryMb.
      quotaBytes.set(row.id, quota.redisMemoryMb * MIB);
      teamOf.set(row.id, row.teamId);
    }
    const result = await enforceTenantRedisQuotas(config.admin, {
      quotas: quotaBytes,
      pass: redisPass,
      // At most a fifth of the period measuring, so the loop keeps its rhythm on a large keyspace.
      budgetMs: Math.max(50, Math.floor(deps.intervalMs / 5)),
    });
    const fields = ({ resourceId, usedBytes, quotaBytes }: TenantRedisQuotaChange) => ({
      teamId: teamOf.get(resourceId),
      redisId: resourceId,
      usedBytes,
      quotaBytes,
    });
    for (const change of result.restricted) {
      log.warn(fields(change), "watchdog: Redis instance over its memory quota; writes refused until it frees memory");
    }
    for (const change of result.restored) {
      log.info(fields(change), "watchdog: Redis instance back under its memory quota; writes allowed again");
    }
  }

  async function tick(): Promise<WatchdogTickReport> {
    const { postgres, redis } = deps;
    const [pg, rd] = await Promise.all([
      postgres ? guarded("postgres", () => enforcePostgres(postgres)) : Promise.resolve("off" as const),
      redis
        ? guarded("redis", async () => {
            try {
              await enforceRedis(redis);
            } catch (error) {
              // The server may have restarted: a cursor from before means nothing to it.
              redisPass = newTenantRedisUsagePass();
              throw error;
            }
          })
        : Promise.resolve("off" as const),
    ]);
    return { postgres: pg, redis: rd };
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    // A chain of timeouts rather than an interval: a slow tick delays the next one instead of overlapping it.
    timer = setTimeout(() => {
      running = tick().finally(schedule);
    }, deps.intervalMs);
    timer.unref();
  };

  return {
    tick,
    start() {
      stopped = false;
      log.info(
        { intervalMs: deps.intervalMs, postgres: deps.postgres !== null, redis: deps.redis !== null },
        "watchdog started",
      );
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}
