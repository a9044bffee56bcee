// Time limits on states: no deployment or operation stays unfinished for ever. A job's own timeouts bound what it
// does while it runs, but a worker killed mid-job leaves its rows in building, releasing or running, and
// graphile-worker keeps that job locked for hours; a lost job leaves them queued for good. platform__reconcile (every
// few minutes and at worker start) ends what is past its limit plus a margin, with a reason the user can read.
//
// The clock is the row's updatedAt: every step a job records (a phase, a retry's start, a claim) moves it, so a job
// that is alive never looks stuck, and the limit only has to cover the longest step that writes nothing. The write is
// guarded on the status and updatedAt that were read (lib/engine/state.ts, expireDeployments), so a job that finishes
// meanwhile wins and its row is left alone. A constant number of statements whatever the number of stuck rows.
import type { Logger } from "pino";
import { type Catalog, catalog, type TaskName } from "@/jobs/catalog";
import type { Db, Tx } from "@/lib/db";
import { GIT_FETCH_TIMEOUT_MS } from "@/lib/engine/build/context";
import { expireRuns } from "@/lib/engine/runs";
import {
  EXPIRABLE_DEPLOYMENT,
  type ExpiredDeployment,
  type ExpiringDeployment,
  expireDeployments,
  IN_PROGRESS_DEPLOYMENT,
  settleDeployingApps,
} from "@/lib/engine/state";
import type { DeploymentStatus } from "@/lib/generated/prisma/client";

export type ExpiryLimits = {
  /** The longest step of a build that writes nothing: a base image pull, the `podman build` (TUSSILAGO_BUILD_TIMEOUT_S). */
  buildMs: number;
  /** A release attempt: the release command, health checks and the drain (TUSSILAGO_RELEASE/HEALTH_TIMEOUT_S, DRAIN). */
  releaseMs: number;
  /** Added to every limit: the unbounded bits between timed steps, a retry's backoff, a slow database. */
  marginMs: number;
};

export const EXPIRY_MARGIN_MS = 5 * 60_000;
/** A deployment waits in its team's build slots (behind others) or its app's queue: at least this long. */
const MIN_QUEUED_MS = 60 * 60_000;
/** The longest attempt of a job that is not a build or a release (tenant servers, Caddy, deletions). */
const OTHER_ATTEMPT_MS = 10 * 60_000;

export function expiryLimitsFromConfig(config: {
  buildTimeoutMs: number;
  releaseCommandTimeoutMs: number;
  healthTimeoutMs: number;
  drainMs: number;
}): ExpiryLimits {
  return {
    buildMs: Math.max(config.buildTimeoutMs, GIT_FETCH_TIMEOUT_MS),
    releaseMs: config.releaseCommandTimeoutMs + config.healthTimeoutMs + config.drainMs,
    marginMs: EXPIRY_MARGIN_MS,
  };
}

const REASONS: Record<DeploymentStatus, string> = {
  queued: "The deployment did not start within its time limit",
  building: "The build was interrupted and did not finish within its time limit",
  built: "The release did not start within its time limit",
  releasing: "The release was interrupted and did not finish within its time limit",
  running: "",
  superseded: "",
  failed: "",
  cancelled: "",
};
const KEEPS_SERVING = "; the previous release keeps serving.";
const NOTHING_SERVING = ". Deploy again.";
const CANCELLED_REASON = "The deployment was cancelled.";
const OPERATION_REASON = "The operation was interrupted and did not finish within its time limit. Try it again.";

/** graphile-worker waits exp(min(attempt, 10)) seconds after failed attempt number `attempt` (its fail_job). */
function retryWaitMs(attempt: number): number {
  return Math.exp(Math.min(attempt, 10)) * 1000;
}

/**
 * The longest a live release writes nothing: one attempt, then graphile-worker's wait before its last attempt. Each
 * attempt records its start (startReleasing moves updatedAt), and a Caddy outage is ridden out by those retries
 * (lib/engine/release/switch.ts): the limit must not end a deployment that is only waiting for its next attempt.
 */
export function releaseSilenceMs(limits: ExpiryLimits): number {
  return limits.releaseMs + retryWaitMs(catalog.deployment__release.maxAttempts - 1);
}

/** How long a deployment may stay in a status without a recorded step before it is ended. */
export function deploymentLimitMs(status: DeploymentStatus, limits: ExpiryLimits): number {
  const waiting = Math.max(MIN_QUEUED_MS, 2 * limits.buildMs);
  const base = status === "building" ? limits.buildMs : status === "releasing" ? releaseSilenceMs(limits) : waiting;
  return base + limits.marginMs;
}

function retrySpanMs(entry: Catalog[TaskName], attemptMs: number): number {
  let total = entry.maxAttempts * attemptMs;
  for (let attempt = 1; attempt < entry.maxAttempts; attempt++) total += retryWaitMs(attempt);
  return total;
}

