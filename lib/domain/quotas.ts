// Per-team quotas: one tenant must not starve the others of the shared servers, the worker or the disk. Each quota is
// the team's override (TeamQuota, set by the instance admin), else the instance default (InstanceQuota, same admin),
// else the environment's default (TUSSILAGO_QUOTA_*). The checks run inside the creating transaction after the
// team's row is locked, so two creations at the limit cannot both pass (a count alone would let both through).
import type { Db, Tx } from "@/lib/db";
import { desiredCounts, processTypesOf } from "@/lib/domain/processes";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import type { InstanceQuota, TeamQuota } from "@/lib/generated/prisma/client";

export type Quotas = {
  apps: number;
  databases: number;
  redis: number;
  dbConnections: number;
  uploadBytes: number;
  concurrentBuilds: number;
  redisMemoryMb: number;
  statementTimeoutS: number;
  teamsPerUser: number;
  domains: number;
  cronJobs: number;
  concurrentRuns: number;
  processes: number;
  backups: number;
  notificationChannels: number;
};

export type QuotaName = keyof Quotas;

/** The stored override fields (uploads are stored in MiB), shared by InstanceQuota and TeamQuota. */
type OverrideRow = Partial<Pick<InstanceQuota, "teamsPerUser">> &
  Pick<
    TeamQuota,
    | "apps"
    | "databases"
    | "redis"
    | "dbConnections"
    | "uploadMb"
    | "concurrentBuilds"
    | "redisMemoryMb"
    | "statementTimeoutS"
    | "domains"
    | "cronJobs"
    | "concurrentRuns"
    | "processes"
    | "backups"
    | "notificationChannels"
  >;

const MIB = 1024 * 1024;
export const INSTANCE_QUOTA_ID = "instance";

type Reader = Db | Tx;

function applyOverrides(base: Quotas, row: OverrideRow | null | undefined): Quotas {
  if (!row) return base;
  return {
    apps: row.apps ?? base.apps,
    databases: row.databases ?? base.databases,
    redis: row.redis ?? base.redis,
    dbConnections: row.dbConnections ?? base.dbConnections,
    uploadBytes: row.uploadMb === null ? base.uploadBytes : row.uploadMb * MIB,
    concurrentBuilds: row.concurrentBuilds ?? base.concurrentBuilds,
    redisMemoryMb: row.redisMemoryMb ?? base.redisMemoryMb,
    statementTimeoutS: row.statementTimeoutS ?? base.statementTimeoutS,
    teamsPerUser: row.teamsPerUser ?? base.teamsPerUser,
    domains: row.domains ?? base.domains,
    cronJobs: row.cronJobs ?? base.cronJobs,
    concurrentRuns: row.concurrentRuns ?? base.concurrentRuns,
    processes: row.processes ?? base.processes,
    backups: row.backups ?? base.backups,
    notificationChannels: row.notificationChannels ?? base.notificationChannels,
  };
}

/** The instance defaults: the environment's, overridden by the instance admin's. One query. */
export async function instanceQuotas(db: Reader): Promise<Quotas> {
  const row = await db.instanceQuota.findUnique({ where: { id: INSTANCE_QUOTA_ID } });
  return applyOverrides({ ...getEnv().quotaDefaults }, row);
}

/** A team's quotas. Two queries. `teamsPerUser` is instance-wide (a user's teams are not one team's business). */
export async function effectiveQuotas(db: Reader, teamId: string): Promise<Quotas> {
  const quotas = await effectiveQuotasForTeams(db, [teamId]);
  return quotas.get(teamId) ?? (await instanceQuotas(db));
}

/** The quotas of many teams: two queries whatever their number. Unknown teams get the instance defaults. */
export async function effectiveQuotasForTeams(db: Reader, teamIds: string[]): Promise<Map<string, Quotas>> {
  const base = await instanceQuotas(db);
  const unique = [...new Set(teamIds)];
  const rows = unique.length === 0 ? [] : await db.teamQuota.findMany({ where: { teamId: { in: unique } } });
  const byTeam = new Map(rows.map((row) => [row.teamId, row]));
  return new Map(
    unique.map((teamId) => [teamId, { ...applyOverrides(base, byTeam.get(teamId)), teamsPerUser: base.teamsPerUser }]),
  );
}

