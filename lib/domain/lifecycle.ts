// An app's lifecycle: start, stop, restart, rollback to an earlier deployment, scale. Each request writes its intent
// (an Operation, and for scale the new replica count) and enqueues app__lifecycle in the app's queue in one
// transaction, then returns; the worker carries it out (lib/engine/release) and finishes the operation.
import { z } from "zod";
import { enqueue } from "@/jobs/enqueue";
import { appQueue } from "@/jobs/queues";
import type { Db, Tx } from "@/lib/db";
import { type AppView, appView } from "@/lib/domain/apps";
import { recordAudit } from "@/lib/domain/audit";
import { authorize, type Ctx } from "@/lib/domain/context";
import { createOperation } from "@/lib/domain/operations";
import { desiredCounts, planProcessTypes, storedProcessCounts } from "@/lib/domain/processes";
import { enforceProcessQuota } from "@/lib/domain/quotas";
import { AppError } from "@/lib/errors";
import type { App, Operation } from "@/lib/generated/prisma/client";
import type { DeploymentStatus, ReplicaStatus } from "@/lib/generated/prisma/enums";

export type LifecycleResult = { app: AppView; operation: Operation };

export const MAX_REPLICAS = 20;
const count = z.number().int().min(0).max(MAX_REPLICAS);
/** `replicas` is web's count; `processes` sets any types of the current release ({"web": 2, "worker": 1}). */
export const scaleInput = z
  .strictObject({ replicas: count.optional(), processes: z.record(z.string().max(30), count).optional() })
  .refine((value) => value.replicas !== undefined || value.processes !== undefined, "Give replicas or processes.");
export const rollbackInput = z.strictObject({ deploymentId: z.uuid() });

type LockedApp = App & { team: { slug: string } };

/** The process types of the app's current release; web alone before the first one (it can be scaled ahead). */
async function releasedTypes(tx: Tx, app: App): Promise<string[]> {
  if (!app.currentDeploymentId) return ["web"];
  const current = await tx.deployment.findUnique({ where: { id: app.currentDeploymentId }, select: { plan: true } });
  return current ? planProcessTypes(current.plan) : ["web"];
}

/** The app of the caller's team, row-locked so concurrent lifecycle requests queue; not_found for another team's. */
async function lockApp(tx: Tx, ctx: Ctx, appId: string): Promise<LockedApp> {
  const [locked] = await tx.$queryRaw<{ id: string }[]>`
    SELECT id FROM "App" WHERE id = ${appId}::uuid AND "teamId" = ${ctx.teamId}::uuid FOR UPDATE`;
  if (!locked) throw new AppError("not_found", "App not found.");
  const app = await tx.app.findUniqueOrThrow({ where: { id: appId }, include: { team: { select: { slug: true } } } });
  if (app.status === "deleting") throw new AppError("conflict", "This app is being deleted.");
  return app;
}

async function enqueueLifecycle(
  tx: Tx,
  ctx: Ctx,
  app: App,
  action: "start" | "stop" | "restart" | "rollback" | "scale",
  deploymentId?: string,
): Promise<Operation> {
  const operation = await createOperation(tx, {
    kind: `app.${action}`,
    teamId: ctx.teamId,
    target: { type: "app", id: app.id },
    requestId: ctx.meta.requestId,
  });
  await enqueue(
    tx,
    "app__lifecycle",
    { operationId: operation.id, appId: app.id, action, ...(deploymentId ? { deploymentId } : {}) },
    { queue: appQueue(app.id) },
  );
  return operation;
}

/**
 * The queued restart of `app` if one is still waiting, else a new one. Reusing the waiting one is right: the worker
 * reads the settings and variables when it starts the containers, so it picks up this change too. The row lock
 * keeps the worker from claiming it between our look and our commit (claimOperation waits for the lock).
 */
