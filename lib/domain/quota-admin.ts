// The instance admin's quota page (/admin/quotas): the instance defaults (environment, then the admin's overrides),
// every team's overrides, effective quotas and usage, and the changes. Only instance administrators: anyone else
// gets not_found, like a page that is not there. Every change is recorded in QuotaChange (instance defaults have no
// team to audit in), and a team's change also in that team's audit log, so its owners see who changed their limits.
import { z } from "zod";
import type { Db, Tx } from "@/lib/db";
import { recordAudit } from "@/lib/domain/audit";
import type { RequestMeta } from "@/lib/domain/context";
import {
  effectiveQuotasForTeams,
  INSTANCE_QUOTA_ID,
  instanceQuotas,
  lockRedisMemoryBudget,
  type Quotas,
  redisMemoryBudgetExceeded,
  redisMemoryCommitted,
  tenantRedisMemoryBudget,
} from "@/lib/domain/quotas";
import type { PublicUser } from "@/lib/domain/users";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import type { Prisma } from "@/lib/generated/prisma/client";

/** Teams shown on the page, newest first; the rest are reached by name (`search`). */
export const QUOTA_PAGE_TEAMS = 200;

const limit = (max: number) => z.number().int().min(0).max(max).nullable().optional();

/** A team's overrides: null (or absent) falls back to the instance default. Uploads in MiB. */
export const teamQuotaInput = z.strictObject({
  apps: limit(100_000),
  databases: limit(10_000),
  redis: limit(10_000),
  dbConnections: limit(100_000),
  uploadMb: limit(1_000_000),
  concurrentBuilds: z.number().int().min(1).max(64).nullable().optional(),
  redisMemoryMb: z.number().int().min(1).max(1_000_000).nullable().optional(),
  statementTimeoutS: z.number().int().min(1).max(86_400).nullable().optional(),
  domains: limit(10_000),
  cronJobs: limit(10_000),
  concurrentRuns: limit(1_000),
  processes: limit(100_000),
  notificationChannels: limit(1_000),
  backups: limit(100_000),
});
export const instanceQuotaInput = teamQuotaInput.extend({
  teamsPerUser: z.number().int().min(1).max(10_000).nullable().optional(),
});
export type TeamQuotaInput = z.input<typeof teamQuotaInput>;
export type InstanceQuotaInput = z.input<typeof instanceQuotaInput>;
type Overrides = z.output<typeof instanceQuotaInput>;

export type TeamUsage = { apps: number; databases: number; redis: number; dbConnections: number; uploadBytes: number };

export type QuotaTeamRow = {
  id: string;
  name: string;
  slug: string;
  overrides: Overrides;
  effective: Quotas;
  usage: TeamUsage;
};

export type QuotaAdminState = {
  environment: Quotas;
  instanceOverrides: Overrides;
  instance: Quotas;
  tenantConnections: { budget: number; used: number; maxConnections: number; reserved: number };
  teams: QuotaTeamRow[];
};

function requireInstanceAdmin(user: PublicUser | null): PublicUser {
  if (!user?.isAdmin) throw new AppError("not_found", "Page not found.");
  return user;
}

const FIELDS = [
  "apps",
  "databases",
  "redis",
  "dbConnections",
  "uploadMb",
  "concurrentBuilds",
  "redisMemoryMb",
  "statementTimeoutS",
  "domains",
  "cronJobs",
  "concurrentRuns",
  "processes",
  "notificationChannels",
  "backups",
] as const;

function overridesOf(row: Partial<Record<(typeof FIELDS)[number] | "teamsPerUser", number | null>> | null): Overrides {
  const result: Overrides = {};
  if (!row) return result;
  for (const field of [...FIELDS, "teamsPerUser"] as const) {
    const value = row[field];
    if (value !== null && value !== undefined) result[field] = value;
  }
  return result;
}

