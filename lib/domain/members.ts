// Team membership: list, change roles, remove, leave, transfer ownership. The last owner can neither leave nor be
// demoted.
import type { Db, Tx } from "@/lib/db";
import { revokeTokensOfCreator, tokenRole } from "@/lib/domain/api-tokens";
import { recordAudit } from "@/lib/domain/audit";
import { actorUserId, authorize, type Ctx } from "@/lib/domain/context";
import { afterCursor, type Page, type PageInput, toPage } from "@/lib/domain/pagination";
import { AppError } from "@/lib/errors";
import type { Role } from "@/lib/generated/prisma/client";

export type MemberView = {
  id: string;
  role: Role;
  user: { id: string; email: string; name: string | null };
  createdAt: Date;
};

export async function listMembers(db: Db, ctx: Ctx, page: PageInput): Promise<Page<MemberView>> {
  authorize(ctx, "members:read");
  const rows = await db.membership.findMany({
    where: { teamId: ctx.teamId, ...afterCursor(page.cursor) },
    include: { user: { select: { id: true, email: true, name: true } } },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: page.limit + 1,
  });
  return toPage(rows, page.limit, (row) => ({ id: row.id, role: row.role, user: row.user, createdAt: row.createdAt }));
}

async function membershipOrThrow(tx: Tx, ctx: Ctx, membershipId: string) {
  const membership = await tx.membership.findFirst({
    where: { id: membershipId, teamId: ctx.teamId },
    include: { user: { select: { email: true } } },
  });
  if (!membership) throw new AppError("not_found", "Member not found.");
  return membership;
}

async function assertNotLastOwner(tx: Tx, teamId: string, membershipId: string): Promise<void> {
  const owners = await tx.membership.findMany({ where: { teamId, role: "owner" }, select: { id: true } });
  if (owners.length === 1 && owners[0]?.id === membershipId) {
    throw new AppError("conflict", "A team needs an owner: transfer ownership first.");
  }
}

// Serialises changes to one team's memberships so two admins cannot each remove "the other" last owner.
async function lockTeam(tx: Tx, teamId: string): Promise<void> {
  await tx.$queryRaw`SELECT id FROM "Team" WHERE id = ${teamId}::uuid FOR UPDATE`;
}

/**
 * The caller's role as it is now, under the team lock: the context was built before the lock was taken, and a
 * co-owner may have removed or demoted the caller (or a token's creator) meanwhile.
 */
async function lockedContext(tx: Tx, ctx: Ctx): Promise<Ctx> {
  await lockTeam(tx, ctx.teamId);
  if (ctx.actor.type === "token") {
    const token = await tx.apiToken.findFirst({
      where: { id: ctx.actor.tokenId, teamId: ctx.teamId, revokedAt: null },
      select: { createdBy: true },
    });
    const creator = token?.createdBy
      ? await tx.membership.findFirst({
          where: { teamId: ctx.teamId, userId: token.createdBy },
          select: { role: true },
        })
      : null;
    const role = token
      ? tokenRole(ctx.actor.scopes, { createdBy: token.createdBy, role: creator?.role ?? null })
      : null;
    if (!role) throw new AppError("unauthenticated", "A valid API token is required (Authorization: Bearer tsl_...).");
    return { ...ctx, role };
  }
  const userId = actorUserId(ctx);
  if (!userId) return ctx;
  const membership = await tx.membership.findFirst({ where: { teamId: ctx.teamId, userId }, select: { role: true } });
  if (!membership) throw new AppError("not_found", "Team not found.");
  return { ...ctx, role: membership.role };
}

export async function changeMemberRole(
  db: Db,
  ctx: Ctx,
  input: { membershipId: string; role: Role },
): Promise<MemberView> {
  authorize(ctx, "members:manage");
  if (input.role === "owner") throw new AppError("invalid", "Use ownership transfer to make someone an owner.");
  return await db.$transaction(async (tx) => {
    await lockTeam(tx, ctx.teamId);
    const membership = await membershipOrThrow(tx, ctx, input.membershipId);
    if (membership.role === "owner" && ctx.role !== "owner") {
      throw new AppError("forbidden", "Only an owner can change an owner's role.");
    }
    if (membership.role === "owner") await assertNotLastOwner(tx, ctx.teamId, membership.id);
    const updated = await tx.membership.update({
      where: { id: membership.id },
      data: { role: input.role },
      include: { user: { select: { id: true, email: true, name: true } } },
    });
    await recordAudit(tx, ctx, {
      action: "member.role_changed",
      target: { type: "membership", id: membership.id },
      metadata: { email: membership.user.email, from: membership.role, to: input.role },
    });
    return { id: updated.id, role: updated.role, user: updated.user, createdAt: updated.createdAt };
  });
}

/**
 * Removes a member; anyone may remove themselves (leave), admins may remove others, only owners remove owners. The
 * API tokens the member created are revoked in the same transaction (one audit event each).
 */
export async function removeMember(db: Db, outer: Ctx, input: { membershipId: string }): Promise<void> {
  await db.$transaction(async (tx) => {
    const ctx = await lockedContext(tx, outer);
    const membership = await membershipOrThrow(tx, ctx, input.membershipId);
    const self = membership.userId === actorUserId(ctx);
    if (!self) authorize(ctx, "members:manage");
    if (!self && membership.role === "owner" && ctx.role !== "owner") {
      throw new AppError("forbidden", "Only an owner can remove an owner.");
    }
    if (membership.role === "owner") await assertNotLastOwner(tx, ctx.teamId, membership.id);
    await tx.membership.delete({ where: { id: membership.id } });
    await recordAudit(tx, ctx, {
      action: self ? "member.left" : "member.removed",
      target: { type: "membership", id: membership.id },
      metadata: { email: membership.user.email, role: membership.role },
    });
    await revokeTokensOfCreator(tx, ctx, {
      userId: membership.userId,
      reason: self ? "creator_left" : "creator_removed",
    });
  });
}

/** Makes another member an owner; the current owner stays on as admin. */
export async function transferOwnership(db: Db, outer: Ctx, input: { membershipId: string }): Promise<void> {
  authorize(outer, "team:transfer");
  const userId = actorUserId(outer);
  if (!userId) throw new AppError("forbidden", "Only a signed-in owner can transfer ownership.");
  await db.$transaction(async (tx) => {
    const ctx = await lockedContext(tx, outer);
    authorize(ctx, "team:transfer");
    const target = await membershipOrThrow(tx, ctx, input.membershipId);
    if (target.userId === userId) throw new AppError("invalid", "You already own this team.");
    await tx.membership.update({ where: { id: target.id }, data: { role: "owner" } });
    await tx.membership.updateMany({ where: { teamId: ctx.teamId, userId }, data: { role: "admin" } });
    await recordAudit(tx, ctx, {
      action: "team.ownership_transferred",
      target: { type: "membership", id: target.id },
      metadata: { to: target.user.email },
    });
  });
}
