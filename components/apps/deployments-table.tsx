// An app's deployments, newest first: number, status, source, when, and a link to each one's page; with `rollback`,
// a "Roll back" button on each earlier deployment that ran successfully and whose image is still kept.
import Link from "next/link";
import { ActionButton } from "@/components/action-button";
import { DeploymentStatusBadge } from "@/components/apps/status";
import type { FormAction } from "@/components/form";
import { DateTime } from "@/components/ui";
import type { DeploymentView } from "@/lib/domain/deployments";

export function DeploymentSource({ source }: { source: DeploymentView["source"] }) {
  if (source.type === "upload") return <span>Upload</span>;
  return (
    <span className="inline-flex min-w-0 flex-wrap items-center gap-x-1.5">
      <span>Git</span>
      {source.ref ? <code className="font-mono text-xs">{source.ref}</code> : null}
      {source.commitSha ? (
        <code className="font-mono text-xs text-zinc-500" title={source.commitSha}>
          @ {source.commitSha.slice(0, 7)}
        </code>
      ) : null}
    </span>
  );
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

export function DeploymentsTable({
  basePath,
  deployments,
  rollback,
}: {
  basePath: string;
  deployments: DeploymentView[];
  rollback?: RollbackOption | null;
}) {
  return (
    <div className="-mx-5 overflow-x-auto sm:-mx-6">
      <table className="w-full min-w-[36rem] text-left text-sm" aria-label="Deployments">
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
            <th scope="col" className="px-5 py-2 font-medium sm:px-6">
              Created
            </th>
            {rollback ? (
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
              </td>
              <td className="whitespace-nowrap px-5 py-3 sm:px-6">
                <DateTime value={deployment.createdAt} />
              </td>
              {rollback ? (
                <td className="px-5 py-2 sm:px-6" data-testid={`deployment-actions-${deployment.number}`}>
                  {canRollBackTo(deployment, rollback.currentDeploymentId) ? (
                    <ActionButton
                      action={rollback.action}
                      fields={{ teamId: rollback.teamId, appId: rollback.appId, deploymentId: deployment.id }}
                      label="Roll back"
                      confirm={`Release deployment #${deployment.number} again?`}
                    />
                  ) : deployment.id === rollback.currentDeploymentId ? (
                    <span className="text-xs text-zinc-500">current release</span>
                  ) : null}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
