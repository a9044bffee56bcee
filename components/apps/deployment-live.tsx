"use client";

// The deployment page's live part: status, phases, plan, error and log, kept current by polling a server
// action every ~1.5 s. Polling pauses while the tab is hidden and stops once the deployment has finished and the
// whole log has been read; then the page's server parts (the app's status above) are refreshed once.
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useMemo, useRef, useState } from "react";
import { ActionButton } from "@/components/action-button";
import { BuildLog } from "@/components/apps/build-log";
import { DeploymentFailure } from "@/components/apps/deployment-failure";
import type { DeploymentPoll, DeploymentSnapshot, LogChunk } from "@/components/apps/deployment-snapshot";
import { DeploymentOrigin, DeploymentSource } from "@/components/apps/deployments-table";
import { firstErrorLine } from "@/components/apps/log-error-line";
import { PhaseList } from "@/components/apps/phase-list";
import { PlanDetails } from "@/components/apps/plan-details";
import {
  CANCELLABLE_DEPLOYMENT_STATUSES,
  DeploymentStatusBadge,
  FINISHED_DEPLOYMENT_STATUSES,
} from "@/components/apps/status";
import type { FormAction } from "@/components/form";
import { Badge, Card, DateTime, Notice } from "@/components/ui";
import { usePolling } from "@/components/use-polling";
// Type-only: lib/actions is server code.
import type { ActionState } from "@/lib/actions";
import type { DeploymentStatus } from "@/lib/generated/prisma/enums";

const POLL_MS = 1_500;
const RETRY_MS = 5_000;
/** A chunk this large means more of the log is waiting (a long log opened mid-build): fetch the rest at once. */
const CATCH_UP_CHARS = 64 * 1024;
/** The browser keeps at most this much of the log; builds rarely come close. */
const MAX_LOG_CHARS = 1_000_000;

type Poll = (teamId: string, deploymentId: string, offset: number) => Promise<ActionState<DeploymentPoll>>;

type DeploymentLiveProps = {
  teamId: string;
  initial: DeploymentSnapshot;
  initialLog: LogChunk;
  poll: Poll;
  /** Null for roles that cannot cancel. */
  cancelAction: FormAction | null;
  /** Redeploy (finished) or Retry (failed); null for roles that cannot deploy. */
  redeployAction: FormAction | null;
  /** The app's page, for the link to the deployment that superseded this one. */
  basePath: string;
};

type LogState = { text: string; trimmed: boolean };

function isFinished(status: DeploymentStatus, logComplete: boolean): boolean {
  return logComplete && FINISHED_DEPLOYMENT_STATUSES.includes(status);
}

function appendLog(previous: LogState, chunk: string): LogState {
  const text = previous.text + chunk;
  if (text.length <= MAX_LOG_CHARS) return { text, trimmed: previous.trimmed };
  const tail = text.slice(-MAX_LOG_CHARS);
  // Start on a whole line.
  return { text: tail.slice(tail.indexOf("\n") + 1), trimmed: true };
}

