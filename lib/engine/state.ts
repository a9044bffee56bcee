// Every status transition the worker makes on deployments and apps, in one place. The tables below are the rules;
// each write is an updateMany whose `where` only matches a row in a status the table allows the move from, so a
// refused transition (a retry after the row moved on, a cancel racing a build) changes nothing and says so (false).
// The domain keeps its own writes made on request (a deployment created "queued", an app "deploying" or "deleting").
//
// Deployments: queued → building → built → releasing → running → superseded (→ running again on rollback), and any
// of the first four → failed / cancelled. Apps: deploying → running / stopped / failed / created (a first deployment
// cancelled), and anything but deleting → running (a switch) or stopped.
import type { Db, Tx } from "@/lib/db";
import { endPhases, enterPhase, parsePhases } from "@/lib/domain/deployment-phases";
import { notifyTeam } from "@/lib/domain/notifications";
import type { AppStatus, DeploymentStatus, FailureSide } from "@/lib/generated/prisma/client";

type Client = Db | Tx;

/** Runs `fn` in a transaction: the caller's when given one, else a new one (a transition and its notification). */
async function inTransaction<T>(db: Client, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return "$transaction" in db ? await db.$transaction(fn) : await fn(db);
}

/** The first line of a reason, short enough for a notification's summary. */
function firstLine(text: string): string {
  return (text.split("\n", 1)[0] ?? "").slice(0, 300);
}

/** From → the statuses a deployment may move to. failed and cancelled are final. */
export const DEPLOYMENT_TRANSITIONS: Record<DeploymentStatus, readonly DeploymentStatus[]> = {
  // building → building: a retried build starts over.
  queued: ["building", "failed", "cancelled"],
  building: ["building", "built", "failed", "cancelled"],
  built: ["releasing", "failed", "cancelled"],
  // releasing → releasing: a retried release resumes; running → running: a restart of the live deployment.
  releasing: ["releasing", "running", "failed", "cancelled"],
  running: ["running", "superseded"],
  superseded: ["running"],
  failed: [],
  cancelled: [],
};

/** From → the statuses the worker may move an app to (the domain's own writes on request are not listed). */
export const APP_TRANSITIONS: Record<AppStatus, readonly AppStatus[]> = {
  created: ["running", "stopped"],
  deploying: ["running", "stopped", "failed", "created"],
  running: ["running", "stopped"],
  stopped: ["running", "stopped"],
  failed: ["running", "stopped"],
  deleting: [],
};

function sources<S extends string>(table: Record<S, readonly S[]>, to: S): S[] {
  return (Object.keys(table) as S[]).filter((from) => table[from].includes(to));
}

export function canMoveDeployment(from: DeploymentStatus, to: DeploymentStatus): boolean {
  return DEPLOYMENT_TRANSITIONS[from].includes(to);
}

export function canMoveApp(from: AppStatus, to: AppStatus): boolean {
  return APP_TRANSITIONS[from].includes(to);
}

/** The deployment statuses whose work is still to come or under way. */
export const IN_PROGRESS_DEPLOYMENT: readonly DeploymentStatus[] = ["queued", "building", "built", "releasing"];

// ---------------------------------------------------------------------------------------------------------------
// Deployments

/** queued/building → building (a build attempt starts or starts over). */
export async function startBuilding(db: Client, deploymentId: string): Promise<boolean> {
  const moved = await db.deployment.updateMany({
    where: { id: deploymentId, status: { in: sources(DEPLOYMENT_TRANSITIONS, "building") } },
    data: { status: "building", error: null },
  });
  return moved.count > 0;
}

/** building → built, its build phases done. In the transaction that queues the release. */
export async function markBuilt(tx: Client, deploymentId: string, now = new Date()): Promise<boolean> {
  const row = await tx.deployment.findUniqueOrThrow({ where: { id: deploymentId }, select: { phases: true } });
  const moved = await tx.deployment.updateMany({
    where: { id: deploymentId, status: { in: sources(DEPLOYMENT_TRANSITIONS, "built") } },
    data: { status: "built", error: null, phases: endPhases(parsePhases(row.phases), "succeeded", now) },
  });
  return moved.count > 0;
}

/** built/releasing → releasing; the "releasing" phase starts when it comes from built (not on a resumed attempt). */
export async function startReleasing(
  db: Client,
  deployment: { id: string; status: DeploymentStatus; phases: unknown },
  now = new Date(),
): Promise<boolean> {
  const moved = await db.deployment.updateMany({
    where: {
      id: deployment.id,
      status: { in: sources(DEPLOYMENT_TRANSITIONS, "releasing") },
      // A cancel asked for before the release started wins: the release does not begin (lib/domain/deployments.ts).
      NOT: { status: "built", cancelRequestedAt: { not: null } },
    },
    data: {
      status: "releasing",
      error: null,
      ...(deployment.status === "built"
        ? { phases: enterPhase(parsePhases(deployment.phases), "releasing", now) }
        : {}),
    },
  });
  return moved.count > 0;
}

