// Reading operations for a team (the API's polling endpoint). Kept apart from operations.ts, which the worker uses
// to move operations through their states.
import type { Db } from "@/lib/db";
import { authorize, type Ctx } from "@/lib/domain/context";
import { notFound } from "@/lib/errors";
import type { OperationStatus } from "@/lib/generated/prisma/enums";

export type OperationView = {
  id: string;
  kind: string;
  status: OperationStatus;
  error: string | null;
  /** What it is doing now (a restore's step), or its last step once finished; null for operations without steps. */
  progress?: string | null;
  targetId: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
};

/**
 * One operation of the caller's team. Another team's operation, and operations tied to no team (a team's own
 * deletion, which must outlive the team), read as not found.
 */
export async function getOperation(db: Db, ctx: Ctx, id: string): Promise<OperationView> {
  authorize(ctx, "team:read");
  const operation = await db.operation.findFirst({ where: { id, teamId: ctx.teamId } });
  if (!operation) throw notFound("Operation");
  return {
    id: operation.id,
    kind: operation.kind,
    status: operation.status,
    error: operation.error,
    progress: operation.progress,
    targetId: operation.targetId,
    createdAt: operation.createdAt,
    startedAt: operation.startedAt,
    finishedAt: operation.finishedAt,
  };
}
