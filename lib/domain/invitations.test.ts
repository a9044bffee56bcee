// Invitations: token strength and storage, single use, binding to the email, expiry, revocation, rotation on resend,
// atomic acceptance, and delivery with and without SMTP.
import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { randomToken, sha256 } from "@/lib/auth/tokens";
import { decryptSecret } from "@/lib/crypto";
import { getDb } from "@/lib/db";
import { type Ctx, type RequestMeta, userContext } from "@/lib/domain/context";
import {
  acceptInvitation,
  createInvitation,
  INVITATION_TTL_MS,
  type InvitationResult,
  listInvitations,
  previewInvitation,
  resendInvitation,
  revokeInvitation,
} from "@/lib/domain/invitations";
import { getEnv, resetEnvForTests } from "@/lib/env";
import type { Role } from "@/lib/generated/prisma/enums";
import { expectAppError } from "@/test/errors";
import { pendingJobs } from "@/test/helpers";

function meta(): RequestMeta {
  return { requestId: randomUUID(), ip: "192.0.2.10", userAgent: "invitations-test" };
}

function uniqueEmail(label: string): string {
  return `${label}-${randomUUID().slice(0, 12)}@example.test`;
}

async function newUser(email = uniqueEmail("user")) {
  return await getDb().user.create({ data: { email } });
}

async function newTeam(): Promise<{ teamId: string; ownerId: string; ctx: Ctx }> {
  const db = getDb();
  const owner = await newUser(uniqueEmail("owner"));
  const team = await db.team.create({ data: { name: "Invite Co", slug: `invite-${randomUUID()}` } });
  await db.membership.create({ data: { teamId: team.id, userId: owner.id, role: "owner" } });
  return { teamId: team.id, ownerId: owner.id, ctx: await userContext(db, owner.id, team.id, meta()) };
}

function tokenOf(link: string | null): string {
  const token = link?.split("/invitations/").at(1);
  if (!token) throw new Error(`not an invitation link: ${link}`);
  return token;
}

/** Invites a fresh address (no SMTP configured) and returns the result, the address and the token from the link. */
async function invite(ctx: Ctx, role: Role = "member", email = uniqueEmail("invitee")) {
  const result = await createInvitation(getDb(), ctx, { email, role });
  return { result, email, token: tokenOf(result.link) };
}

async function accept(userId: string, token: string) {
  return await acceptInvitation(getDb(), { userId, token, meta: meta() });
}

async function membershipOf(teamId: string, userId: string) {
  return await getDb().membership.findFirst({ where: { teamId, userId } });
}

async function invitationRow(id: string) {
  return await getDb().invitation.findUniqueOrThrow({ where: { id } });
}

describe("the invitation token", () => {
  it("carries at least 128 random bits and is unique", async () => {
    const { ctx } = await newTeam();
    const a = await invite(ctx);
    const b = await invite(ctx);
    expect(a.result.link).toBe(`${getEnv().publicUrl}/invitations/${a.token}`);
    expect(a.token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(a.token, "base64url").length).toBeGreaterThanOrEqual(16);
    expect(a.token).not.toBe(b.token);
  });

  it("is stored only as its SHA-256: no column of any row holds the token", async () => {
    const { ctx, teamId } = await newTeam();
    const { result, token } = await invite(ctx);
    const row = await invitationRow(result.invitation.id);
    expect(row.tokenHash).toBe(sha256(token));
    expect(JSON.stringify(row)).not.toContain(token);
    const audit = await getDb().auditEvent.findMany({ where: { teamId } });
    expect(JSON.stringify(audit)).not.toContain(token);
    expect(JSON.stringify(audit)).not.toContain(row.tokenHash);
  });

  it("never appears in the inviter's list", async () => {
    const { ctx } = await newTeam();
    const { token } = await invite(ctx);
    const page = await listInvitations(getDb(), ctx, { limit: 50 });
    expect(JSON.stringify(page)).not.toContain(token);
    expect(JSON.stringify(page)).not.toContain(sha256(token));
  });
});