async function queuedOrNewRestart(tx: Tx, app: App, enqueueNew: () => Promise<Operation>): Promise<Operation> {
  const [pending] = await tx.$queryRaw<{ id: string }[]>`
    SELECT id FROM "Operation"
    WHERE "teamId" = ${app.teamId}::uuid AND kind = 'app.restart' AND "targetId" = ${app.id}::uuid AND status = 'queued'
    ORDER BY "createdAt" DESC LIMIT 1 FOR UPDATE`;
  return pending ? await tx.operation.findUniqueOrThrow({ where: { id: pending.id } }) : await enqueueNew();
}

/** A restart with fresh containers (no downtime), asked for by a user or token, in the caller's transaction. */
export async function requestRestart(tx: Tx, ctx: Ctx, app: App, reason: "requested" | "env_changed") {
  const operation = await queuedOrNewRestart(tx, app, () => enqueueLifecycle(tx, ctx, app, "restart"));
  await recordAudit(tx, ctx, {
    action: "app.restart_requested",
    target: { type: "app", id: app.id },
    metadata: { reason, operationId: operation.id },
  });
  return operation;
}

/**
 * A restart the platform itself asks for (e.g. a database attached at creation became ready), with no user behind
 * it: audited as the system. Only for a running app; answers null otherwise (it gets the change when it starts).
 */
export async function requestSystemRestart(tx: Tx, appId: string, reason: string): Promise<Operation | null> {
  const app = await tx.app.findUnique({ where: { id: appId } });
  if (app?.status !== "running" || !app.currentDeploymentId) return null;
  const operation = await queuedOrNewRestart(tx, app, async () => {
    const created = await createOperation(tx, {
      kind: "app.restart",
      teamId: app.teamId,
      target: { type: "app", id: app.id },
    });
    await enqueue(
      tx,
      "app__lifecycle",
      { operationId: created.id, appId: app.id, action: "restart" },
      { queue: appQueue(app.id) },
    );
    return created;
  });
  await tx.auditEvent.create({
    data: {
      teamId: app.teamId,
      actorType: "system",
      actorLabel: "platform",
      action: "app.restart_requested",
      targetType: "app",
      targetId: app.id,
      metadata: { reason: reason.slice(0, 200), operationId: operation.id },
    },
  });
  return operation;
}

export async function startApp(db: Db, ctx: Ctx, appId: string): Promise<LifecycleResult> {
  authorize(ctx, "apps:write");
  return await db.$transaction(async (tx) => {
    const app = await lockApp(tx, ctx, appId);
    if (!app.currentDeploymentId) throw new AppError("conflict", "This app has no release yet: deploy it first.");
    const operation = await enqueueLifecycle(tx, ctx, app, "start");
    await recordAudit(tx, ctx, { action: "app.start_requested", target: { type: "app", id: app.id } });
    return { app: appView(app, app.team.slug), operation };
  });
}

export async function stopApp(db: Db, ctx: Ctx, appId: string): Promise<LifecycleResult> {
  authorize(ctx, "apps:write");
  return await db.$transaction(async (tx) => {
    const app = await lockApp(tx, ctx, appId);
    // As start is refused without a release: there are no containers to stop, and the operation would mean nothing.
    if (!app.currentDeploymentId) throw new AppError("conflict", "This app has never run: there is nothing to stop.");
    const operation = await enqueueLifecycle(tx, ctx, app, "stop");
    await recordAudit(tx, ctx, { action: "app.stop_requested", target: { type: "app", id: app.id } });
    return { app: appView(app, app.team.slug), operation };
  });
}

export async function restartApp(db: Db, ctx: Ctx, appId: string): Promise<LifecycleResult> {
  authorize(ctx, "apps:write");
  return await db.$transaction(async (tx) => {
    const app = await lockApp(tx, ctx, appId);
    if (app.status !== "running" || !app.currentDeploymentId) {
      throw new AppError("conflict", "This app is not running: start it instead.");
    }
    const operation = await requestRestart(tx, ctx, app, "requested");
    return { app: appView(app, app.team.slug), operation };
  });
}

