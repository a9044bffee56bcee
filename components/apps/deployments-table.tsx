// An app's deployments, newest first: number, status, source with the commit (linked when its page is known), its
// message, author and trigger, which deployment superseded it, when, and a link to each one's page; with `rollback`,
// a "Roll back" button on each earlier deployment that ran successfully and whose image is still kept; with
// `redeploy`, "Redeploy" on every finished one ("Retry" on a failed one). With `details` (the Deployments list, #18),
// also the status's reason, how long it took, and who started it.
import Link from "next/link";
import { ActionButton } from "@/components/action-button";
import { DeploymentStatusBadge, FINISHED_DEPLOYMENT_STATUSES } from "@/components/apps/status";
import type { FormAction } from "@/components/form";
import { DateTime } from "@/components/ui";
import type { DeploymentView } from "@/lib/domain/deployments";

const TRIGGERS: Record<DeploymentView["trigger"], string> = {
  push: "push",
  manual: "manual",
  api: "API",
  rollback: "rollback",
  redeploy: "redeploy",
};

export function DeploymentSource({ source }: { source: DeploymentView["source"] }) {
  if (source.type === "upload") return <span>Upload</span>;
  return (
    <span className="inline-flex min-w-0 flex-wrap items-center gap-x-1.5">
      <span>Git</span>
      {source.ref ? <code className="font-mono text-xs">{source.ref}</code> : null}
      {source.commitSha ? (
        <code className="font-mono text-xs text-zinc-500" title={source.commitSha} data-testid="commit-sha">
          @{" "}
          {source.commitUrl ? (
            // A validated https page of a known forge or of the push's repository (lib/domain/deployments.ts).
            <a
              href={source.commitUrl}
              target="_blank"
              rel="noopener noreferrer"
              className="underline underline-offset-2"
            >
              {source.commitSha.slice(0, 7)}
            </a>
          ) : (
            source.commitSha.slice(0, 7)
          )}
        </code>
      ) : null}
    </span>
  );
}

/** The commit's first line and author (display text the domain already cleaned), and what started the deployment. */
export function DeploymentOrigin({ deployment }: { deployment: Pick<DeploymentView, "source" | "trigger"> }) {
  const { source } = deployment;
  const message = source.type === "git" ? source.commitMessage : null;
  const author = source.type === "git" ? source.commitAuthor : null;
  return (
    <span className="block text-xs text-zinc-500">
      {message ? (
        <span className="text-zinc-700 dark:text-zinc-300" data-testid="commit-message">
          {message}
        </span>
      ) : null}
      {author ? <span data-testid="commit-author"> · {author}</span> : null}
      <span data-testid="deployment-trigger" data-trigger={deployment.trigger}>
        {message || author ? " · " : ""}
        {TRIGGERS[deployment.trigger]}
      </span>
    </span>
  );
}

/** Redeploy (finished) and Retry (failed): the same source again, through redeployDeploymentAction. */
export type RedeployOption = { action: FormAction; teamId: string };

function redeployLabel(status: DeploymentView["status"]): string | null {
  if (status === "failed") return "Retry";
  return FINISHED_DEPLOYMENT_STATUSES.includes(status) ? "Redeploy" : null;
}

export type RollbackOption = {
  action: FormAction;
  teamId: string;
  appId: string;
  currentDeploymentId: string | null;
};

function canRollBackTo(deployment: DeploymentView, currentDeploymentId: string | null): boolean {
  return (
    deployment.id !== currentDeploymentId &&
    deployment.imageBuilt &&
    !deployment.imagePruned &&
    (deployment.status === "running" || deployment.status === "superseded")
  );
}

/** A list row: the deployment and, on the Deployments list, the member who started it. */
export type DeploymentRow = DeploymentView & { startedBy?: string | null };

/** Why a deployment is in its status, in one line: a failure's or a cancel's summary. */
export function statusReason(deployment: Pick<DeploymentView, "status" | "error" | "failureSide">): string | null {
  if (deployment.status !== "failed" && deployment.status !== "cancelled") return null;
  const summary = deployment.error?.split("\n")[0] ?? null;
  if (deployment.status === "failed" && deployment.failureSide === "operator") {
    return `${summary ?? "The server could not finish it."} (the operator's to fix)`;
  }
  return summary;
}