/** releasing → running, finished: the first release of a deployment switched traffic (inside the switch). */
export async function markReleased(tx: Client, deploymentId: string, now = new Date()): Promise<boolean> {
  const row = await tx.deployment.findUniqueOrThrow({
    where: { id: deploymentId },
    select: { phases: true, appId: true, app: { select: { teamId: true, name: true } } },
  });
  return await inTransaction(tx, async (inner) => {
    const moved = await inner.deployment.updateMany({
      where: { id: deploymentId, status: "releasing" },
      data: {
        status: "running",
        error: null,
        finishedAt: now,
        phases: endPhases(parsePhases(row.phases), "succeeded", now),
      },
    });
    // Only the move itself notifies: a resumed release that finds it done says nothing twice.
    if (moved.count > 0) {
      await notifyTeam(inner, {
        teamId: row.app.teamId,
        event: "deployment.succeeded",
        subject: { appId: row.appId, deploymentId },
        summary: `${row.app.name} is live on a new deployment.`,
      });
    }
    return moved.count > 0;
  });
}

/** running/superseded → running: an earlier release serves again (restart, start, rollback; inside the switch). */
export async function markServingAgain(tx: Client, deploymentId: string): Promise<boolean> {
  const moved = await tx.deployment.updateMany({
    where: { id: deploymentId, status: { in: ["running", "superseded"] } },
    data: { status: "running" },
  });
  return moved.count > 0;
}

/** running → superseded for every other deployment of the app (inside the switch to `currentId`). */
export async function supersedeOthers(tx: Client, appId: string, currentId: string): Promise<number> {
  const moved = await tx.deployment.updateMany({
    where: { appId, id: { not: currentId }, status: { in: sources(DEPLOYMENT_TRANSITIONS, "superseded") } },
    data: { status: "superseded" },
  });
  return moved.count;
}

/**
 * A deployment that will not go live: queued/building/built/releasing → failed or cancelled, with the reason, its
 * phases ended and finishedAt set; then its app, if still "deploying", settles (settleDeployingApp) — also when the
 * deployment had already ended, so an attempt that died between the two writes converges on retry.
 */
export async function endDeployment(
  db: Client,
  deploymentId: string,
  status: "failed" | "cancelled",
  reason: string,
  now = new Date(),
  /** Whose failure it is to fix; a failure nobody classified (a give-up, an expiry) is the operator's. */
  side: FailureSide = "operator",
): Promise<boolean> {
  const row = await db.deployment.findUnique({
    where: { id: deploymentId },
    select: { phases: true, appId: true, app: { select: { teamId: true, name: true } } },
  });
  if (!row) return false;
  const moved = await inTransaction(db, async (tx) => {
    const { count } = await tx.deployment.updateMany({
      where: { id: deploymentId, status: { in: sources(DEPLOYMENT_TRANSITIONS, status) } },
      data: {
        status,
        error: reason.slice(0, 4000),
        failureSide: status === "failed" ? side : null,
        finishedAt: now,
        phases: endPhases(parsePhases(row.phases), status, now),
      },
    });
    // A cancel is the team's own doing: only failures are told. The event commits with the move, once.
    if (count > 0 && status === "failed") {
      await notifyTeam(tx, {
        teamId: row.app.teamId,
        event: "deployment.failed",
        subject: { appId: row.appId, deploymentId },
        summary: `Deployment of ${row.app.name} failed: ${firstLine(reason)}`,
      });
    }
    return count > 0;
  });
  await settleDeployingApp(db, row.appId, status);
  return moved;
}

// ---------------------------------------------------------------------------------------------------------------
// Apps

/** Anything but deleting → running on `deploymentId` (the traffic switch); false when the app is being deleted. */
export async function switchAppTo(tx: Client, appId: string, deploymentId: string): Promise<boolean> {
  const moved = await tx.app.updateMany({
    where: { id: appId, status: { in: sources(APP_TRANSITIONS, "running") } },
    data: { currentDeploymentId: deploymentId, status: "running" },
  });
  return moved.count > 0;
}

/** Anything but deleting → stopped (a stop, before its replicas drain). */
export async function markAppStopped(tx: Client, appId: string): Promise<boolean> {
  const moved = await tx.app.updateMany({
    where: { id: appId, status: { in: sources(APP_TRANSITIONS, "stopped") } },
    data: { status: "stopped" },
  });
  return moved.count > 0;
}

/**
 * An app "deploying" whose deployment did not make it: "stopped" when an earlier release exists (it can be started
 * again), else "failed", or "created" when its first deployment was cancelled (nothing went wrong).
 */
