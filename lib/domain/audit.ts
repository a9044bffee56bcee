// The audit log: one append-only row per mutation, written in the mutation's transaction.
import { z } from "zod";
import type { Db, Tx } from "@/lib/db";
import { authorize, type Ctx } from "@/lib/domain/context";
import { afterCursor, type Page, type PageInput, toPage } from "@/lib/domain/pagination";
import type { Prisma } from "@/lib/generated/prisma/client";

export type AuditInput = {
  action: string;
  target: { type: string; id?: string | null };
  /** Never a secret, a token or an env value. */
  metadata?: Prisma.InputJsonValue;
};

export async function recordAudit(tx: Db | Tx, ctx: Ctx, input: AuditInput): Promise<void> {
  await tx.auditEvent.create({
    data: {
      teamId: ctx.teamId,
      actorType: ctx.actor.type,
      actorId: ctx.actor.type === "user" ? ctx.actor.userId : ctx.actor.tokenId,
      actorLabel: ctx.actor.label,
      action: input.action,
      targetType: input.target.type,
      targetId: input.target.id ?? null,
      ip: ctx.meta.ip,
      userAgent: ctx.meta.userAgent?.slice(0, 512) ?? null,
      requestId: ctx.meta.requestId,
      ...(input.metadata === undefined ? {} : { metadata: input.metadata }),
    },
  });
}

export const auditFilters = z.strictObject({
  action: z.string().max(100).optional(),
  actorId: z.uuid().optional(),
  targetId: z.uuid().optional(),
  since: z.coerce.date().optional(),
  until: z.coerce.date().optional(),
});
export type AuditFilters = z.infer<typeof auditFilters>;

export type AuditEventView = {
  id: string;
  action: string;
  actor: { type: "user" | "token" | "system"; id: string | null; label: string };
  target: { type: string; id: string | null };
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  metadata: unknown;
  createdAt: Date;
};

export async function listAuditEvents(
  db: Db,
  ctx: Ctx,
  filters: AuditFilters,
  page: PageInput,
): Promise<Page<AuditEventView>> {
  authorize(ctx, "audit:read");
  const rows = await db.auditEvent.findMany({
    where: {
      teamId: ctx.teamId,
      ...(filters.action ? { action: filters.action } : {}),
      ...(filters.actorId ? { actorId: filters.actorId } : {}),
      ...(filters.targetId ? { targetId: filters.targetId } : {}),
      ...(filters.since || filters.until
        ? {
            createdAt: {
              ...(filters.since ? { gte: filters.since } : {}),
              ...(filters.until ? { lt: filters.until } : {}),
            },
          }
        : {}),
      ...afterCursor(page.cursor),
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: page.limit + 1,
  });
  return toPage(rows, page.limit, (row) => ({
    id: row.id,
    action: row.action,
    actor: { type: row.actorType, id: row.actorId, label: row.actorLabel },
    target: { type: row.targetType, id: row.targetId },
    ip: row.ip,
    userAgent: row.userAgent,
    requestId: row.requestId,
    metadata: row.metadata,
    createdAt: row.createdAt,
  }));
}