/** "42 s", "3 min 5 s", "1 h 2 min": from creation to the end; null while it runs. */
export function deploymentDuration(deployment: Pick<DeploymentView, "createdAt" | "finishedAt">): string | null {
  if (!deployment.finishedAt) return null;
  const seconds = Math.max(0, Math.round((+new Date(deployment.finishedAt) - +new Date(deployment.createdAt)) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function DeploymentsTable({
  basePath,
  deployments,
  rollback,
  redeploy,
  details = false,
}: {
  basePath: string;
  deployments: DeploymentRow[];
  rollback?: RollbackOption | null;
  redeploy?: RedeployOption | null;
  /** Reason, duration and who started it: the Deployments list's extra columns. */
  details?: boolean;
}) {
  const numbers = new Map(deployments.map((deployment) => [deployment.id, deployment.number]));
  const withActions = Boolean(rollback || redeploy);
  return (
    <div className="-mx-5 overflow-x-auto sm:-mx-6">
      <table
        className={`w-full text-left text-sm ${details ? "min-w-[56rem]" : "min-w-[36rem]"}`}
        aria-label="Deployments"
      >
        <thead className="border-zinc-200 border-b text-xs text-zinc-500 uppercase tracking-wide dark:border-zinc-800">
          <tr>
            <th scope="col" className="px-5 py-2 font-medium sm:px-6">
              Deployment
            </th>
            <th scope="col" className="px-3 py-2 font-medium">
              Status
            </th>
            <th scope="col" className="px-3 py-2 font-medium">
              Source
            </th>
            {details ? (
              <>
                <th scope="col" className="px-3 py-2 font-medium">
                  Reason
                </th>
                <th scope="col" className="px-3 py-2 font-medium">
                  Duration
                </th>
                <th scope="col" className="px-3 py-2 font-medium">
                  Started by
                </th>
              </>
            ) : null}
            <th scope="col" className="px-5 py-2 font-medium sm:px-6">
              Created
            </th>
            {withActions ? (
              <th scope="col" className="px-5 py-2 font-medium sm:px-6">
                <span className="sr-only">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
          {deployments.map((deployment) => (
            <tr key={deployment.id}>
              <td className="px-5 py-3 sm:px-6">
                <Link
                  href={`${basePath}/deployments/${deployment.id}`}
                  className="font-medium underline underline-offset-2 hover:text-zinc-600"
                >
                  #{deployment.number}
                </Link>
              </td>
              <td className="px-3 py-3">
                <DeploymentStatusBadge status={deployment.status} />
              </td>
              <td className="px-3 py-3">
                <DeploymentSource source={deployment.source} />
                <DeploymentOrigin deployment={deployment} />
                {deployment.supersededById ? (
                  <Link
                    href={`${basePath}/deployments/${deployment.supersededById}`}
                    className="block text-xs text-zinc-500 underline underline-offset-2"
                  >
                    superseded by{" "}
                    {numbers.has(deployment.supersededById)
                      ? `#${numbers.get(deployment.supersededById)}`
                      : "a newer deployment"}
                  </Link>
                ) : null}
              </td>
              {details ? (
                <>
                  <td className="max-w-xs px-3 py-3 text-xs" data-testid={`deployment-reason-${deployment.number}`}>
                    {statusReason(deployment) ?? <span className="text-zinc-400">—</span>}
                  </td>
                  <td
                    className="whitespace-nowrap px-3 py-3 text-xs"
                    data-testid={`deployment-duration-${deployment.number}`}
                  >
                    {deploymentDuration(deployment) ?? <span className="text-zinc-400">—</span>}
                  </td>
                  <td className="px-3 py-3 text-xs" data-testid={`deployment-starter-${deployment.number}`}>
                    {deployment.startedBy ??
                      (deployment.trigger === "push" ? "a push" : <span className="text-zinc-400">—</span>)}
                  </td>
                </>
              ) : null}
              <td className="whitespace-nowrap px-5 py-3 sm:px-6">
                <DateTime value={deployment.createdAt} />
              </td>
              {withActions ? (
                <td className="px-5 py-2 sm:px-6" data-testid={`deployment-actions-${deployment.number}`}>
                  <div className="flex flex-wrap items-start gap-2">
                    {rollback && canRollBackTo(deployment, rollback.currentDeploymentId) ? (
                      <ActionButton
                        action={rollback.action}
                        fields={{ teamId: rollback.teamId, appId: rollback.appId, deploymentId: deployment.id }}
                        label="Roll back"
                        confirm={`Release deployment #${deployment.number} again?`}
                      />
                    ) : rollback && deployment.id === rollback.currentDeploymentId ? (
                      <span className="text-xs text-zinc-500">current release</span>
                    ) : null}
                    {redeploy && redeployLabel(deployment.status) ? (
                      <ActionButton
                        action={redeploy.action}
                        fields={{ teamId: redeploy.teamId, deploymentId: deployment.id }}
                        label={redeployLabel(deployment.status) ?? "Redeploy"}
                        variant="ghost"
                      />
                    ) : null}
                  </div>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