export function DeploymentLive({
  teamId,
  initial,
  initialLog,
  poll,
  cancelAction,
  redeployAction,
  basePath,
}: DeploymentLiveProps) {
  const router = useRouter();
  const [deployment, setDeployment] = useState(initial);
  const [log, setLog] = useState<LogState>({ text: initialLog.text, trimmed: false });
  const [finished, setFinished] = useState(() => isFinished(initial.status, initialLog.complete));
  const [problem, setProblem] = useState<string | null>(null);
  const [now, setNow] = useState<number | null>(null);
  const offset = useRef(initialLog.nextOffset);
  const deploymentId = initial.id;

  usePolling(
    async ({ stopped }) => {
      try {
        const result = await poll(teamId, deploymentId, offset.current);
        if (stopped()) return null;
        if (result.status !== "success" || !result.data) {
          setProblem(result.message ?? "The latest state could not be loaded.");
          return RETRY_MS;
        }
        const { deployment: next, log: chunk } = result.data;
        offset.current = chunk.nextOffset;
        setDeployment(next);
        if (chunk.text) setLog((previous) => appendLog(previous, chunk.text));
        setProblem(null);
        if (isFinished(next.status, chunk.complete)) {
          setFinished(true);
          setNow(null);
          router.refresh();
          return null;
        }
        return chunk.text.length >= CATCH_UP_CHARS ? 0 : POLL_MS;
      } catch {
        if (!stopped()) setProblem("Lost contact with the server.");
        return RETRY_MS;
      }
    },
    { enabled: !finished, firstDelayMs: POLL_MS, restartKey: deploymentId },
  );

  // A clock for the running phase's elapsed time, only while something runs.
  useEffect(() => {
    if (finished) return;
    setNow(Date.now());
    const interval = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(interval);
  }, [finished]);

  const cancellable = CANCELLABLE_DEPLOYMENT_STATUSES.includes(deployment.status);
  // Only a failed deployment's log has a line that matters; the operator's failures are not in the tenant's log.
  const errorLine = useMemo(
    () => (deployment.status === "failed" && deployment.failureSide !== "operator" ? firstErrorLine(log.text) : null),
    [deployment.status, deployment.failureSide, log.text],
  );
  const live = !finished;

  return (
    <>
      <div className="flex flex-col gap-3 sm:flex-row sm:items-start sm:justify-between">
        <div className="space-y-1">
          <div className="flex flex-wrap items-center gap-3">
            <h2 className="font-semibold text-xl tracking-tight">Deployment #{deployment.number}</h2>
            {/* The one live region: the status is what a screen reader user waits for, not every log line. */}
            <span aria-live="polite">
              <DeploymentStatusBadge status={deployment.status} testId="deployment-status" />
            </span>
            {cancellable && deployment.cancelRequested ? <Badge>cancelling…</Badge> : null}
          </div>
          <p className="flex flex-wrap items-center gap-x-2 text-sm text-zinc-600 dark:text-zinc-400">
            <DeploymentSource source={deployment.source} />
            <span aria-hidden="true">·</span>
            <span>
              Created <DateTime value={deployment.createdAt} />
            </span>
          </p>
          <DeploymentOrigin deployment={deployment} />
        </div>
        {cancelAction && cancellable && !deployment.cancelRequested ? (
          // No "are you sure?": the confirmation's own "Cancel" button next to this one would read as a riddle, and
          // a cancelled build is redone with one click.
          <ActionButton
            action={cancelAction}
            fields={{ teamId, deploymentId }}
            label="Cancel deployment"
            variant="danger-soft"
          />
        ) : null}
        {redeployAction && finished ? (
          <ActionButton
            action={redeployAction}
            fields={{ teamId, deploymentId }}
            label={deployment.status === "failed" ? "Retry" : "Redeploy"}
          />
        ) : null}
      </div>

      {problem && live ? (
        <Notice tone="warning" title="Live updates are interrupted">
          {problem} Trying again…
        </Notice>
      ) : null}
      {deployment.status === "failed" ? (
        <DeploymentFailure deployment={deployment} errorLine={errorLine !== null} />
      ) : null}
      {deployment.status === "cancelled" ? (
        <Notice>
          {deployment.supersededById ? (
            <>
              A newer push superseded this deployment:{" "}
              <Link
                href={`${basePath}/deployments/${deployment.supersededById}`}
                className="underline underline-offset-2"
                data-testid="superseded-by"
              >
                the deployment that replaced it
              </Link>
              .
            </>
          ) : (
            "This deployment was cancelled."
          )}
        </Notice>
      ) : null}
      {deployment.status === "built" || deployment.status === "releasing" ? (
        <Notice>The image is built. Releasing it: starting its containers and waiting for the health check.</Notice>
      ) : null}
      {deployment.status === "running" ? (
        <Notice tone="success">Released: this deployment is serving the app.</Notice>
      ) : null}
      {deployment.status === "superseded" ? <Notice>A newer release has replaced this one.</Notice> : null}

      <div className="grid gap-6 lg:grid-cols-[minmax(0,20rem)_minmax(0,1fr)]">
        <Card title="Phases">
          <PhaseList phases={deployment.phases} finished={finished} now={now} />
        </Card>
        <Card title="Build plan">
          <PlanDetails plan={deployment.plan} finished={finished} />
        </Card>
      </div>
      <Card title="Log">
        <BuildLog text={log.text} trimmed={log.trimmed} live={live} highlightLine={errorLine} />
      </Card>
    </>
  );
}