describe("creating an invitation", () => {
  it("answers with the link and emailed: false when no mail is configured, audited once", async () => {
    const { ctx, teamId } = await newTeam();
    const before = Date.now();
    const { result, email } = await invite(ctx, "admin");
    const after = Date.now();
    expect(result.emailed).toBe(false);
    expect(result.link).not.toBeNull();
    expect(result.invitation).toMatchObject({ email, role: "admin", status: "pending" });
    expect(result.invitation.expiresAt.getTime()).toBeGreaterThanOrEqual(before + INVITATION_TTL_MS);
    expect(result.invitation.expiresAt.getTime()).toBeLessThanOrEqual(after + INVITATION_TTL_MS);
    expect(INVITATION_TTL_MS).toBeLessThanOrEqual(72 * 3600_000);
    const audit = await getDb().auditEvent.findMany({ where: { teamId, action: "invitation.created" } });
    expect(audit).toHaveLength(1);
    expect(await getDb().outboundEmail.count({ where: { to: email } })).toBe(0);
  });

  it("refuses a second pending invitation for the same email", async () => {
    const { ctx, teamId } = await newTeam();
    const { email } = await invite(ctx);
    await expectAppError(createInvitation(getDb(), ctx, { email, role: "viewer" }), "conflict");
    expect(await getDb().invitation.count({ where: { teamId, email } })).toBe(1);
  });

  it("allows a new invitation once the previous one was revoked or expired", async () => {
    const { ctx, teamId } = await newTeam();
    const first = await invite(ctx);
    await revokeInvitation(getDb(), ctx, { invitationId: first.result.invitation.id });
    const second = await invite(ctx, "member", first.email);
    await getDb().invitation.update({
      where: { id: second.result.invitation.id },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    await invite(ctx, "member", first.email);
    expect(await getDb().invitation.count({ where: { teamId, email: first.email } })).toBe(3);
  });

  it("refuses to invite someone who is already a member", async () => {
    const { ctx, teamId } = await newTeam();
    const member = await newUser();
    await getDb().membership.create({ data: { teamId, userId: member.id, role: "viewer" } });
    await expectAppError(createInvitation(getDb(), ctx, { email: member.email, role: "admin" }), "conflict");
    expect(await getDb().invitation.count({ where: { teamId } })).toBe(0);
  });
});

describe("accepting", () => {
  it("creates the membership with the invited role and consumes the invitation, audited once", async () => {
    const { ctx, teamId } = await newTeam();
    const { result, email, token } = await invite(ctx, "viewer");
    const user = await newUser(email);
    const acceptMeta = meta();
    await expect(acceptInvitation(getDb(), { userId: user.id, token, meta: acceptMeta })).resolves.toEqual({ teamId });
    expect((await membershipOf(teamId, user.id))?.role).toBe("viewer");
    const row = await invitationRow(result.invitation.id);
    expect(row.acceptedAt).toBeInstanceOf(Date);
    expect(row.acceptedBy).toBe(user.id);
    const audit = await getDb().auditEvent.findMany({ where: { teamId, action: "invitation.accepted" } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorId: user.id, targetId: row.id, requestId: acceptMeta.requestId });
  });

  it("is single use: the same user twice, or another user with the same link, is refused", async () => {
    const { ctx, teamId } = await newTeam();
    const { result, email, token } = await invite(ctx);
    const user = await newUser(email);
    await accept(user.id, token);
    await expectAppError(accept(user.id, token), "conflict");
    // Another address is refused before the invitation's state is looked at, so it learns nothing about it.
    const other = await newUser();
    await expectAppError(accept(other.id, token), "forbidden");
    expect(await membershipOf(teamId, other.id)).toBeNull();
    expect((await invitationRow(result.invitation.id)).acceptedBy).toBe(user.id);
  });

  it("is single use under concurrency", async () => {
    const { ctx, teamId } = await newTeam();
    const { email, token } = await invite(ctx);
    const user = await newUser(email);
    const results = await Promise.allSettled([accept(user.id, token), accept(user.id, token), accept(user.id, token)]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(await getDb().membership.count({ where: { teamId, userId: user.id } })).toBe(1);
    expect(await getDb().auditEvent.count({ where: { teamId, action: "invitation.accepted" } })).toBe(1);
  });

  it("refuses a revoked invitation", async () => {
    const { ctx, teamId } = await newTeam();
    const { result, email, token } = await invite(ctx);
    await revokeInvitation(getDb(), ctx, { invitationId: result.invitation.id });
    const user = await newUser(email);
    await expectAppError(accept(user.id, token), "conflict");
    expect(await membershipOf(teamId, user.id)).toBeNull();
    expect((await previewInvitation(getDb(), token)).status).toBe("revoked");
  });

  it("refuses an expired invitation", async () => {
    const { ctx, teamId } = await newTeam();
    const { result, email, token } = await invite(ctx);
    await getDb().invitation.update({
      where: { id: result.invitation.id },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    const user = await newUser(email);
    await expectAppError(accept(user.id, token), "conflict");
    expect(await membershipOf(teamId, user.id)).toBeNull();
    expect((await invitationRow(result.invitation.id)).acceptedAt).toBeNull();
    expect((await previewInvitation(getDb(), token)).status).toBe("expired");
  });

  it("refuses another email address with a clear message and leaves the invitation usable", async () => {
    const { ctx, teamId } = await newTeam();
    const { result, email, token } = await invite(ctx);
    const intruder = await newUser();
    const error = await expectAppError(accept(intruder.id, token), "forbidden");
    expect(error.message).toMatch(/another email address/);
    expect(error.message).toMatch(/[Ss]ign in with that address/);
    expect(await membershipOf(teamId, intruder.id)).toBeNull();
    const row = await invitationRow(result.invitation.id);
    expect(row.acceptedAt).toBeNull();
    expect(row.acceptedBy).toBeNull();
    expect(await getDb().auditEvent.count({ where: { teamId, action: "invitation.accepted" } })).toBe(0);
    // The right person can still accept afterwards.
    const invitee = await newUser(email);
    await accept(invitee.id, token);
    expect((await membershipOf(teamId, invitee.id))?.role).toBe("member");
  });

  it("is one transaction: when the audit insert fails, neither the membership nor the claim remains", async () => {
    const { ctx, teamId } = await newTeam();
    const { result, email, token } = await invite(ctx);
    const user = await newUser(email);
    const db = getDb();
    // A test-only trigger (this file has its own database) makes the last statement of the acceptance fail.
    await db.$executeRawUnsafe(`CREATE FUNCTION test_fail_accept_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.action = 'invitation.accepted' THEN RAISE EXCEPTION 'audit insert refused by the test'; END IF;
        RETURN NEW;
      END $$`);
    await db.$executeRawUnsafe(`CREATE TRIGGER test_fail_accept_audit BEFORE INSERT ON "AuditEvent"
      FOR EACH ROW EXECUTE FUNCTION test_fail_accept_audit()`);
    try {
      await expect(accept(user.id, token)).rejects.toThrow();
    } finally {
      await db.$executeRawUnsafe(`DROP TRIGGER test_fail_accept_audit ON "AuditEvent"`);
      await db.$executeRawUnsafe(`DROP FUNCTION test_fail_accept_audit()`);
    }
    expect(await membershipOf(teamId, user.id)).toBeNull();
    const row = await invitationRow(result.invitation.id);
    expect(row.acceptedAt).toBeNull();
    expect(row.acceptedBy).toBeNull();
    await accept(user.id, token);
    expect((await membershipOf(teamId, user.id))?.role).toBe("member");
  });

  it("answers not_found for a token that matches nothing", async () => {
    const user = await newUser();
    await expectAppError(accept(user.id, randomToken()), "not_found");
  });
});

describe("previewInvitation", () => {
  it("shows what the link is for", async () => {
    const { ctx } = await newTeam();
    const { email, token } = await invite(ctx, "admin");
    expect(await previewInvitation(getDb(), token)).toEqual({
      teamName: "Invite Co",
      email,
      role: "admin",
      status: "pending",
    });
  });

  it("answers the same not_found for an unknown, malformed or emptied token", async () => {
    const messages = new Set<string>();
    for (const token of [randomToken(), "x", "", "../../etc/passwd", `${randomToken()}%00`]) {
      messages.add((await expectAppError(previewInvitation(getDb(), token), "not_found")).message);
    }
    expect(messages.size).toBe(1);
  });
});

describe("revoking", () => {
  it("marks the invitation revoked once, audited once; a second revoke is a conflict", async () => {
    const { ctx, teamId } = await newTeam();
    const { result } = await invite(ctx);
    const revoked = await revokeInvitation(getDb(), ctx, { invitationId: result.invitation.id });
    expect(revoked.status).toBe("revoked");
    await expectAppError(revokeInvitation(getDb(), ctx, { invitationId: result.invitation.id }), "conflict");
    expect(await getDb().auditEvent.count({ where: { teamId, action: "invitation.revoked" } })).toBe(1);
  });

  it("cannot revoke an accepted invitation", async () => {
    const { ctx } = await newTeam();
    const { result, email, token } = await invite(ctx);
    await accept((await newUser(email)).id, token);
    await expectAppError(revokeInvitation(getDb(), ctx, { invitationId: result.invitation.id }), "conflict");
    expect((await invitationRow(result.invitation.id)).revokedAt).toBeNull();
  });
});

describe("resending", () => {
  it("rotates the token and extends the expiry: the old link stops working, the new one works", async () => {
    const { ctx, teamId } = await newTeam();
    const { result, email, token: oldToken } = await invite(ctx);
    const nearlyExpired = new Date(Date.now() + 60_000);
    await getDb().invitation.update({ where: { id: result.invitation.id }, data: { expiresAt: nearlyExpired } });
    const before = Date.now();
    const resent = await resendInvitation(getDb(), ctx, { invitationId: result.invitation.id });
    const after = Date.now();
    const newToken = tokenOf(resent.link);
    expect(newToken).not.toBe(oldToken);
    expect(resent.invitation.id).toBe(result.invitation.id);
    expect(resent.invitation.expiresAt.getTime()).toBeGreaterThanOrEqual(before + INVITATION_TTL_MS);
    expect(resent.invitation.expiresAt.getTime()).toBeLessThanOrEqual(after + INVITATION_TTL_MS);
    expect(resent.invitation.lastSentAt.getTime()).toBeGreaterThanOrEqual(before);
    const row = await invitationRow(result.invitation.id);
    expect(row.tokenHash).toBe(sha256(newToken));

    await expectAppError(previewInvitation(getDb(), oldToken), "not_found");
    const user = await newUser(email);
    await expectAppError(accept(user.id, oldToken), "not_found");
    await accept(user.id, newToken);
    expect(await membershipOf(teamId, user.id)).not.toBeNull();
    expect(await getDb().auditEvent.count({ where: { teamId, action: "invitation.resent" } })).toBe(1);
  });

  it("revives an expired invitation", async () => {
    const { ctx, teamId } = await newTeam();
    const { result, email } = await invite(ctx);
    await getDb().invitation.update({
      where: { id: result.invitation.id },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    const resent = await resendInvitation(getDb(), ctx, { invitationId: result.invitation.id });
    expect(resent.invitation.status).toBe("pending");
    const user = await newUser(email);
    await accept(user.id, tokenOf(resent.link));
    expect(await membershipOf(teamId, user.id)).not.toBeNull();
  });

  it("refuses accepted and revoked invitations, without rotating them", async () => {
    const { ctx } = await newTeam();
    const accepted = await invite(ctx);
    await accept((await newUser(accepted.email)).id, accepted.token);
    const revoked = await invite(ctx);
    await revokeInvitation(getDb(), ctx, { invitationId: revoked.result.invitation.id });
    for (const { result, token } of [accepted, revoked]) {
      await expectAppError(resendInvitation(getDb(), ctx, { invitationId: result.invitation.id }), "conflict");
      expect((await invitationRow(result.invitation.id)).tokenHash).toBe(sha256(token));
    }
  });
});

describe("with SMTP configured", () => {
  let saved: string | undefined;

  beforeEach(() => {
    saved = process.env.SMTP_URL;
    process.env.SMTP_URL = "smtp://localhost:2525";
    resetEnvForTests();
  });

  afterEach(() => {
    if (saved === undefined) delete process.env.SMTP_URL;
    else process.env.SMTP_URL = saved;
    resetEnvForTests();
  });

  async function emailTo(address: string) {
    const emails = await getDb().outboundEmail.findMany({ where: { to: address }, orderBy: { createdAt: "asc" } });
    return emails;
  }

  function tokenInBody(bodyEncrypted: string): string {
    const match = /\/invitations\/([A-Za-z0-9_-]+)/.exec(decryptSecret(bodyEncrypted));
    if (!match?.[1]) throw new Error("no invitation link in the email");
    return match[1];
  }

  it("queues an encrypted email and a send job instead of returning the link", async () => {
    const { ctx, teamId } = await newTeam();
    const email = uniqueEmail("mailed");
    const result: InvitationResult = await createInvitation(getDb(), ctx, { email, role: "member" });
    expect(result.link).toBeNull();
    expect(result.emailed).toBe(true);

    const [queued, ...more] = await emailTo(email);
    expect(more).toEqual([]);
    if (!queued) throw new Error("no email queued");
    expect(queued.subject).toContain("Invite Co");
    expect(queued.sentAt).toBeNull();
    expect(queued.bodyEncrypted.startsWith("v1.")).toBe(true);
    const token = tokenInBody(queued.bodyEncrypted);
    expect(queued.bodyEncrypted).not.toContain(token);
    expect(JSON.stringify(queued)).not.toContain(token);
    expect(decryptSecret(queued.bodyEncrypted)).toContain(`${getEnv().publicUrl}/invitations/${token}`);

    const jobs = await pendingJobs("email__send");
    expect(jobs.map((job) => job.payload)).toContainEqual({ emailId: queued.id });

    // The link in the email is the one that works.
    const user = await newUser(email);
    await accept(user.id, token);
    expect(await membershipOf(teamId, user.id)).not.toBeNull();
  });

  it("sends a new email with a new link on resend", async () => {
    const { ctx } = await newTeam();
    const email = uniqueEmail("remailed");
    const created = await createInvitation(getDb(), ctx, { email, role: "viewer" });
    const resent = await resendInvitation(getDb(), ctx, { invitationId: created.invitation.id });
    expect(resent).toMatchObject({ link: null, emailed: true });
    const [first, second] = await emailTo(email);
    if (!first || !second) throw new Error("expected two emails");
    const [oldToken, newToken] = [tokenInBody(first.bodyEncrypted), tokenInBody(second.bodyEncrypted)];
    expect(newToken).not.toBe(oldToken);
    await expectAppError(previewInvitation(getDb(), oldToken), "not_found");
    expect((await previewInvitation(getDb(), newToken)).status).toBe("pending");
  });

  it("queues nothing when the invitation is refused", async () => {
    const { ctx, teamId } = await newTeam();
    const member = await newUser();
    await getDb().membership.create({ data: { teamId, userId: member.id, role: "viewer" } });
    const jobsBefore = (await pendingJobs("email__send")).length;
    await expectAppError(createInvitation(getDb(), ctx, { email: member.email, role: "admin" }), "conflict");
    expect(await emailTo(member.email)).toEqual([]);
    expect(await pendingJobs("email__send")).toHaveLength(jobsBefore);
  });
});
