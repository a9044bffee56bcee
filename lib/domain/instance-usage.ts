// The instance admin's usage view (/admin/usage): the newest disk report the worker stored (instance__usage, every
// 15 minutes or on demand; lib/engine/instance-usage.ts measures, since it runs podman and walks directories, which a
// request never does), and each team's resources against its quotas, read from the database in a constant number of
// queries whatever the number of teams. Only instance administrators: anyone else gets not_found.
import { z } from "zod";
import { enqueue } from "@/jobs/enqueue";
import type { Db } from "@/lib/db";
import { desiredCounts, processTypesOf } from "@/lib/domain/processes";
import { effectiveQuotasForTeams, type Quotas } from "@/lib/domain/quotas";
import type { PublicUser } from "@/lib/domain/users";
import { AppError } from "@/lib/errors";

const dirUsage = z.object({
  bytes: z.number().nonnegative(),
  files: z.number().int().nonnegative(),
  /** The walk stopped at its entry limit: the figures are a lower bound. */
  truncated: z.boolean(),
});
export type DirUsage = z.infer<typeof dirUsage>;

/** The JSON stored in InstanceUsageReport.usage; a part that could not be measured is null, with a line in errors. */
export const instanceUsageSchema = z.object({
  images: z
    .object({ bytes: z.number(), count: z.number().int(), active: z.number().int(), reclaimableBytes: z.number() })
    .nullable(),
  builds: dirUsage.nullable(),
  logs: dirUsage.nullable(),
  backups: dirUsage.extend({ store: z.enum(["local", "s3"]) }).nullable(),
  errors: z.array(z.string()),
});
export type InstanceUsage = z.infer<typeof instanceUsageSchema>;

/** Keeps a pending refresh to one job however often the button is pressed. */
export const INSTANCE_USAGE_JOB_KEY = "instance-usage";

/** Teams shown, newest first, like the quota page. */
export const USAGE_PAGE_TEAMS = 200;

export const TEAM_USAGE_FIELDS = [
  "apps",
  "databases",
  "redis",
  "domains",
  "processes",
  "cronJobs",
  "backups",
  "notificationChannels",
] as const;
export type TeamUsageField = (typeof TEAM_USAGE_FIELDS)[number];

export type TeamUsageRow = {
  id: string;
  name: string;
  slug: string;
  usage: Record<TeamUsageField, number>;
  quotas: Pick<Quotas, TeamUsageField>;
};

export type InstanceUsageState = {
  report: { usage: InstanceUsage; createdAt: Date } | null;
  teams: TeamUsageRow[];
};

function requireInstanceAdmin(user: PublicUser | null): PublicUser {
  if (!user?.isAdmin) throw new AppError("not_found", "Page not found.");
  return user;
}

/** Queues a measurement now (the crontab runs one every 15 minutes anyway). */
export async function requestInstanceUsage(db: Db, user: PublicUser | null): Promise<void> {
  requireInstanceAdmin(user);
  await db.$transaction(async (tx) => {
    await enqueue(tx, "instance__usage", {}, { jobKey: INSTANCE_USAGE_JOB_KEY });
  });
}

/** Each active team's resources against its effective quotas: nine queries, however many teams. */
export async function teamUsage(db: Db, user: PublicUser | null): Promise<TeamUsageRow[]> {
  requireInstanceAdmin(user);
  const teams = await db.team.findMany({
    where: { status: "active" },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: USAGE_PAGE_TEAMS,
    select: { id: true, name: true, slug: true },
  });
  const ids = teams.map((team) => team.id);
  const inTeams = { teamId: { in: ids } };
  const [quotas, apps, databases, redis, domains, cronJobs, backups, channels] = await Promise.all([
    effectiveQuotasForTeams(db, ids),
    db.app.findMany({
      where: inTeams,
      select: { id: true, teamId: true, status: true, replicas: true, processes: true, processTypes: true },
    }),
    db.tenantDatabase.groupBy({ by: ["teamId"], where: inTeams, _count: { _all: true } }),
    db.tenantRedis.groupBy({ by: ["teamId"], where: inTeams, _count: { _all: true } }),
    db.domain.groupBy({ by: ["teamId"], where: inTeams, _count: { _all: true } }),
    // Cron jobs belong to apps: counted per app here and added up per team below (the apps are already read).
    db.cronJob.groupBy({ by: ["appId"], where: { app: inTeams }, _count: { _all: true } }),
    // The backup quota counts manual backups that did not fail (enforceBackupQuota).
    db.backup.groupBy({
      by: ["teamId"],
      where: { ...inTeams, trigger: "manual", status: { not: "failed" } },
      _count: { _all: true },
    }),
    db.notificationChannel.groupBy({ by: ["teamId"], where: inTeams, _count: { _all: true } }),
  ]);
  const counted = (rows: { teamId: string; _count: { _all: number } }[]) => {
    const byTeam = new Map(rows.map((row) => [row.teamId, row._count._all]));
    return (teamId: string) => byTeam.get(teamId) ?? 0;
  };
  const dbCount = counted(databases);
  const redisCount = counted(redis);
  const domainCount = counted(domains);
  const backupCount = counted(backups);
  const channelCount = counted(channels);
  const teamOfApp = new Map(apps.map((app) => [app.id, app.teamId]));
  const perTeam = new Map<string, { apps: number; processes: number; cronJobs: number }>();
  const slot = (teamId: string) => {
    const entry = perTeam.get(teamId) ?? { apps: 0, processes: 0, cronJobs: 0 };
    perTeam.set(teamId, entry);
    return entry;
  };
  for (const app of apps) {
    const entry = slot(app.teamId);
    entry.apps += 1;
    // The process quota counts the containers the team's apps want, apps being deleted aside (enforceProcessQuota).
    if (app.status !== "deleting") {
      entry.processes += Object.values(desiredCounts(app, processTypesOf(app))).reduce((sum, n) => sum + n, 0);
    }
  }
  for (const row of cronJobs) {
    const teamId = teamOfApp.get(row.appId);
    if (teamId) slot(teamId).cronJobs += row._count._all;
  }
  return teams.map((team) => {
    const own = perTeam.get(team.id) ?? { apps: 0, processes: 0, cronJobs: 0 };
    const effective = quotas.get(team.id);
    if (!effective) throw new Error(`no quotas for team ${team.id}`);
    return {
      id: team.id,
      name: team.name,
      slug: team.slug,
      usage: {
        apps: own.apps,
        databases: dbCount(team.id),
        redis: redisCount(team.id),
        domains: domainCount(team.id),
        processes: own.processes,
        cronJobs: own.cronJobs,
        backups: backupCount(team.id),
        notificationChannels: channelCount(team.id),
      },
      quotas: Object.fromEntries(TEAM_USAGE_FIELDS.map((field) => [field, effective[field]])) as Pick<
        Quotas,
        TeamUsageField
      >,
    };
  });
}

/** The page: the newest report and the team table. */
export async function instanceUsageState(db: Db, user: PublicUser | null): Promise<InstanceUsageState> {
  requireInstanceAdmin(user);
  const [row, teams] = await Promise.all([
    db.instanceUsageReport.findFirst({ orderBy: { createdAt: "desc" } }),
    teamUsage(db, user),
  ]);
  const parsed = row ? instanceUsageSchema.safeParse(row.usage) : null;
  return {
    report: row && parsed?.success ? { usage: parsed.data, createdAt: row.createdAt } : null,
    teams,
  };
}