/** Releases an earlier deployment's image again (no rebuild); it becomes the current one when its containers pass. */
export async function rollbackApp(
  db: Db,
  ctx: Ctx,
  appId: string,
  input: z.input<typeof rollbackInput>,
): Promise<LifecycleResult> {
  authorize(ctx, "apps:write");
  const parsed = rollbackInput.safeParse(input);
  if (!parsed.success) throw new AppError("invalid", "Give the deployment to roll back to.");
  return await db.$transaction(async (tx) => {
    const app = await lockApp(tx, ctx, appId);
    const deployment = await tx.deployment.findFirst({
      where: { id: parsed.data.deploymentId, appId: app.id, teamId: ctx.teamId },
    });
    if (!deployment) throw new AppError("not_found", "Deployment not found.");
    if (deployment.id === app.currentDeploymentId) {
      throw new AppError(
        "conflict",
        `Deployment #${deployment.number} is already the current release: restart instead.`,
      );
    }
    if (!deployment.imageRef || !["running", "superseded"].includes(deployment.status)) {
      throw new AppError(
        "conflict",
        `Deployment #${deployment.number} never ran successfully; only those that did can be rolled back to.`,
      );
    }
    if (deployment.imagePrunedAt) {
      throw new AppError(
        "conflict",
        `The image of deployment #${deployment.number} is no longer kept on this host (only the most recent ones are). Deploy again instead.`,
      );
    }
    const operation = await enqueueLifecycle(tx, ctx, app, "rollback", deployment.id);
    await recordAudit(tx, ctx, {
      action: "app.rollback_requested",
      target: { type: "app", id: app.id },
      metadata: { deploymentId: deployment.id, number: deployment.number },
    });
    return { app: appView(app, app.team.slug), operation };
  });
}

export const NEVER_DEPLOYED_SCALE =
  "This app has not been deployed yet, so there is nothing to scale: deploy it first (the first release starts " +
  "the number of web processes set in its settings), then scale it.";

