import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { signOutAction, signOutEverywhereAction } from "@/app/(portal)/actions";
import { PortalHeader } from "@/components/portal-header";
import { Card, inputClass, PageHeader } from "@/components/ui";
import { requireUser } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { QUOTA_PAGE_TEAMS, type QuotaTeamRow, quotaAdminState } from "@/lib/domain/quota-admin";
import type { Quotas } from "@/lib/domain/quotas";
import { listTeamsForUser } from "@/lib/domain/teams";
import { saveInstanceQuotasAction, saveTeamQuotasAction } from "./actions";
import { type QuotaFieldSpec, QuotaForm } from "./quota-form";

export const metadata: Metadata = { title: "Quotas" };

const MIB = 1024 * 1024;

const LABELS = {
  apps: "Apps",
  databases: "Databases",
  redis: "Redis instances",
  dbConnections: "Database connections (sum)",
  uploadMb: "Uploads held (MiB)",
  concurrentBuilds: "Concurrent builds",
  redisMemoryMb: "Redis memory (MiB each)",
  statementTimeoutS: "Statement timeout (s)",
  teamsPerUser: "Teams a user owns",
  domains: "Custom domains",
  cronJobs: "Cron jobs",
  concurrentRuns: "Concurrent runs",
  processes: "Process containers (all apps)",
  notificationChannels: "Notification channels",
  backups: "Kept manual backups",
} as const;

type FieldName = keyof typeof LABELS;

function fallbackOf(quotas: Quotas, name: FieldName): number {
  return name === "uploadMb" ? Math.floor(quotas.uploadBytes / MIB) : quotas[name];
}

function specs(
  names: FieldName[],
  overrides: Partial<Record<FieldName, number | null>>,
  fallback: Quotas,
): QuotaFieldSpec[] {
  return names.map((name) => ({
    name,
    label: LABELS[name],
    value: overrides[name] ?? null,
    fallback: fallbackOf(fallback, name),
  }));
}

const TEAM_FIELDS: FieldName[] = [
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
];

function usageLine(team: QuotaTeamRow): string {
  const { usage, effective } = team;
  return [
    `${usage.apps}/${effective.apps} apps`,
    `${usage.databases}/${effective.databases} databases`,
    `${usage.redis}/${effective.redis} Redis`,
    `${usage.dbConnections}/${effective.dbConnections} connections`,
    `${Math.ceil(usage.uploadBytes / MIB)}/${Math.floor(effective.uploadBytes / MIB)} MiB uploads`,
  ].join(" · ");
}

// Instance administrators only: for everyone else this page does not exist.
export default async function QuotasPage({ searchParams }: { searchParams: Promise<{ q?: string | string[] }> }) {
  const user = await requireUser("/admin/quotas");
  if (!user.isAdmin) notFound();
  const { q } = await searchParams;
  const search = typeof q === "string" ? q.slice(0, 100) : "";
  const db = getDb();
  const [teams, state] = await Promise.all([listTeamsForUser(db, user.id), quotaAdminState(db, user, { search })]);
  const { tenantConnections: connections } = state;
  return (
    <div className="min-h-screen bg-zinc-50 dark:bg-zinc-950">
      <PortalHeader user={user} teams={teams} signOut={signOutAction} signOutEverywhere={signOutEverywhereAction} />
      <main id="main" className="mx-auto max-w-4xl space-y-6 px-4 py-10 sm:px-6">
        <PageHeader
          title="Quotas"
          description="What one team may use of the shared servers, the worker and the disk. Empty fields follow the default shown in them: a team's follow the instance defaults, which follow the environment (TUSSILAGO_QUOTA_*). Every change is recorded."
        />
        <Card title="Instance defaults">
          <p className="mb-4 text-sm text-zinc-600 dark:text-zinc-400">
            Tenant database server: {connections.used} of {connections.budget} connections handed out to databases (
            max_connections {connections.maxConnections} minus {connections.reserved} reserved for the platform).
          </p>
          <QuotaForm
            action={saveInstanceQuotasAction}
            fields={specs([...TEAM_FIELDS, "teamsPerUser"], state.instanceOverrides, state.environment)}
            submit="Save the defaults"
          />
        </Card>
        <Card title="Teams">
          <form method="get" className="mb-4 flex gap-2">
            <label htmlFor="quota-team-search" className="sr-only">
              Team name
            </label>
            <input
              id="quota-team-search"
              name="q"
              defaultValue={search}
              placeholder="Find a team by name"
              className={inputClass}
            />
          </form>
          {state.teams.length === QUOTA_PAGE_TEAMS ? (
            <p className="mb-4 text-sm">The newest {QUOTA_PAGE_TEAMS} teams are shown; find others by name.</p>
          ) : null}
          <div className="space-y-6">
            {state.teams.map((team) => (
              <section key={team.id} className="border-zinc-200 border-t pt-4 dark:border-zinc-800">
                <h3 className="font-medium">
                  {team.name} <span className="text-sm text-zinc-500">({team.slug})</span>
                </h3>
                <p className="mb-3 text-sm text-zinc-600 dark:text-zinc-400">{usageLine(team)}</p>
                <QuotaForm
                  action={saveTeamQuotasAction}
                  hidden={{ teamId: team.id }}
                  fields={specs(TEAM_FIELDS, team.overrides, state.instance)}
                  submit="Save the team's quotas"
                />
              </section>
            ))}
          </div>
        </Card>
      </main>
    </div>
  );
}