/** Everything the page shows, in a constant number of queries whatever the number of teams. */
export async function quotaAdminState(
  db: Db,
  user: PublicUser | null,
  options: { search?: string } = {},
): Promise<QuotaAdminState> {
  requireInstanceAdmin(user);
  const search = options.search?.trim();
  const teams = await db.team.findMany({
    where: { status: "active", ...(search ? { name: { contains: search, mode: "insensitive" } } : {}) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: QUOTA_PAGE_TEAMS,
    select: { id: true, name: true, slug: true, quota: true },
  });
  const ids = teams.map((team) => team.id);
  const [instanceRow, effective, apps, databases, redis, uploads, allConnections] = await Promise.all([
    db.instanceQuota.findUnique({ where: { id: INSTANCE_QUOTA_ID } }),
    effectiveQuotasForTeams(db, ids),
    db.app.groupBy({ by: ["teamId"], where: { teamId: { in: ids } }, _count: { _all: true } }),
    db.tenantDatabase.groupBy({
      by: ["teamId"],
      where: { teamId: { in: ids } },
      _count: { _all: true },
      _sum: { connectionLimit: true },
    }),
    db.tenantRedis.groupBy({ by: ["teamId"], where: { teamId: { in: ids } }, _count: { _all: true } }),
    db.upload.groupBy({
      by: ["teamId"],
      where: { teamId: { in: ids }, expiresAt: { gt: new Date() } },
      _sum: { sizeBytes: true },
    }),
    db.tenantDatabase.aggregate({ _sum: { connectionLimit: true } }),
  ]);
  const appCount = new Map(apps.map((row) => [row.teamId, row._count._all]));
  const dbRow = new Map(databases.map((row) => [row.teamId, row]));
  const redisCount = new Map(redis.map((row) => [row.teamId, row._count._all]));
  const uploadSum = new Map(uploads.map((row) => [row.teamId, row._sum.sizeBytes ?? 0]));
  const { pgMaxConnections, pgReservedConnections } = getEnv().tenantServices;
  const instance = await instanceQuotas(db);
  return {
    environment: getEnv().quotaDefaults,
    instanceOverrides: overridesOf(instanceRow),
    instance,
    tenantConnections: {
      budget: Math.max(0, pgMaxConnections - pgReservedConnections),
      used: allConnections._sum.connectionLimit ?? 0,
      maxConnections: pgMaxConnections,
      reserved: pgReservedConnections,
    },
    teams: teams.map((team) => ({
      id: team.id,
      name: team.name,
      slug: team.slug,
      overrides: overridesOf(team.quota),
      effective: effective.get(team.id) ?? instance,
      usage: {
        apps: appCount.get(team.id) ?? 0,
        databases: dbRow.get(team.id)?._count._all ?? 0,
        redis: redisCount.get(team.id) ?? 0,
        dbConnections: dbRow.get(team.id)?._sum.connectionLimit ?? 0,
        uploadBytes: uploadSum.get(team.id) ?? 0,
      },
    })),
  };
}

/** Every field of the input: a field left out or null falls back (the form sends the whole set). */
function fullRow(input: Overrides, withTeams: boolean): Record<string, number | null> {
  const row: Record<string, number | null> = {};
  for (const field of FIELDS) row[field] = input[field] ?? null;
  if (withTeams) row.teamsPerUser = input.teamsPerUser ?? null;
  return row;
}

function parseOrInvalid<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
  throw new AppError("invalid", details[0]?.message ?? "Invalid quotas.", { details });
}

async function recordChange(
  tx: Tx,
  user: PublicUser,
  meta: RequestMeta,
  change: { teamId: string | null; before: Overrides; after: Overrides },
): Promise<void> {
  await tx.quotaChange.create({
    data: {
      teamId: change.teamId,
      actorId: user.id,
      actorLabel: user.email,
      before: change.before as Prisma.InputJsonValue,
      after: change.after as Prisma.InputJsonValue,
      requestId: meta.requestId,
      ip: meta.ip,
      userAgent: meta.userAgent?.slice(0, 512) ?? null,
    },
  });
}

