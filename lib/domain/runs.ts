// Runs: a command in a one-off container of the app's current release, started by hand (POST /apps/{id}/runs) or by
// a cron tick (lib/domain/cron-ticks.ts). Requests write the Run and enqueue run__execute in one transaction; the
// worker (lib/engine/runs.ts) does the rest.
import { enqueue } from "@/jobs/enqueue";
import { runLogPath } from "@/lib/data-paths";
import type { Db } from "@/lib/db";
import { recordAudit } from "@/lib/domain/audit";
import { actorUserId, authorize, type Ctx } from "@/lib/domain/context";
import { commandSchema, parseOrInvalid } from "@/lib/domain/cron";
import { type LogChunk, readLogChunk } from "@/lib/domain/log-chunk";
import { createOperation, failOperation } from "@/lib/domain/operations";
import { afterCursor, type Page, type PageInput, toPage } from "@/lib/domain/pagination";
import { enforceConcurrentRunQuota } from "@/lib/domain/quotas";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import type { Operation, Run, RunStatus } from "@/lib/generated/prisma/client";

export const ACTIVE_RUN_STATUSES = ["queued", "running"] as const satisfies readonly RunStatus[];

export type RunView = {
  id: string;
  appId: string;
  kind: "oneoff" | "cron";
  cronJob: { id: string; name: string } | null;
  tick: Date | null;
  command: string;
  status: RunStatus;
  exitCode: number | null;
  reason: string | null;
  timeoutSeconds: number;
  deploymentId: string | null;
  queuedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  cancelRequestedAt: Date | null;
};

type RunRow = Run & { cronJob: { id: string; name: string } | null };
const withCronJob = { cronJob: { select: { id: true, name: true } } } as const;

export function runView(row: RunRow): RunView {
  return {
    id: row.id,
    appId: row.appId,
    kind: row.kind,
    cronJob: row.cronJob,
    tick: row.tick,
    command: row.command,
    status: row.status,
    exitCode: row.exitCode,
    reason: row.reason,
    timeoutSeconds: row.timeoutSeconds,
    deploymentId: row.deploymentId,
    queuedAt: row.queuedAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    cancelRequestedAt: row.cancelRequestedAt,
  };
}

export function isFinished(status: RunStatus): boolean {
  return !(ACTIVE_RUN_STATUSES as readonly RunStatus[]).includes(status);
}

export type CreateRunInput = { command: string; timeoutSeconds?: number | undefined };

export async function createRun(
  db: Db,
  ctx: Ctx,
  appId: string,
  input: CreateRunInput,
): Promise<{ run: RunView; operation: Operation }> {
  authorize(ctx, "apps:write");
  const command = parseOrInvalid(commandSchema, input.command);
  const { defaultTimeoutS, maxTimeoutS } = getEnv().runs;
  const timeoutSeconds = input.timeoutSeconds ?? defaultTimeoutS;
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > maxTimeoutS) {
    const message = `timeoutSeconds must be a whole number of seconds from 1 to ${maxTimeoutS}.`;
    throw new AppError("invalid", message, { details: [{ path: "timeoutSeconds", message }] });
  }
  return await db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ status: string; currentDeploymentId: string | null }[]>`
      SELECT status::text, "currentDeploymentId" FROM "App"
      WHERE id = ${appId}::uuid AND "teamId" = ${ctx.teamId}::uuid FOR UPDATE`;
    const app = rows[0];
    if (!app) throw new AppError("not_found", "App not found.");
    if (app.status === "deleting") throw new AppError("conflict", "This app is being deleted.");
    if (!app.currentDeploymentId) {
      throw new AppError("conflict", "The app has no release yet: deploy it before running commands in it.");
    }
    await enforceConcurrentRunQuota(tx, ctx.teamId);
    const run = await tx.run.create({
      data: {
        appId,
        teamId: ctx.teamId,
        kind: "oneoff",
        command,
        timeoutSeconds,
        deploymentId: app.currentDeploymentId,
        createdBy: actorUserId(ctx),
      },
      include: withCronJob,
    });
    const operation = await createOperation(tx, {
      kind: "app.run",
      teamId: ctx.teamId,
      target: { type: "run", id: run.id },
      requestId: ctx.meta.requestId,
    });
    await tx.run.update({ where: { id: run.id }, data: { operationId: operation.id } });
    await enqueue(tx, "run__execute", { runId: run.id }, { jobKey: `run:${run.id}` });
    // The command is the tenant's own text and says what was run; secrets belong in env vars, never in commands.
    await recordAudit(tx, ctx, {
      action: "run.create",
      target: { type: "run", id: run.id },
      metadata: { appId, command, timeoutSeconds },
    });
    return { run: runView(run), operation };
  });
}

async function getRunRow(db: Db, ctx: Ctx, runId: string): Promise<RunRow> {
  const row = await db.run.findFirst({ where: { id: runId, teamId: ctx.teamId }, include: withCronJob });
  if (!row) throw new AppError("not_found", "Run not found.");
  return row;
}

export async function getRun(db: Db, ctx: Ctx, runId: string): Promise<RunView> {
  authorize(ctx, "apps:read");
  return runView(await getRunRow(db, ctx, runId));
}

/** The app's runs (one-off and cron), newest first: two queries per page whatever their number. */
export async function listRuns(db: Db, ctx: Ctx, appId: string, page: PageInput): Promise<Page<RunView>> {
  authorize(ctx, "apps:read");
  const app = await db.app.findFirst({ where: { id: appId, teamId: ctx.teamId }, select: { id: true } });
  if (!app) throw new AppError("not_found", "App not found.");
  const rows = await db.run.findMany({
    where: { appId, ...afterCursor(page.cursor) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: page.limit + 1,
    include: withCronJob,
  });
  return toPage(rows, page.limit, runView);
}

/**
 * Asks for the run to stop. A queued run ends cancelled at once; a running one is stopped by its worker, which
 * watches for the request, kills the container and records `cancelled`. A finished run answers 409.
 */
export async function cancelRun(db: Db, ctx: Ctx, runId: string): Promise<RunView> {
  authorize(ctx, "apps:write");
  return await db.$transaction(async (tx) => {
    const row = await tx.run.findFirst({
      where: { id: runId, teamId: ctx.teamId },
      select: { status: true, operationId: true },
    });
    if (!row) throw new AppError("not_found", "Run not found.");
    if (isFinished(row.status)) throw new AppError("conflict", `The run has already ended (${row.status}).`);
    const now = new Date();
    const reason = "Cancelled before it started.";
    const dropped = await tx.run.updateMany({
      where: { id: runId, status: "queued" },
      data: { status: "cancelled", cancelRequestedAt: now, finishedAt: now, reason },
    });
    // Its job finds the run ended and stops; the operation ends here, since nothing else will end it.
    if (dropped.count === 1 && row.operationId) await failOperation(tx, row.operationId, reason);
    await tx.run.updateMany({
      where: { id: runId, status: "running", cancelRequestedAt: null },
      data: { cancelRequestedAt: now },
    });
    await recordAudit(tx, ctx, { action: "run.cancel", target: { type: "run", id: runId } });
    return runView(await tx.run.findUniqueOrThrow({ where: { id: runId }, include: withCronJob }));
  });
}

export async function readRunLog(
  db: Db,
  ctx: Ctx,
  runId: string,
  query: { offset: number; tail?: number | undefined },
): Promise<LogChunk> {
  authorize(ctx, "apps:read");
  const run = await getRunRow(db, ctx, runId);
  return await readLogChunk(runLogPath(getEnv().dataDir, run.id), { ...query, finished: isFinished(run.status) });
}