const NOUN: Record<QuotaName, [string, string]> = {
  apps: ["app", "apps"],
  databases: ["database", "databases"],
  redis: ["Redis instance", "Redis instances"],
  dbConnections: ["database connection", "database connections"],
  uploadBytes: ["MiB of uploads", "MiB of uploads"],
  concurrentBuilds: ["concurrent build", "concurrent builds"],
  redisMemoryMb: ["MiB of Redis memory", "MiB of Redis memory"],
  statementTimeoutS: ["second of statement time", "seconds of statement time"],
  teamsPerUser: ["team", "teams"],
  domains: ["custom domain", "custom domains"],
  cronJobs: ["cron job", "cron jobs"],
  concurrentRuns: ["concurrent run", "concurrent runs"],
  processes: ["process container", "process containers"],
  backups: ["kept manual backup", "kept manual backups"],
  notificationChannels: ["notification channel", "notification channels"],
};

/** The 409 every quota refusal answers: names the quota and its limit; details `{ quota, limit }`. */
export function quotaExceeded(quota: QuotaName, limit: number, extra = ""): AppError {
  const shown = quota === "uploadBytes" ? Math.floor(limit / MIB) : limit;
  const noun = NOUN[quota][shown === 1 ? 0 : 1];
  const whose = quota === "teamsPerUser" ? "Your quota" : "Your team's quota";
  return new AppError(
    "quota_exceeded",
    `${whose} of ${shown} ${noun} is reached${extra} (instance admins can raise it).`,
    { details: { quota, limit } },
  );
}

/**
 * Serializes the team's quota checks until the transaction ends. FOR NO KEY UPDATE, not FOR UPDATE: inserts that
 * reference the team (audit events, operations) take KEY SHARE locks, which this does not block or deadlock with.
 */
export async function lockTeamForQuota(tx: Tx, teamId: string): Promise<void> {
  const rows = await tx.$queryRaw<{ id: string }[]>`
    SELECT id FROM "Team" WHERE id = ${teamId}::uuid FOR NO KEY UPDATE`;
  if (rows.length === 0) throw new AppError("not_found", "Team not found.");
}

export async function enforceAppQuota(tx: Tx, teamId: string): Promise<void> {
  await lockTeamForQuota(tx, teamId);
  const quotas = await effectiveQuotas(tx, teamId);
  const count = await tx.app.count({ where: { teamId } });
  if (count >= quotas.apps) throw quotaExceeded("apps", quotas.apps);
}

export async function enforceNotificationChannelQuota(tx: Tx, teamId: string): Promise<void> {
  await lockTeamForQuota(tx, teamId);
  const quotas = await effectiveQuotas(tx, teamId);
  const count = await tx.notificationChannel.count({ where: { teamId } });
  if (count >= quotas.notificationChannels) throw quotaExceeded("notificationChannels", quotas.notificationChannels);
}

export async function enforceDomainQuota(tx: Tx, teamId: string): Promise<void> {
  await lockTeamForQuota(tx, teamId);
  const quotas = await effectiveQuotas(tx, teamId);
  const count = await tx.domain.count({ where: { teamId } });
  if (count >= quotas.domains) throw quotaExceeded("domains", quotas.domains);
}

/** An app's cron jobs are replaced by `count` new ones: the team's jobs on its other apps plus these must fit. */
export async function enforceCronJobQuota(tx: Tx, teamId: string, appId: string, count: number): Promise<void> {
  await lockTeamForQuota(tx, teamId);
  const quotas = await effectiveQuotas(tx, teamId);
  const others = await tx.cronJob.count({ where: { app: { teamId }, appId: { not: appId } } });
  if (others + count > quotas.cronJobs) throw quotaExceeded("cronJobs", quotas.cronJobs, " (on all the team's apps)");
}

/**
 * The containers the team's apps want (every process type of each app's current release, web alone before one),
 * with `appId` counted as `total` instead: refused when that grows past the quota. A change that does not add
 * containers always passes, so a team over a lowered quota can still scale down.
 */
