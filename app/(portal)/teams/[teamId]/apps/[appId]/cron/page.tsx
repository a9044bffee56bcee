import type { Metadata } from "next";
import { appPage, appTitle } from "@/app/(portal)/teams/[teamId]/apps/[appId]/app-page";
import { saveCronAction } from "@/app/(portal)/teams/[teamId]/apps/[appId]/cron/actions";
import { type CronJobWithRuns, loadAppCron } from "@/app/(portal)/teams/[teamId]/apps/[appId]/cron/cron-data";
import { CronForm } from "@/components/apps/cron/cron-form";
import { CronRuns } from "@/components/apps/cron/cron-runs";
import { Card, DateTime, EmptyState, Notice } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import { isAppError } from "@/lib/errors";

type Params = Promise<{ teamId: string; appId: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { teamId, appId } = await params;
  const name = await appTitle(teamId, appId);
  return name ? { title: `Cron · ${name}` } : {};
}

const DESCRIPTION =
  "Commands run on a schedule, each in a one-off container of the current release. Five cron fields (minute hour day month weekday) or @hourly, @daily, @weekly, @monthly, @yearly, read in the job's time zone.";

export default async function AppCronPage({ params }: { params: Params }) {
  const { teamId, appId } = await params;
  const { ctx, app } = await appPage(teamId, appId, `/teams/${teamId}/apps/${appId}/cron`);
  const canWrite = roleAllows(ctx.role, "apps:write") && app.status !== "deleting";

  let jobs: CronJobWithRuns[];
  try {
    jobs = await loadAppCron(getDb(), ctx, app.id);
  } catch (error) {
    if (!isAppError(error)) throw error;
    return <Notice tone="error">{error.message}</Notice>;
  }

  return (
    <>
      <Card title="Cron jobs" description={DESCRIPTION}>
        {canWrite ? (
          <CronForm action={saveCronAction} teamId={ctx.teamId} appId={app.id} jobs={jobs} />
        ) : jobs.length === 0 ? (
          <EmptyState title="No cron jobs">This app runs nothing on a schedule.</EmptyState>
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm" aria-label="Cron jobs">
              <thead className="text-xs text-zinc-500 uppercase">
                <tr>
                  <th className="py-2 pr-4 font-medium">Name</th>
                  <th className="py-2 pr-4 font-medium">Schedule</th>
                  <th className="py-2 pr-4 font-medium">Time zone</th>
                  <th className="py-2 pr-4 font-medium">Command</th>
                  <th className="py-2 pr-4 font-medium">Time limit</th>
                  <th className="py-2 font-medium">Next run</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
                {jobs.map((job) => (
                  <tr key={job.id} data-testid="cron-job-row">
                    <td className="py-2 pr-4">{job.name}</td>
                    <td className="py-2 pr-4 font-mono">{job.schedule}</td>
                    <td className="py-2 pr-4">{job.timezone}</td>
                    <td className="max-w-md truncate py-2 pr-4 font-mono" title={job.command}>
                      {job.command}
                    </td>
                    <td className="py-2 pr-4">{job.timeoutSeconds} s</td>
                    <td className="py-2 whitespace-nowrap" data-testid="cron-next-run">
                      <DateTime value={job.nextRunAt} empty="never" />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      {!canWrite && app.status !== "deleting" ? (
        <p className="text-sm text-zinc-500">Your role can see the app's cron jobs, but not change them.</p>
      ) : null}
      {jobs.length > 0 ? (
        <Card title="Recent cron runs">
          <CronRuns teamId={ctx.teamId} appId={app.id} jobs={jobs} />
        </Card>
      ) : null}
    </>
  );
}
