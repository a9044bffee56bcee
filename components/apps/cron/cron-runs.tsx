// Each cron job's newest runs with their status (succeeded, failed with its exit code, timed out, skipped because
// the previous run was still going, missed while the platform was down, running), linked to the run's output.
import Link from "next/link";
import { RunStatusBadge } from "@/components/apps/runs/run-status";
import { DateTime } from "@/components/ui";
import type { RunView } from "@/lib/domain/runs";

type JobRuns = { id: string; name: string; recentRuns: RunView[] };

export function CronRuns({ teamId, appId, jobs }: { teamId: string; appId: string; jobs: readonly JobRuns[] }) {
  return (
    <div className="space-y-4">
      {jobs.map((job) => (
        <section key={job.id} aria-label={`Runs of ${job.name}`} data-testid="cron-job-runs">
          <h3 className="font-medium text-sm">{job.name}</h3>
          {job.recentRuns.length === 0 ? (
            <p className="text-sm text-zinc-500">No runs yet.</p>
          ) : (
            <ul className="mt-1 divide-y divide-zinc-200 text-sm dark:divide-zinc-800">
              {job.recentRuns.map((run) => (
                <li key={run.id} className="flex flex-wrap items-center gap-3 py-1.5">
                  <Link href={`/teams/${teamId}/apps/${appId}/runs/${run.id}`} className="hover:underline">
                    <DateTime value={run.tick ?? run.queuedAt} />
                  </Link>
                  <RunStatusBadge status={run.status} exitCode={run.exitCode} />
                  {run.reason ? <span className="text-zinc-500">{run.reason}</span> : null}
                </li>
              ))}
            </ul>
          )}
        </section>
      ))}
    </div>
  );
}