export async function enforceProcessQuota(tx: Tx, teamId: string, appId: string | null, total: number): Promise<void> {
  await lockTeamForQuota(tx, teamId);
  const quotas = await effectiveQuotas(tx, teamId);
  const apps = await tx.app.findMany({
    where: { teamId, status: { not: "deleting" } },
    select: { id: true, replicas: true, processes: true, processTypes: true },
  });
  const sum = (app: (typeof apps)[number]) =>
    Object.values(desiredCounts(app, processTypesOf(app))).reduce((acc, count) => acc + count, 0);
  const others = apps.filter((app) => app.id !== appId).reduce((acc, app) => acc + sum(app), 0);
  const current = apps.find((app) => app.id === appId);
  if (current && total <= sum(current)) return;
  if (others + total > quotas.processes) {
    throw quotaExceeded("processes", quotas.processes, " (on all the team's apps)");
  }
}

/**
 * Manual backups the team keeps (any status but failed, whether or not their database still exists). Scheduled
 * backups are bounded by each database's retention and safety backups are taken by the platform before a restore, so
 * neither counts: a full quota never stops the schedule or a restore.
 */
export async function enforceBackupQuota(tx: Tx, teamId: string): Promise<void> {
  await lockTeamForQuota(tx, teamId);
  const quotas = await effectiveQuotas(tx, teamId);
  const count = await tx.backup.count({ where: { teamId, trigger: "manual", status: { not: "failed" } } });
  if (count >= quotas.backups) throw quotaExceeded("backups", quotas.backups);
}

/** Runs queued or running count against the team's concurrent runs; finished, skipped and missed ones do not. */
export async function concurrentRunRoom(tx: Tx, teamId: string): Promise<{ active: number; limit: number }> {
  await lockTeamForQuota(tx, teamId);
  const quotas = await effectiveQuotas(tx, teamId);
  const active = await tx.run.count({ where: { teamId, status: { in: ["queued", "running"] } } });
  return { active, limit: quotas.concurrentRuns };
}

export async function enforceConcurrentRunQuota(tx: Tx, teamId: string): Promise<void> {
  const { active, limit } = await concurrentRunRoom(tx, teamId);
  if (active >= limit) throw quotaExceeded("concurrentRuns", limit, ": wait for a run to finish or cancel one");
}

export async function enforceRedisQuota(tx: Tx, teamId: string): Promise<void> {
  await lockTeamForQuota(tx, teamId);
  const quotas = await effectiveQuotas(tx, teamId);
  const count = await tx.tenantRedis.count({ where: { teamId } });
  if (count >= quotas.redis) throw quotaExceeded("redis", quotas.redis);
  await lockRedisMemoryBudget(tx);
  const committed = await redisMemoryCommitted(tx);
  if (committed + quotas.redisMemoryMb * MIB > tenantRedisMemoryBudget()) throw redisMemoryBudgetExceeded();
}

// The instance-wide lock over the shared Redis's memory budget (transaction-scoped, like the connections lock).
const TENANT_REDIS_MEMORY_LOCK = 7_341_020_261_204n;

/** What all tenants' Redis memory quotas together may reach: the shared server's maxmemory minus its headroom. */
export function tenantRedisMemoryBudget(): number {
  return getEnv().tenantServices.redisQuotaBudgetBytes;
}

