"use client";

// The app page's live part: status, replicas (index and state; never host ports or container names), the deployment
// being built or released, lifecycle operations under way, and the lifecycle controls. It polls a server action every
// ~2 s while something is under way (paused while the tab is hidden) and refreshes the page's server parts once done.
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { type LifecycleActions, LifecycleControls } from "@/components/apps/lifecycle-controls";
import { AppStatusBadge, DeploymentStatusBadge } from "@/components/apps/status";
import { Badge, Notice } from "@/components/ui";
import { usePolling } from "@/components/use-polling";
import type { ActionState } from "@/lib/actions";
import type { AppRuntimeView } from "@/lib/domain/lifecycle";
import type { ReplicaStatus } from "@/lib/generated/prisma/enums";

const POLL_MS = 2_000;
const RETRY_MS = 5_000;

const REPLICA_TONE: Record<ReplicaStatus, "amber" | "green" | "neutral" | "red"> = {
  starting: "amber",
  healthy: "green",
  draining: "neutral",
  stopped: "neutral",
  failed: "red",
  crashed: "red",
};

const OPERATION_LABEL: Record<string, string> = {
  "app.start": "Starting",
  "app.stop": "Stopping",
  "app.restart": "Restarting",
  "app.rollback": "Rolling back",
  "app.scale": "Scaling",
};

function isBusy(runtime: AppRuntimeView): boolean {
  return runtime.activeDeployment !== null || runtime.pendingOperations.length > 0 || runtime.status === "deploying";
}

type Poll = (teamId: string, appId: string) => Promise<ActionState<AppRuntimeView>>;

export function AppRuntimeLive({
  teamId,
  appId,
  initial,
  poll,
  basePath,
  hasRelease,
  actions,
}: {
  teamId: string;
  appId: string;
  initial: AppRuntimeView;
  poll: Poll;
  basePath: string;
  hasRelease: boolean;
  /** Null for roles that cannot change the app. */
  actions: LifecycleActions | null;
}) {
  const router = useRouter();
  const [runtime, setRuntime] = useState(initial);
  const [problem, setProblem] = useState<string | null>(null);
  const busy = isBusy(runtime);

  // The server rendered the page again (after an action, or a refresh): start from its view.
  useEffect(() => setRuntime(initial), [initial]);

  usePolling(
    async ({ stopped }) => {
      try {
        const result = await poll(teamId, appId);
        if (stopped()) return null;
        if (result.status !== "success" || !result.data) {
          setProblem(result.message ?? "The latest state could not be loaded.");
          return RETRY_MS;
        }
        setRuntime(result.data);
        setProblem(null);
        if (isBusy(result.data)) return POLL_MS;
        // Done: the status in the header and the deployments below come from the server.
        router.refresh();
        return null;
      } catch {
        if (!stopped()) setProblem("Lost contact with the server.");
        return RETRY_MS;
      }
    },
    { enabled: busy, firstDelayMs: POLL_MS, restartKey: appId },
  );

  const active = runtime.activeDeployment;
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-3 text-sm">
        <span aria-live="polite" className="flex items-center gap-2">
          <span className="text-zinc-500">Status</span>
          <AppStatusBadge status={runtime.status} testId="runtime-status" />
        </span>
        <span className="text-zinc-500">
          {runtime.replicas} replica{runtime.replicas === 1 ? "" : "s"} wanted
        </span>
      </div>
      {active ? (
        <Notice title="A deployment is under way">
          <span className="flex flex-wrap items-center gap-2" data-testid="release-progress">
            <Link href={`${basePath}/deployments/${active.id}`} className="font-medium underline underline-offset-2">
              Deployment #{active.number}
            </Link>
            <DeploymentStatusBadge status={active.status} />
            <span className="size-3 animate-spin rounded-full border-2 border-current border-r-transparent" />
          </span>
        </Notice>
      ) : null}
      {runtime.pendingOperations.length > 0 ? (
        <ul className="space-y-1 text-sm" data-testid="pending-operations">
          {runtime.pendingOperations.map((operation) => (
            <li key={operation.id} className="flex items-center gap-2">
              <span className="size-3 animate-spin rounded-full border-2 border-current border-r-transparent" />
              {OPERATION_LABEL[operation.kind] ?? operation.kind}
              {operation.status === "queued" ? " (queued)" : "…"}
            </li>
          ))}
        </ul>
      ) : null}
      {problem ? (
        <Notice tone="warning" title="Live updates are interrupted">
          {problem} Trying again…
        </Notice>
      ) : null}
      <div>
        <h3 className="font-medium text-sm">Replicas</h3>
        {runtime.running.length === 0 ? (
          <p className="mt-1 text-sm text-zinc-500">No containers are running.</p>
        ) : (
          <ul className="mt-2 flex flex-wrap gap-2" aria-label="Replicas">
            {runtime.running.map((replica, position) => (
              <li
                key={`${replica.deploymentId}-${replica.process}-${replica.index}`}
                className="flex items-center gap-2 rounded-md border border-zinc-200 px-2.5 py-1.5 text-sm dark:border-zinc-800"
                data-testid="replica"
                data-status={replica.status}
              >
                <span>#{position + 1}</span>
                <span className="font-mono text-xs">{replica.process}</span>
                <Badge tone={REPLICA_TONE[replica.status]}>{replica.status}</Badge>
                {replica.lastExit ? (
                  <details className="text-xs" data-testid="replica-crash">
                    <summary>exit code {replica.lastExit.exitCode ?? "unknown"}</summary>
                    <pre className="mt-1 max-h-48 max-w-xl overflow-auto whitespace-pre-wrap">
                      {replica.lastExit.log}
                    </pre>
                  </details>
                ) : null}
                {replica.deploymentNumber !== null ? (
                  <span className="text-xs text-zinc-500">deployment #{replica.deploymentNumber}</span>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </div>
      {actions ? (
        <LifecycleControls
          teamId={teamId}
          appId={appId}
          status={runtime.status}
          replicas={runtime.replicas}
          hasRelease={hasRelease}
          actions={actions}
        />
      ) : null}
    </div>
  );
}