/** Stores the replica count and converges a running app to it; a stopped app uses it at its next start. */
export async function scaleApp(
  db: Db,
  ctx: Ctx,
  appId: string,
  input: z.input<typeof scaleInput>,
): Promise<LifecycleResult> {
  authorize(ctx, "apps:write");
  const parsed = scaleInput.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError("invalid", `Counts must be whole numbers from 0 to ${MAX_REPLICAS}.`, {
      details: [{ path: issue?.path.map(String).join(".") || "replicas", message: issue?.message ?? "Invalid." }],
    });
  }
  const { replicas, processes = {} } = parsed.data;
  if (replicas !== undefined && processes.web !== undefined && processes.web !== replicas) {
    const message = "replicas and processes.web both set the web count: give one.";
    throw new AppError("invalid", message, { details: [{ path: "processes.web", message }] });
  }
  return await db.$transaction(async (tx) => {
    const before = await lockApp(tx, ctx, appId);
    // Nothing runs before the first release, and a count stored now would be queued work with nothing to do; the
    // web count of a first deploy comes from the app's settings.
    if (!before.currentDeploymentId) throw new AppError("conflict", NEVER_DEPLOYED_SCALE);
    const types = await releasedTypes(tx, before);
    const unknown = Object.keys(processes).filter((type) => !types.includes(type));
    if (unknown.length > 0) {
      throw new AppError(
        "invalid",
        `The current release has no process type ${unknown.map((type) => `"${type}"`).join(", ")} (it runs ${types.join(", ") || "none"}).`,
        {
          details: unknown.map((type) => ({
            path: `processes.${type}`,
            message: "Not a process type of the current release.",
          })),
        },
      );
    }
    const { web, ...others } = processes;
    const counts = { ...storedProcessCounts(before.processes), ...others };
    const nextReplicas = web ?? replicas ?? before.replicas;
    const wanted = desiredCounts({ replicas: nextReplicas, processes: counts }, types);
    await enforceProcessQuota(
      tx,
      ctx.teamId,
      before.id,
      Object.values(wanted).reduce((sum, value) => sum + value, 0),
    );
    const app = await tx.app.update({
      where: { id: before.id },
      data: { replicas: nextReplicas, processes: counts },
      include: { team: { select: { slug: true } } },
    });
    const operation = await enqueueLifecycle(tx, ctx, app, "scale");
    await recordAudit(tx, ctx, {
      action: "app.scale_requested",
      target: { type: "app", id: app.id },
      metadata: {
        from: desiredCounts(before, types),
        to: desiredCounts(app, types),
      },
    });
    return { app: appView(app, app.team.slug), operation };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// What the app page shows live: replicas (by index and state, never host ports or container names), the
// deployment in progress and lifecycle operations still waiting or running.

export type ReplicaView = {
  index: number;
  /** The process type ("web", "worker", ...). */
  process: string;
  status: ReplicaStatus;
  /** A crashed replica's last exit: its code and the end of its output (the tenant's own). */
  lastExit: { exitCode: number | null; log: string } | null;
  deploymentId: string;
  deploymentNumber: number | null;
};
export type AppRuntimeView = {
  status: AppView["status"];
  replicas: number;
  running: ReplicaView[];
  activeDeployment: { id: string; number: number; status: DeploymentStatus } | null;
  pendingOperations: { id: string; kind: string; status: "queued" | "running" }[];
};

const ACTIVE_DEPLOYMENT = ["queued", "building", "built", "releasing"] as const;

/** At most five queries, whatever the number of replicas, deployments or operations. */
export async function getAppRuntime(db: Db, ctx: Ctx, appId: string): Promise<AppRuntimeView> {
  authorize(ctx, "apps:read");
  const app = await db.app.findFirst({
    where: { id: appId, teamId: ctx.teamId },
    select: { id: true, status: true, replicas: true },
  });
  if (!app) throw new AppError("not_found", "App not found.");
  const [rows, active, operations] = await Promise.all([
    db.replica.findMany({
      where: { appId: app.id, status: { in: ["starting", "healthy", "draining", "crashed"] } },
      orderBy: [{ createdAt: "asc" }, { process: "asc" }, { index: "asc" }],
      select: { index: true, process: true, status: true, deploymentId: true, lastExitCode: true, lastExitLog: true },
    }),
    db.deployment.findFirst({
      where: { appId: app.id, teamId: ctx.teamId, status: { in: [...ACTIVE_DEPLOYMENT] } },
      orderBy: { number: "desc" },
      select: { id: true, number: true, status: true },
    }),
    db.operation.findMany({
      where: { teamId: ctx.teamId, targetId: app.id, status: { in: ["queued", "running"] } },
      orderBy: { createdAt: "asc" },
      take: 10,
      select: { id: true, kind: true, status: true },
    }),
  ]);
  const ids = [...new Set(rows.map((row) => row.deploymentId))];
  const numbers = new Map(
    ids.length === 0
      ? []
      : (
          await db.deployment.findMany({
            where: { id: { in: ids }, appId: app.id },
            select: { id: true, number: true },
          })
        ).map((row) => [row.id, row.number]),
  );
  return {
    status: app.status,
    replicas: app.replicas,
    running: rows.map((row) => ({
      index: row.index,
      process: row.process,
      status: row.status,
      lastExit: row.status === "crashed" ? { exitCode: row.lastExitCode, log: row.lastExitLog ?? "" } : null,
      deploymentId: row.deploymentId,
      deploymentNumber: numbers.get(row.deploymentId) ?? null,
    })),
    activeDeployment: active,
    pendingOperations: operations.flatMap((operation) =>
      operation.status === "queued" || operation.status === "running"
        ? [{ id: operation.id, kind: operation.kind, status: operation.status }]
        : [],
    ),
  };
}