export async function lockRedisMemoryBudget(tx: Tx): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${TENANT_REDIS_MEMORY_LOCK}::bigint)`;
}

/**
 * Bytes the shared Redis has promised: every instance may hold its team's current `redisMemoryMb` (the watchdog in
 * lib/services/watchdog.ts enforces each one). Admission keeps the sum under maxmemory minus headroom, so tenants that
 * stay within their quotas can never fill the server for the others. Three queries, whatever the number of teams.
 */
export async function redisMemoryCommitted(tx: Reader): Promise<number> {
  const perTeam = await tx.tenantRedis.groupBy({ by: ["teamId"], _count: { _all: true } });
  const quotas = await effectiveQuotasForTeams(
    tx,
    perTeam.map((row) => row.teamId),
  );
  return perTeam.reduce((sum, row) => sum + row._count._all * (quotas.get(row.teamId)?.redisMemoryMb ?? 0) * MIB, 0);
}

export function redisMemoryBudgetExceeded(): AppError {
  const budgetMb = Math.floor(tenantRedisMemoryBudget() / MIB);
  return new AppError(
    "quota_exceeded",
    `The tenant Redis server has no memory left for this: all Redis instances share ${budgetMb} MiB (instance admins can raise TENANT_REDIS_MAXMEMORY_MB or lower Redis memory quotas).`,
    { details: { quota: "tenantRedisMemory", limit: budgetMb } },
  );
}

// Any constant shared by every process: the transaction-level advisory lock over the instance-wide connection budget.
// Transaction-scoped, so it is safe behind PgBouncer in transaction mode (lib/db.ts) and cannot leak past a crash.
const TENANT_CONNECTIONS_LOCK = 7_341_020_261_203n;

/** What the sum of all tenant databases' connection limits may reach: max_connections minus the platform's share. */
export function tenantConnectionBudget(): number {
  const { pgMaxConnections, pgReservedConnections } = getEnv().tenantServices;
  return Math.max(0, pgMaxConnections - pgReservedConnections);
}

/**
 * A database is created (`previousLimit` null) or its connection limit changes from `previousLimit` to `newLimit`.
 * Checks the team's database count (on creation), the team's connection sum, and the instance-wide sum against the
 * tenant server's budget. Lowering a limit is always allowed. Lock order: team row, then the instance lock.
 */
export async function enforceDatabaseQuota(
  tx: Tx,
  teamId: string,
  change: { newLimit: number; previousLimit: number | null },
): Promise<void> {
  await lockTeamForQuota(tx, teamId);
  const quotas = await effectiveQuotas(tx, teamId);
  const creating = change.previousLimit === null;
  const added = change.newLimit - (change.previousLimit ?? 0);
  const team = await tx.tenantDatabase.aggregate({ where: { teamId }, _count: true, _sum: { connectionLimit: true } });
  if (creating && team._count >= quotas.databases) throw quotaExceeded("databases", quotas.databases);
  if (added <= 0) return;
  const used = team._sum.connectionLimit ?? 0;
  if (used + added > quotas.dbConnections) {
    throw quotaExceeded(
      "dbConnections",
      quotas.dbConnections,
      `: the team's databases already allow ${used} and this needs ${added} more`,
    );
  }
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${TENANT_CONNECTIONS_LOCK}::bigint)`;
  const all = await tx.tenantDatabase.aggregate({ _sum: { connectionLimit: true } });
  const budget = tenantConnectionBudget();
  if ((all._sum.connectionLimit ?? 0) + added > budget) {
    throw new AppError(
      "quota_exceeded",
      `The tenant database server has no connections left for this: all teams' databases share ${budget} (instance admins can raise TENANT_PG_MAX_CONNECTIONS or lower other limits).`,
      { details: { quota: "tenantPgConnections", limit: budget } },
    );
  }
}

/** Bytes of unexpired uploads the team holds. An expired upload can no longer be deployed, so it no longer counts. */
async function uploadBytesHeld(db: Reader, teamId: string): Promise<number> {
  const held = await db.upload.aggregate({
    where: { teamId, expiresAt: { gt: new Date() } },
    _sum: { sizeBytes: true },
  });
  return held._sum.sizeBytes ?? 0;
}

/** Bytes the team may still upload now (checked again, under the lock, once the size is known). */
export async function uploadRoom(db: Reader, teamId: string): Promise<{ room: number; limit: number }> {
  const quotas = await effectiveQuotas(db, teamId);
  return { room: Math.max(0, quotas.uploadBytes - (await uploadBytesHeld(db, teamId))), limit: quotas.uploadBytes };
}

export async function enforceUploadQuota(tx: Tx, teamId: string, sizeBytes: number): Promise<void> {
  await lockTeamForQuota(tx, teamId);
  const quotas = await effectiveQuotas(tx, teamId);
  if ((await uploadBytesHeld(tx, teamId)) + sizeBytes > quotas.uploadBytes) {
    throw quotaExceeded("uploadBytes", quotas.uploadBytes, " (uploads count until they expire, a day after upload)");
  }
}

/**
 * Teams a user owns: ownership is what multiplies resources (each team gets its own quotas), while memberships in
 * other people's teams come from their owners' invitations and cost this user nothing. The user's row is the lock
 * (there is no team yet).
 */
export async function enforceTeamsPerUser(tx: Tx, userId: string): Promise<void> {
  await tx.$queryRaw`SELECT id FROM "User" WHERE id = ${userId}::uuid FOR NO KEY UPDATE`;
  const quotas = await instanceQuotas(tx);
  const owned = await tx.membership.count({ where: { userId, role: "owner" } });
  if (owned >= quotas.teamsPerUser) throw quotaExceeded("teamsPerUser", quotas.teamsPerUser);
}
