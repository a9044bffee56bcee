// Invitations: a single-use token of 256 random bits, stored only as SHA-256, bound to email + team + role,
// valid for 72 hours, revocable; resending rotates it. Accepting happens in one transaction.

import { randomToken, sha256 } from "@/lib/auth/tokens";
import type { Db, Tx } from "@/lib/db";
import { recordAudit } from "@/lib/domain/audit";
import { actorUserId, authorize, type Ctx, type RequestMeta } from "@/lib/domain/context";
import { afterCursor, type Page, type PageInput, toPage } from "@/lib/domain/pagination";
import { queueEmail } from "@/lib/email";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import type { Invitation, Role } from "@/lib/generated/prisma/client";

export const INVITATION_TTL_MS = 72 * 60 * 60_000;

export type InvitationStatus = "pending" | "accepted" | "revoked" | "expired";

export type InvitationView = {
  id: string;
  email: string;
  role: Role;
  status: InvitationStatus;
  expiresAt: Date;
  createdAt: Date;
  lastSentAt: Date;
};

/** What the inviter gets back: the link only when no mail is configured, to copy once. */
export type InvitationResult = { invitation: InvitationView; link: string | null; emailed: boolean };

export function invitationStatus(invitation: Invitation, now = new Date()): InvitationStatus {
  if (invitation.acceptedAt) return "accepted";
  if (invitation.revokedAt) return "revoked";
  if (invitation.expiresAt <= now) return "expired";
  return "pending";
}

export function invitationView(invitation: Invitation): InvitationView {
  return {
    id: invitation.id,
    email: invitation.email,
    role: invitation.role,
    status: invitationStatus(invitation),
    expiresAt: invitation.expiresAt,
    createdAt: invitation.createdAt,
    lastSentAt: invitation.lastSentAt,
  };
}

function acceptLink(token: string): string {
  return `${getEnv().publicUrl}/invitations/${token}`;
}

async function deliver(tx: Tx, ctx: Ctx, invitation: Invitation, token: string): Promise<InvitationResult> {
  const link = acceptLink(token);
  if (!getEnv().smtp) return { invitation: invitationView(invitation), link, emailed: false };
  const team = await tx.team.findUniqueOrThrow({ where: { id: ctx.teamId }, select: { name: true } });
  await queueEmail(tx, {
    to: invitation.email,
    subject: `You are invited to ${team.name} on Tussilago`,
    text: `${ctx.actor.type === "user" ? ctx.actor.label : "An administrator"} invited you to join the team "${team.name}" on Tussilago as ${invitation.role}.\n\nAccept the invitation here (valid for 72 hours):\n${link}\n`,
  });
  return { invitation: invitationView(invitation), link: null, emailed: true };
}

export async function createInvitation(
  db: Db,
  ctx: Ctx,
  input: { email: string; role: Role },
): Promise<InvitationResult> {
  authorize(ctx, "invitations:manage");
  if (input.role === "owner")
    throw new AppError("invalid", "Invite as admin, member or viewer; transfer ownership later.");
  return await db.$transaction(async (tx) => {
    // Serialises invitations per team, so two concurrent requests cannot both pass the "already pending" check.
    await tx.$queryRaw`SELECT id FROM "Team" WHERE id = ${ctx.teamId}::uuid FOR UPDATE`;
    const member = await tx.membership.findFirst({ where: { teamId: ctx.teamId, user: { email: input.email } } });
    if (member) throw new AppError("conflict", "This person is already a member of the team.");
    const pending = await tx.invitation.findFirst({
      where: {
        teamId: ctx.teamId,
        email: input.email,
        acceptedAt: null,
        revokedAt: null,
        expiresAt: { gt: new Date() },
      },
    });
    if (pending) throw new AppError("conflict", "This email already has a pending invitation; resend it instead.");
    const token = randomToken();
    const invitation = await tx.invitation.create({
      data: {
        teamId: ctx.teamId,
        email: input.email,
        role: input.role,
        tokenHash: sha256(token),
        expiresAt: new Date(Date.now() + INVITATION_TTL_MS),
        invitedBy: actorUserId(ctx),
      },
    });
    await recordAudit(tx, ctx, {
      action: "invitation.created",
      target: { type: "invitation", id: invitation.id },
      metadata: { email: invitation.email, role: invitation.role },
    });
    return await deliver(tx, ctx, invitation, token);
  });
}

