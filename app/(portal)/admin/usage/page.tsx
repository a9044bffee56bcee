import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { signOutAction, signOutEverywhereAction } from "@/app/(portal)/actions";
import { ActionButton } from "@/components/action-button";
import { PortalHeader } from "@/components/portal-header";
import { Card, DateTime, EmptyState, Notice, PageHeader } from "@/components/ui";
import { requireUser } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import {
  type DirUsage,
  type InstanceUsage,
  instanceUsageState,
  TEAM_USAGE_FIELDS,
  type TeamUsageField,
  USAGE_PAGE_TEAMS,
} from "@/lib/domain/instance-usage";
import { listTeamsForUser } from "@/lib/domain/teams";
import { measureUsageAction } from "./actions";

export const metadata: Metadata = { title: "Usage" };

const COLUMNS: Record<TeamUsageField, string> = {
  apps: "Apps",
  databases: "Databases",
  redis: "Redis",
  domains: "Domains",
  processes: "Processes",
  cronJobs: "Cron jobs",
  backups: "Backups",
  notificationChannels: "Channels",
};

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

function bytes(value: number): string {
  let amount = value;
  let unit = 0;
  while (amount >= 1024 && unit < UNITS.length - 1) {
    amount /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? amount : amount.toFixed(1)} ${UNITS[unit]}`;
}

function dirLine(usage: DirUsage | null): string {
  if (!usage) return "not measured";
  // A walk that hit its entry limit gives a lower bound.
  const prefix = usage.truncated ? "at least " : "";
  return `${prefix}${bytes(usage.bytes)} in ${prefix}${usage.files} files`;
}

function DiskRows({ usage }: { usage: InstanceUsage }) {
  const rows: [string, string][] = [
    [
      "Images",
      usage.images
        ? `${bytes(usage.images.bytes)} in ${usage.images.count} images (${usage.images.active} in use; ${bytes(usage.images.reclaimableBytes)} reclaimable)`
        : "not measured",
    ],
    ["Builds", dirLine(usage.builds)],
    ["Logs", dirLine(usage.logs)],
    [
      usage.backups?.store === "s3" ? "Backups (S3 bucket)" : "Backups",
      usage.backups ? dirLine(usage.backups) : "not measured",
    ],
  ];
  return (
    <dl className="grid grid-cols-[max-content_1fr] gap-x-6 gap-y-2 text-sm" data-testid="usage-disk">
      {rows.map(([label, value]) => (
        <div key={label} className="contents">
          <dt className="font-medium">{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

// Instance administrators only: for everyone else this page does not exist.
export default async function UsagePage() {
  const user = await requireUser("/admin/usage");
  if (!user.isAdmin) notFound();
  const db = getDb();
  const [teams, state] = await Promise.all([listTeamsForUser(db, user.id), instanceUsageState(db, user)]);
  return (
    <div className="min-h-screen bg-zinc-50 dark:bg-zinc-950">
      <PortalHeader user={user} teams={teams} signOut={signOutAction} signOutEverywhere={signOutEverywhereAction} />
      <main id="main" className="mx-auto max-w-5xl space-y-6 px-4 py-10 sm:px-6">
        <PageHeader
          title="Usage"
          description="Disk used by images, builds, logs and backups, measured by the worker every 15 minutes, and what each team holds against its quotas."
        />
        <Card title="Disk">
          <div className="space-y-4">
            {state.report ? (
              <>
                <p className="text-sm text-zinc-600 dark:text-zinc-400">
                  Measured <DateTime value={state.report.createdAt} relative />
                </p>
                <DiskRows usage={state.report.usage} />
                {state.report.usage.errors.length > 0 ? (
                  <Notice tone="warning" title="Not everything could be measured">
                    <ul className="list-disc pl-5">
                      {state.report.usage.errors.map((line) => (
                        <li key={line}>{line}</li>
                      ))}
                    </ul>
                  </Notice>
                ) : null}
              </>
            ) : (
              <EmptyState title="Not measured yet">The worker measures every 15 minutes, or now on request.</EmptyState>
            )}
            <ActionButton action={measureUsageAction} label="Measure now" />
          </div>
        </Card>
        <Card title="Teams">
          {state.teams.length === USAGE_PAGE_TEAMS ? (
            <p className="mb-4 text-sm">The newest {USAGE_PAGE_TEAMS} teams are shown.</p>
          ) : null}
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm" data-testid="usage-teams">
              <thead>
                <tr className="border-zinc-200 border-b dark:border-zinc-800">
                  <th scope="col" className="py-2 pr-4 font-medium">
                    Team
                  </th>
                  {TEAM_USAGE_FIELDS.map((field) => (
                    <th key={field} scope="col" className="py-2 pr-4 font-medium">
                      {COLUMNS[field]}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {state.teams.map((team) => (
                  <tr key={team.id} className="border-zinc-100 border-b dark:border-zinc-900">
                    <th scope="row" className="py-2 pr-4 font-normal">
                      {team.name} <span className="text-zinc-500">({team.slug})</span>
                    </th>
                    {TEAM_USAGE_FIELDS.map((field) => {
                      const used = team.usage[field];
                      const limit = team.quotas[field];
                      return (
                        <td
                          key={field}
                          className={`py-2 pr-4 tabular-nums ${used >= limit ? "font-semibold text-red-700 dark:text-red-400" : ""}`}
                        >
                          {used}/{limit}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Card>
      </main>
    </div>
  );
}