export async function settleDeployingApp(
  db: Client,
  appId: string,
  outcome: "failed" | "cancelled" = "failed",
): Promise<boolean> {
  const app = await db.app.findUnique({ where: { id: appId }, select: { currentDeploymentId: true } });
  if (!app) return false;
  const to: AppStatus = app.currentDeploymentId ? "stopped" : outcome === "failed" ? "failed" : "created";
  const moved = await db.app.updateMany({ where: { id: appId, status: "deploying" }, data: { status: to } });
  return moved.count > 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Expiry (lib/engine/expire.ts): rows the worker lost (a crash, a job locked by a dead worker) past their time limit

/** The deployment statuses a time limit can end (the same ones failed and cancelled may come from). */
export const EXPIRABLE_DEPLOYMENT: readonly DeploymentStatus[] = sources(DEPLOYMENT_TRANSITIONS, "failed").filter(
  (from) => canMoveDeployment(from, "cancelled"),
);

/** A stuck deployment as the reconciler read it, and how it is to end. */
export type ExpiringDeployment = {
  id: string;
  status: DeploymentStatus;
  updatedAt: Date;
  phases: unknown;
  outcome: "failed" | "cancelled";
  reason: string;
};

export type ExpiredDeployment = {
  id: string;
  appId: string;
  operationId: string | null;
  from: DeploymentStatus;
  outcome: "failed" | "cancelled";
  reason: string;
};

/**
 * Ends every given deployment that is still exactly as it was read (same status, same updatedAt), in one statement:
 * failed or cancelled with the reason, phases ended, finishedAt set. A job that is in fact still running and wrote
 * anything since (a phase, a retry's start, markBuilt, the switch) changed updatedAt or the status, so its row is
 * left alone and the job wins; a job that writes after the expiry finds a final status and its own guarded write
 * refuses (false). Returns the deployments that moved.
 */
export async function expireDeployments(
  db: Client,
  rows: readonly ExpiringDeployment[],
  now = new Date(),
): Promise<ExpiredDeployment[]> {
  const stuck = rows.filter((row) => EXPIRABLE_DEPLOYMENT.includes(row.status));
  if (stuck.length === 0) return [];
  const phases = stuck.map((row) => JSON.stringify(endPhases(parsePhases(row.phases), row.outcome, now)));
  const moved = await db.$queryRaw<{ id: string; appId: string; operationId: string | null; from: string }[]>`
    UPDATE "Deployment" AS d
       SET status = v.outcome::"DeploymentStatus", error = v.reason, "finishedAt" = ${now}, "updatedAt" = ${now},
           phases = v.phases::jsonb
      FROM unnest(${stuck.map((row) => row.id)}::uuid[], ${stuck.map((row) => row.status)}::text[],
                  ${stuck.map((row) => row.updatedAt.toISOString())}::timestamptz[],
                  ${stuck.map((row) => row.outcome)}::text[], ${stuck.map((row) => row.reason.slice(0, 4000))}::text[],
                  ${phases}::text[]) AS v(id, status, updated_at, outcome, reason, phases)
     WHERE d.id = v.id AND d.status::text = v.status AND d."updatedAt" = v.updated_at
    RETURNING d.id::text AS id, d."appId"::text AS "appId", d."operationId"::text AS "operationId", v.status AS "from"`;
  const byId = new Map(stuck.map((row) => [row.id, row]));
  return moved.flatMap((row) => {
    const read = byId.get(row.id);
    return read
      ? [{ ...row, from: row.from as DeploymentStatus, outcome: read.outcome, reason: read.reason.slice(0, 4000) }]
      : [];
  });
}

/**
 * The batch form of settleDeployingApp for apps whose deployments expired, in at most three statements whatever their
 * number: an app still "deploying" with no other deployment in progress becomes "stopped" when an earlier release
 * exists, else "failed", or "created" when what ended was a cancelled first deployment. An app that stayed "running"
 * during the deploy (its previous release keeps serving) is not "deploying" and is not touched.
 */
export async function settleDeployingApps(
  db: Client,
  apps: readonly { appId: string; outcome: "failed" | "cancelled" }[],
): Promise<number> {
  if (apps.length === 0) return 0;
  const failed = [...new Set(apps.filter((app) => app.outcome === "failed").map((app) => app.appId))];
  const cancelled = [...new Set(apps.map((app) => app.appId))].filter((id) => !failed.includes(id));
  const idle = { status: "deploying" as const, deployments: { none: { status: { in: [...IN_PROGRESS_DEPLOYMENT] } } } };
  const settled = [
    await db.app.updateMany({
      where: { ...idle, id: { in: [...failed, ...cancelled] }, currentDeploymentId: { not: null } },
      data: { status: "stopped" },
    }),
    failed.length > 0
      ? await db.app.updateMany({
          where: { ...idle, id: { in: failed }, currentDeploymentId: null },
          data: { status: "failed" },
        })
      : { count: 0 },
    cancelled.length > 0
      ? await db.app.updateMany({
          where: { ...idle, id: { in: cancelled }, currentDeploymentId: null },
          data: { status: "created" },
        })
      : { count: 0 },
  ];
  return settled.reduce((sum, result) => sum + result.count, 0);
}