/** Operation kind → the task that carries it out (app.deploy follows its deployment instead). */
const KIND_TASKS: Record<string, TaskName> = {
  "app.start": "app__lifecycle",
  "app.stop": "app__lifecycle",
  "app.restart": "app__lifecycle",
  "app.rollback": "app__lifecycle",
  "app.scale": "app__lifecycle",
  "app.delete": "app__delete",
  "team.delete": "team__delete",
  "database.provision": "tenant_db__provision",
  "database.delete": "tenant_db__deprovision",
  "database.limits": "tenant_db__apply_limits",
  "database.rotate": "tenant_db__rotate",
  "redis.provision": "tenant_redis__provision",
  "redis.delete": "tenant_redis__deprovision",
  "redis.rotate": "tenant_redis__rotate",
  "platform.check": "platform__check",
  "platform.ping": "platform__ping",
};

/**
 * How long an operation of another kind may stay queued or running without a recorded step: its job's every attempt
 * and the backoff between them. An operation is expired only once its job cannot still be retrying: its task would
 * then find the operation finished and stop, leaving its target half done.
 */
export function operationLimitMs(kind: string, limits: ExpiryLimits): number {
  const task = KIND_TASKS[kind];
  if (!task) return 24 * 60 * 60_000 + limits.marginMs;
  const attemptMs = task === "app__lifecycle" ? limits.releaseMs : OTHER_ATTEMPT_MS;
  return retrySpanMs(catalog[task], attemptMs) + limits.marginMs;
}

export type ExpiryDeps = { db: Db; log: Logger; limits: ExpiryLimits; now?: () => number };
export type ExpiryReport = { deployments: string[]; operations: string[] };

export async function expireStuck(deps: ExpiryDeps): Promise<ExpiryReport> {
  const { db, log, limits } = deps;
  const now = new Date((deps.now ?? Date.now)());
  const before = (ms: number) => new Date(now.getTime() - ms);
  // Runs carry their own time limit (timeoutSeconds); their operations end with them (lib/engine/runs.ts).
  for (const id of await expireRuns(db, now, limits.marginMs)) log.warn({ runId: id }, "run past its time limit ended");
  const statuses = EXPIRABLE_DEPLOYMENT;
  const stale = await db.deployment.findMany({
    where: {
      OR: statuses.map((status) => ({ status, updatedAt: { lt: before(deploymentLimitMs(status, limits)) } })),
    },
    select: {
      id: true,
      status: true,
      updatedAt: true,
      phases: true,
      cancelRequestedAt: true,
      app: { select: { currentDeploymentId: true } },
    },
  });
  const operations = await db.operation.findMany({
    where: {
      kind: { not: "app.deploy" },
      status: { in: ["queued", "running"] },
      updatedAt: { lt: before(limits.marginMs) },
    },
    select: { id: true, kind: true, updatedAt: true, targetId: true },
  });
  const dueOperations = operations.filter(
    (operation) => operation.updatedAt < before(operationLimitMs(operation.kind, limits)),
  );
  const orphans = await orphanedDeployOperations(db, before(limits.marginMs));
  if (stale.length === 0 && dueOperations.length === 0 && orphans.failed.length + orphans.succeeded.length === 0) {
    return { deployments: [], operations: [] };
  }

  const expiring: ExpiringDeployment[] = stale.map(({ app, ...row }) => ({
    ...row,
    outcome: row.cancelRequestedAt ? "cancelled" : "failed",
    reason: row.cancelRequestedAt
      ? CANCELLED_REASON
      : `${REASONS[row.status]}${app.currentDeploymentId ? KEEPS_SERVING : NOTHING_SERVING}`,
  }));
  const expired = await db.$transaction(async (tx) => {
    const moved = await expireDeployments(tx, expiring, now);
    await failDeployOperations(tx, moved, now);
    await settleDeployingApps(tx, moved);
    // What an interrupted release started never served (the switch would have made the deployment running): its
    // rows go, so the container pass that follows removes the containers as orphans.
    const releasing = moved.filter((row) => row.from === "releasing").map((row) => row.id);
    if (releasing.length > 0) {
      await tx.replica.deleteMany({ where: { deploymentId: { in: releasing }, status: "starting" } });
    }
    const ended = await failOperations(
      tx,
      [...dueOperations.map((operation) => ({ ...operation, reason: OPERATION_REASON })), ...orphans.failed],
      now,
    );
    await settleProvisioning(tx, dueOperations, new Set(ended));
    if (orphans.succeeded.length > 0) {
      const done = await tx.operation.updateMany({
        where: { id: { in: orphans.succeeded }, status: { in: ["queued", "running"] } },
        data: { status: "succeeded", error: null, finishedAt: now },
      });
      if (done.count > 0) ended.push(...orphans.succeeded);
    }
    return { moved, ended };
  });
  for (const row of expired.moved) {
    log.warn(
      { deploymentId: row.id, appId: row.appId, operationId: row.operationId, from: row.from },
      "deployment past its time limit ended",
    );
  }
  for (const id of expired.ended) log.warn({ operationId: id }, "operation past its time limit ended");
  return { deployments: expired.moved.map((row) => row.id), operations: expired.ended };
}