export async function listInvitations(db: Db, ctx: Ctx, page: PageInput): Promise<Page<InvitationView>> {
  authorize(ctx, "invitations:read");
  const rows = await db.invitation.findMany({
    where: { teamId: ctx.teamId, ...afterCursor(page.cursor) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: page.limit + 1,
  });
  return toPage(rows, page.limit, invitationView);
}

async function pendingInvitationOrThrow(tx: Tx, ctx: Ctx, id: string): Promise<Invitation> {
  const invitation = await tx.invitation.findFirst({ where: { id, teamId: ctx.teamId } });
  if (!invitation) throw new AppError("not_found", "Invitation not found.");
  const status = invitationStatus(invitation);
  if (status === "accepted" || status === "revoked") {
    throw new AppError("conflict", `This invitation was already ${status}.`);
  }
  return invitation;
}

export async function revokeInvitation(db: Db, ctx: Ctx, input: { invitationId: string }): Promise<InvitationView> {
  authorize(ctx, "invitations:manage");
  return await db.$transaction(async (tx) => {
    const invitation = await pendingInvitationOrThrow(tx, ctx, input.invitationId);
    const revoked = await tx.invitation.update({ where: { id: invitation.id }, data: { revokedAt: new Date() } });
    await recordAudit(tx, ctx, {
      action: "invitation.revoked",
      target: { type: "invitation", id: invitation.id },
      metadata: { email: invitation.email },
    });
    return invitationView(revoked);
  });
}

/** Sends the invitation again with a new token (the old link stops working) and a new 72-hour window. */
export async function resendInvitation(db: Db, ctx: Ctx, input: { invitationId: string }): Promise<InvitationResult> {
  authorize(ctx, "invitations:manage");
  return await db.$transaction(async (tx) => {
    const invitation = await pendingInvitationOrThrow(tx, ctx, input.invitationId);
    const token = randomToken();
    const now = new Date();
    const rotated = await tx.invitation.update({
      where: { id: invitation.id },
      data: { tokenHash: sha256(token), expiresAt: new Date(now.getTime() + INVITATION_TTL_MS), lastSentAt: now },
    });
    await recordAudit(tx, ctx, {
      action: "invitation.resent",
      target: { type: "invitation", id: invitation.id },
      metadata: { email: invitation.email },
    });
    return await deliver(tx, ctx, rotated, token);
  });
}

export type InvitationPreview = { teamName: string; email: string; role: Role; status: InvitationStatus };

/** What the accept page shows. Knowing the token is the authorization; an unknown token reads as not found. */
export async function previewInvitation(db: Db, token: string): Promise<InvitationPreview> {
  const invitation = await db.invitation.findUnique({
    where: { tokenHash: sha256(token) },
    include: { team: { select: { name: true, status: true } } },
  });
  if (invitation?.team.status !== "active") throw new AppError("not_found", "This invitation link is not valid.");
  return {
    teamName: invitation.team.name,
    email: invitation.email,
    role: invitation.role,
    status: invitationStatus(invitation),
  };
}

/** Accepts an invitation for the signed-in user, in one transaction; the token is consumed exactly once. */
export async function acceptInvitation(
  db: Db,
  input: { userId: string; token: string; meta: RequestMeta },
): Promise<{ teamId: string }> {
  return await db.$transaction(async (tx) => {
    const user = await tx.user.findUniqueOrThrow({ where: { id: input.userId }, select: { email: true } });
    const invitation = await tx.invitation.findUnique({
      where: { tokenHash: sha256(input.token) },
      include: { team: { select: { status: true } } },
    });
    if (invitation?.team.status !== "active") throw new AppError("not_found", "This invitation link is not valid.");
    // The email first: someone signed in with another address learns nothing about the invitation's state.
    if (invitation.email !== user.email) {
      throw new AppError(
        "forbidden",
        "This invitation was sent to another email address. Sign in with that address to accept it.",
      );
    }
    const status = invitationStatus(invitation);
    if (status !== "pending") throw new AppError("conflict", `This invitation is ${status}. Ask for a new one.`);
    // The conditional update is the single-use guarantee: a concurrent accept finds nothing left to claim.
    const claimed = await tx.invitation.updateMany({
      where: { id: invitation.id, acceptedAt: null, revokedAt: null, expiresAt: { gt: new Date() } },
      data: { acceptedAt: new Date(), acceptedBy: input.userId },
    });
    if (claimed.count !== 1) throw new AppError("conflict", "This invitation was already used.");
    const existing = await tx.membership.findFirst({ where: { teamId: invitation.teamId, userId: input.userId } });
    if (!existing) {
      await tx.membership.create({ data: { teamId: invitation.teamId, userId: input.userId, role: invitation.role } });
    }
    const ctx: Ctx = {
      actor: { type: "user", userId: input.userId, label: user.email },
      teamId: invitation.teamId,
      role: existing?.role ?? invitation.role,
      meta: input.meta,
    };
    await recordAudit(tx, ctx, {
      action: "invitation.accepted",
      target: { type: "invitation", id: invitation.id },
      metadata: { email: user.email, role: invitation.role },
    });
    return { teamId: invitation.teamId };
  });
}