/** Replaces the instance admin's overrides of the environment's defaults. */
/**
 * Applies a quota change, refusing one that raises what the shared Redis has promised past its budget (a change that
 * lowers it, or leaves it as it was, always passes, even on a server already over budget).
 */
async function withinRedisMemoryBudget(tx: Tx, change: () => Promise<unknown>): Promise<void> {
  await lockRedisMemoryBudget(tx);
  const before = await redisMemoryCommitted(tx);
  await change();
  const after = await redisMemoryCommitted(tx);
  if (after > before && after > tenantRedisMemoryBudget()) throw redisMemoryBudgetExceeded();
}

export async function setInstanceQuotas(
  db: Db,
  user: PublicUser | null,
  input: InstanceQuotaInput,
  meta: RequestMeta,
): Promise<Quotas> {
  const admin = requireInstanceAdmin(user);
  const overrides = parseOrInvalid(instanceQuotaInput, input);
  return await db.$transaction(async (tx) => {
    const before = await tx.instanceQuota.findUnique({ where: { id: INSTANCE_QUOTA_ID } });
    const data = { ...fullRow(overrides, true), updatedBy: admin.id };
    await withinRedisMemoryBudget(tx, () =>
      tx.instanceQuota.upsert({ where: { id: INSTANCE_QUOTA_ID }, create: data, update: data }),
    );
    await recordChange(tx, admin, meta, { teamId: null, before: overridesOf(before), after: overrides });
    return await instanceQuotas(tx);
  });
}

/** Replaces a team's overrides (all null: the team follows the instance defaults again). */
export async function setTeamQuotas(
  db: Db,
  user: PublicUser | null,
  teamId: string,
  input: TeamQuotaInput,
  meta: RequestMeta,
): Promise<Quotas> {
  const admin = requireInstanceAdmin(user);
  if (!z.uuid().safeParse(teamId).success) throw new AppError("not_found", "Team not found.");
  const overrides = parseOrInvalid(teamQuotaInput, input);
  return await db.$transaction(async (tx) => {
    const team = await tx.team.findUnique({ where: { id: teamId }, select: { id: true, quota: true } });
    if (!team) throw new AppError("not_found", "Team not found.");
    const data = { ...fullRow(overrides, false), updatedBy: admin.id };
    await withinRedisMemoryBudget(tx, () =>
      tx.teamQuota.upsert({ where: { teamId }, create: { ...data, teamId }, update: data }),
    );
    const before = overridesOf(team.quota);
    await recordChange(tx, admin, meta, { teamId, before, after: overrides });
    await recordAudit(
      tx,
      { actor: { type: "user", userId: admin.id, label: admin.email }, teamId, role: "owner", meta },
      { action: "team.quotas_changed", target: { type: "team", id: teamId }, metadata: { before, after: overrides } },
    );
    const quotas = await effectiveQuotasForTeams(tx, [teamId]);
    const result = quotas.get(teamId);
    if (!result) throw new AppError("not_found", "Team not found.");
    return result;
  });
}

export type QuotaChangeView = {
  id: string;
  teamId: string | null;
  actorLabel: string;
  before: unknown;
  after: unknown;
  createdAt: Date;
};

/** The newest quota changes, for the page. One query. */
export async function recentQuotaChanges(db: Db, user: PublicUser | null, take = 20): Promise<QuotaChangeView[]> {
  requireInstanceAdmin(user);
  const rows = await db.quotaChange.findMany({ orderBy: [{ createdAt: "desc" }, { id: "desc" }], take });
  return rows.map((row) => ({
    id: row.id,
    teamId: row.teamId,
    actorLabel: row.actorLabel,
    before: row.before,
    after: row.after,
    createdAt: row.createdAt,
  }));
}