/**
 * app.deploy operations left queued or running although their deployment ended (a worker killed between the
 * deployment's write and the operation's): they end as it did, with its reason. Two statements whatever their number.
 */
async function orphanedDeployOperations(
  db: Db,
  quietSince: Date,
): Promise<{ failed: { id: string; updatedAt: Date; reason: string }[]; succeeded: string[] }> {
  const operations = await db.operation.findMany({
    where: { kind: "app.deploy", status: { in: ["queued", "running"] }, updatedAt: { lt: quietSince } },
    select: { id: true, updatedAt: true, targetId: true },
  });
  const targets = operations.flatMap((operation) => (operation.targetId ? [operation.targetId] : []));
  if (targets.length === 0) return { failed: [], succeeded: [] };
  const deployments = new Map(
    (
      await db.deployment.findMany({
        where: { id: { in: targets }, status: { notIn: [...IN_PROGRESS_DEPLOYMENT] } },
        select: { id: true, status: true, error: true },
      })
    ).map((row) => [row.id, row]),
  );
  const failed: { id: string; updatedAt: Date; reason: string }[] = [];
  const succeeded: string[] = [];
  for (const operation of operations) {
    const deployment = deployments.get(operation.targetId ?? "");
    if (!deployment) continue;
    if (deployment.status === "running" || deployment.status === "superseded") succeeded.push(operation.id);
    else failed.push({ ...operation, reason: deployment.error ?? OPERATION_REASON });
  }
  return { failed, succeeded };
}

/** The app.deploy operations of the expired deployments fail with the same reason, in one statement. */
async function failDeployOperations(tx: Tx, moved: readonly ExpiredDeployment[], now: Date): Promise<void> {
  const rows = moved.flatMap((row) => (row.operationId ? [{ id: row.operationId, reason: row.reason }] : []));
  if (rows.length === 0) return;
  await tx.$executeRaw`
    UPDATE "Operation" AS o
       SET status = 'failed', error = v.reason, "finishedAt" = ${now}, "updatedAt" = ${now}
      FROM unnest(${rows.map((row) => row.id)}::uuid[], ${rows.map((row) => row.reason.slice(0, 2000))}::text[])
           AS v(id, reason)
     WHERE o.id = v.id AND o.status IN ('queued', 'running')`;
}

/** Operations still queued or running and unchanged since they were read fail with the reason, in one statement. */
async function failOperations(
  tx: Tx,
  rows: readonly { id: string; updatedAt: Date; reason: string }[],
  now: Date,
): Promise<string[]> {
  if (rows.length === 0) return [];
  const ended = await tx.$queryRaw<{ id: string }[]>`
    UPDATE "Operation" AS o
       SET status = 'failed', error = v.reason, "finishedAt" = ${now}, "updatedAt" = ${now}
      FROM unnest(${rows.map((row) => row.id)}::uuid[], ${rows.map((row) => row.updatedAt.toISOString())}::timestamptz[],
                  ${rows.map((row) => row.reason.slice(0, 2000))}::text[]) AS v(id, updated_at, reason)
     WHERE o.id = v.id AND o.status IN ('queued', 'running') AND o."updatedAt" = v.updated_at
    RETURNING o.id::text AS id`;
  return ended.map((row) => row.id);
}

/**
 * A database or Redis instance whose provisioning operation expired fails like one whose job gave up (its onGiveUp):
 * "provisioning" → "failed" with the reason, so it can be deleted and created again. Two statements at most.
 */
async function settleProvisioning(
  tx: Tx,
  operations: readonly { id: string; kind: string; targetId: string | null }[],
  ended: ReadonlySet<string>,
): Promise<void> {
  const targets = (kind: string) =>
    operations.flatMap((op) => (op.kind === kind && op.targetId && ended.has(op.id) ? [op.targetId] : []));
  const databases = targets("database.provision");
  const redis = targets("redis.provision");
  const data = { status: "failed" as const, error: OPERATION_REASON };
  if (databases.length > 0) {
    await tx.tenantDatabase.updateMany({ where: { id: { in: databases }, status: "provisioning" }, data });
  }
  if (redis.length > 0) await tx.tenantRedis.updateMany({ where: { id: { in: redis }, status: "provisioning" }, data });
}
