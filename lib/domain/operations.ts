// Operations: every asynchronous intent, written with its job in one transaction and polled by the UI and API.
// The claim/finish helpers are conditional updates, so a retried or duplicated job cannot run a step twice or
// resurrect a finished operation.
import type { Db, Tx } from "@/lib/db";
import type { Operation } from "@/lib/generated/prisma/client";

export type OperationTarget = { type: string; id: string };

export async function createOperation(
  tx: Tx,
  input: { kind: string; teamId?: string | null; target?: OperationTarget; requestId?: string },
): Promise<Operation> {
  return await tx.operation.create({
    data: {
      kind: input.kind,
      teamId: input.teamId ?? null,
      targetType: input.target?.type ?? null,
      targetId: input.target?.id ?? null,
      requestId: input.requestId ?? null,
    },
  });
}

/** Moves a queued (or retried running) operation to running. False when it is finished or gone: stop quietly. */
export async function claimOperation(db: Db | Tx, id: string): Promise<boolean> {
  const now = new Date();
  const claimed = await db.operation.updateMany({
    where: { id, status: { in: ["queued", "running"] } },
    data: { status: "running", attempts: { increment: 1 }, startedAt: now },
  });
  return claimed.count === 1;
}

export async function succeedOperation(db: Db | Tx, id: string): Promise<boolean> {
  const done = await db.operation.updateMany({
    where: { id, status: "running" },
    data: { status: "succeeded", error: null, finishedAt: new Date() },
  });
  return done.count === 1;
}

/**
 * What a running operation is doing now, for the portal and API clients that poll it (a restore's steps). Only a
 * running operation takes it: a late write from a stale attempt never overwrites a finished one.
 */
export async function setOperationProgress(db: Db | Tx, id: string, progress: string): Promise<boolean> {
  const done = await db.operation.updateMany({
    where: { id, status: "running" },
    data: { progress: progress.slice(0, 500) },
  });
  return done.count === 1;
}

/** Work stopped on purpose (a cancelled deployment, one skipped for a newer release): not a failure. */
export async function cancelOperation(db: Db | Tx, id: string, reason: string): Promise<boolean> {
  const done = await db.operation.updateMany({
    where: { id, status: { in: ["queued", "running"] } },
    data: { status: "cancelled", error: reason.slice(0, 2000), finishedAt: new Date() },
  });
  return done.count === 1;
}

/** `reason` is shown to the user: say what failed and what to do, never a stack trace or a command line. */
export async function failOperation(db: Db | Tx, id: string, reason: string): Promise<boolean> {
  const done = await db.operation.updateMany({
    where: { id, status: { in: ["queued", "running"] } },
    data: { status: "failed", error: reason.slice(0, 2000), finishedAt: new Date() },
  });
  return done.count === 1;
}
