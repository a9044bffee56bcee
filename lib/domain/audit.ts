// The audit log: one append-only row per mutation, written in the mutation's transaction.
import { z } from "zod";
import { roleAllows } from "@/lib/auth/permissions";
import type { Db, Tx } from "@/lib/db";
import { authorize, type Ctx } from "@/lib/domain/context";
import { afterCursor, type Page, type PageInput, toPage } from "@/lib/domain/pagination";
import { lineText } from "@/lib/domain/text";
import { AppError } from "@/lib/errors";
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

// PostgreSQL has no year 0 and JavaScript dates reach beyond year 9999: both fail the query ("date/time field value
// out of range"), so a filter date keeps to the years 0001 to 9999, like the API's query rule.
const filterDate = z.coerce.date().refine((date) => {
  const year = date.getUTCFullYear();
  return year >= 1 && year <= 9999;
}, "Must be between the years 0001 and 9999.");

export const auditFilters = z.strictObject({
  // Compared in a query: PostgreSQL refuses NUL, and no stored action holds a control character.
  action: lineText().max(100).optional(),
  actorId: z.uuid().optional(),
  targetId: z.uuid().optional(),
  since: filterDate.optional(),
  until: filterDate.optional(),
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

/**
 * Who reads which field (the page and the API both come through here, so they agree):
 * - every role that reads the audit log (viewer and up, a read token acting as a viewer) sees every event, its
 *   action, actor, target, request ID and metadata;
 * - an event's IP address and user agent: admins and owners (and write tokens, which act as admins), and the actor
 *   of the event themselves; for anyone else they are null, since they locate and fingerprint a person;
 * - an invitee's email in invitation events: admins and owners only, as for the invitation list
 *   ("invitations:read"); members' emails stay, since every role sees the member list.
 */
export async function listAuditEvents(
  db: Db,
  ctx: Ctx,
  input: AuditFilters,
  page: PageInput,
): Promise<Page<AuditEventView>> {
  authorize(ctx, "audit:read");
  // Domain functions validate too: the page, the API and the CLI all reach them, and a NUL or a year 0 would
  // otherwise fail in PostgreSQL.
  const parsed = auditFilters.safeParse(input);
  if (!parsed.success) {
    throw new AppError("invalid", "The filters are not valid.", {
      details: parsed.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })),
    });
  }
  const filters = parsed.data;
  const seesAll = roleAllows(ctx.role, "invitations:read");
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
  return toPage(rows, page.limit, (row) => {
    const own = row.actorType === ctx.actor.type && row.actorId !== null && row.actorId === actorIdOf(ctx);
    return {
      id: row.id,
      action: row.action,
      actor: { type: row.actorType, id: row.actorId, label: row.actorLabel },
      target: { type: row.targetType, id: row.targetId },
      ip: seesAll || own ? row.ip : null,
      userAgent: seesAll || own ? row.userAgent : null,
      requestId: row.requestId,
      metadata: seesAll ? row.metadata : withoutInviteeEmail(row.action, row.metadata),
      createdAt: row.createdAt,
    };
  });
}

function actorIdOf(ctx: Ctx): string {
  return ctx.actor.type === "user" ? ctx.actor.userId : ctx.actor.tokenId;
}

/** Invitation events name a person who may never have joined: their address is as private as the invitation list. */
function withoutInviteeEmail(action: string, metadata: Prisma.JsonValue): Prisma.JsonValue {
  if (!action.startsWith("invitation.") || metadata === null || typeof metadata !== "object" || Array.isArray(metadata))
    return metadata;
  const { email: _email, ...rest } = metadata;
  return rest;
}
