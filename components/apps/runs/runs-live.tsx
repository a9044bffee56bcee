"use client";

// The app's runs, newest first (one-off and cron), kept current by polling a server action while any is queued or
// running; a finished list stays still until the page renders again (a new run redirects to its own page).
import Link from "next/link";
import { isActiveRun, RunStatusBadge } from "@/components/apps/runs/run-status";
import { DateTime, EmptyState, Notice } from "@/components/ui";
import { useActionPolling } from "@/components/use-action-polling";
import type { ActionState } from "@/lib/actions";
import type { RunView } from "@/lib/domain/runs";

const ACTIVE_POLL_MS = 2_000;
const RETRY_MS = 10_000;

export type RunRow = RunView & { startedBy: string | null };
export type RunsData = { items: RunRow[]; more: boolean };
type Poll = (teamId: string, appId: string) => Promise<ActionState<RunsData>>;

export function RunsLive({
  teamId,
  appId,
  initial,
  poll,
}: {
  teamId: string;
  appId: string;
  initial: RunsData;
  poll: Poll;
}) {
  const anyActive = (shown: RunsData) => shown.items.some((run) => isActiveRun(run.status));
  const { data, problem } = useActionPolling(initial, () => poll(teamId, appId), {
    nextDelay: (shown) => (anyActive(shown) ? ACTIVE_POLL_MS : null),
    retryMs: RETRY_MS,
    failedMessage: "The latest state could not be loaded.",
    polling: (shown) => ({
      enabled: anyActive(shown),
      firstDelayMs: ACTIVE_POLL_MS,
      restartKey: `${appId}:${anyActive(shown)}`,
    }),
  });

  if (data.items.length === 0) {
    return <EmptyState title="No runs yet">One-off commands and cron jobs' runs appear here.</EmptyState>;
  }
  const base = `/teams/${teamId}/apps/${appId}/runs`;
  return (
    <div className="space-y-4">
      {problem ? (
        <Notice tone="warning" title="Live updates are interrupted">
          {problem} Trying again…
        </Notice>
      ) : null}
      <div className="overflow-x-auto">
        <table className="w-full text-left text-sm" aria-label="Runs">
          <thead className="text-xs text-zinc-500 uppercase">
            <tr>
              <th className="py-2 pr-4 font-medium">Command</th>
              <th className="py-2 pr-4 font-medium">Status</th>
              <th className="py-2 pr-4 font-medium">Exit code</th>
              <th className="py-2 pr-4 font-medium">Started by</th>
              <th className="py-2 font-medium">Queued</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
            {data.items.map((run) => (
              <tr key={run.id} data-testid="run-row">
                <td className="max-w-md truncate py-2 pr-4 font-mono">
                  <Link href={`${base}/${run.id}`} className="hover:underline" title={run.command}>
                    {run.command}
                  </Link>
                </td>
                <td className="py-2 pr-4">
                  <RunStatusBadge status={run.status} exitCode={run.exitCode} />
                </td>
                <td className="py-2 pr-4 font-mono" data-testid="run-exit-code">
                  {run.exitCode ?? "—"}
                </td>
                <td className="py-2 pr-4">
                  {run.kind === "cron" ? `cron: ${run.cronJob?.name ?? "deleted job"}` : (run.startedBy ?? "—")}
                </td>
                <td className="py-2 whitespace-nowrap">
                  <DateTime value={run.queuedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {data.more ? (
        <p className="text-sm text-zinc-500">
          Only the newest runs are shown here; GET /api/v1/apps/{appId}/runs lists them all.
        </p>
      ) : null}
    </div>
  );
}
