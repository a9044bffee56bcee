// The audit log: one complete row per mutation, never a secret, append-only, filterable and paginated without
// duplicates; and every list function at a constant number of SQL statements.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sha256 } from "@/lib/auth/tokens";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { authenticateApiToken, createApiToken, listApiTokens, revokeApiToken } from "@/lib/domain/api-tokens";
import { auditFilters, listAuditEvents, recordAudit } from "@/lib/domain/audit";
import { type Ctx, type RequestMeta, userContext } from "@/lib/domain/context";
import {
  acceptInvitation,
  createInvitation,
  listInvitations,
  resendInvitation,
  revokeInvitation,
} from "@/lib/domain/invitations";
import { changeMemberRole, listMembers, removeMember, transferOwnership } from "@/lib/domain/members";
import { createTeam, deleteTeam, listTeamsForUser, renameTeam } from "@/lib/domain/teams";
import { changePassword, createUser } from "@/lib/domain/users";
import { AppError } from "@/lib/errors";
import type { AuditEvent } from "@/lib/generated/prisma/client";

let counter = 0;
function meta(): RequestMeta {
  counter += 1;
  return { requestId: randomUUID(), ip: `198.51.100.${counter % 250}`, userAgent: `audit-test/${counter}` };
}

function uniqueEmail(label = "user"): string {
  return `${label}-${randomUUID().slice(0, 12)}@example.test`;
}

async function newUser(label = "user") {
  return await getDb().user.create({ data: { email: uniqueEmail(label) } });
}

async function newTeam(name = `Audit ${randomUUID().slice(0, 6)}`) {
  const owner = await newUser("owner");
  const team = await createTeam(getDb(), { userId: owner.id, name, meta: meta() });
  const ctx = await userContext(getDb(), owner.id, team.id, meta());
  return { team, owner, ctx };
}

async function addMember(teamId: string, role: "admin" | "member" | "viewer" | "owner") {
  const user = await newUser(role);
  const membership = await getDb().membership.create({ data: { teamId, userId: user.id, role } });
  return { user, membership };
}

/** Runs a mutation and returns the audit rows it added to the team. */
async function auditOf(teamId: string, mutation: () => Promise<unknown>): Promise<AuditEvent[]> {
  const before = new Set(
    (await getDb().auditEvent.findMany({ where: { teamId }, select: { id: true } })).map((r) => r.id),
  );
  await mutation();
  const after = await getDb().auditEvent.findMany({ where: { teamId }, orderBy: { createdAt: "asc" } });
  return after.filter((row) => !before.has(row.id));
}

/** Exactly one row, carrying who, what, on which target, and the request it came from. */
async function expectOneEvent(
  ctx: Ctx,
  expected: { action: string; targetType: string; targetId: string },
  mutation: () => Promise<unknown>,
): Promise<AuditEvent> {
  const rows = await auditOf(ctx.teamId, mutation);
  expect(rows.map((row) => row.action)).toEqual([expected.action]);
  const [row] = rows;
  if (!row) throw new Error("no audit row");
  expect(row).toMatchObject({
    teamId: ctx.teamId,
    action: expected.action,
    actorType: ctx.actor.type,
    actorId: ctx.actor.type === "user" ? ctx.actor.userId : ctx.actor.tokenId,
    actorLabel: ctx.actor.label,
    targetType: expected.targetType,
    targetId: expected.targetId,
    requestId: ctx.meta.requestId,
    ip: ctx.meta.ip,
    userAgent: ctx.meta.userAgent,
  });
  return row;
}

function withMeta(ctx: Ctx): Ctx {
  return { ...ctx, meta: meta() };
}

describe("every mutation writes exactly one complete audit row", () => {
  it("team.created", async () => {
    const owner = await newUser("creator");
    const requestMeta = meta();
    const team = await createTeam(getDb(), { userId: owner.id, name: "Created", meta: requestMeta });
    const rows = await getDb().auditEvent.findMany({ where: { teamId: team.id } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      action: "team.created",
      actorType: "user",
      actorId: owner.id,
      actorLabel: owner.email,
      targetType: "team",
      targetId: team.id,
      requestId: requestMeta.requestId,
      ip: requestMeta.ip,
      userAgent: requestMeta.userAgent,
    });
  });

  it("team.renamed", async () => {
    const { team, ctx } = await newTeam();
    const c = withMeta(ctx);
    await expectOneEvent(c, { action: "team.renamed", targetType: "team", targetId: team.id }, () =>
      renameTeam(getDb(), c, { name: "New name" }),
    );
  });

  it("member.role_changed, member.removed, member.left", async () => {
    const { team, ctx } = await newTeam();
    const a = await addMember(team.id, "member");
    const b = await addMember(team.id, "viewer");
    const c1 = withMeta(ctx);
    const changed = await expectOneEvent(
      c1,
      { action: "member.role_changed", targetType: "membership", targetId: a.membership.id },
      () => changeMemberRole(getDb(), c1, { membershipId: a.membership.id, role: "admin" }),
    );
    expect(changed.metadata).toEqual({ email: a.user.email, from: "member", to: "admin" });
    const c2 = withMeta(ctx);
    await expectOneEvent(c2, { action: "member.removed", targetType: "membership", targetId: b.membership.id }, () =>
      removeMember(getDb(), c2, { membershipId: b.membership.id }),
    );
    const self = await userContext(getDb(), a.user.id, team.id, meta());
    await expectOneEvent(self, { action: "member.left", targetType: "membership", targetId: a.membership.id }, () =>
      removeMember(getDb(), self, { membershipId: a.membership.id }),
    );
  });

  it("team.ownership_transferred", async () => {
    const { team, ctx } = await newTeam();
    const heir = await addMember(team.id, "admin");
    const c = withMeta(ctx);
    await expectOneEvent(
      c,
      { action: "team.ownership_transferred", targetType: "membership", targetId: heir.membership.id },
      () => transferOwnership(getDb(), c, { membershipId: heir.membership.id }),
    );
  });

  it("invitation.created, invitation.resent, invitation.revoked, invitation.accepted", async () => {
    const { team, ctx } = await newTeam();
    const email = uniqueEmail("invitee");
    let invitationId = "";
    let link: string | null = null;
    const c1 = withMeta(ctx);
    const rows = await auditOf(team.id, async () => {
      const result = await createInvitation(getDb(), c1, { email, role: "member" });
      invitationId = result.invitation.id;
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      action: "invitation.created",
      targetId: invitationId,
      requestId: c1.meta.requestId,
    });
    expect(rows[0]?.metadata).toEqual({ email, role: "member" });

    const c2 = withMeta(ctx);
    await expectOneEvent(
      c2,
      { action: "invitation.resent", targetType: "invitation", targetId: invitationId },
      async () => {
        link = (await resendInvitation(getDb(), c2, { invitationId })).link;
      },
    );

    const invitee = await getDb().user.create({ data: { email } });
    const acceptMeta = meta();
    const accepted = await auditOf(team.id, () =>
      acceptInvitation(getDb(), { userId: invitee.id, token: String(link).split("/").at(-1) ?? "", meta: acceptMeta }),
    );
    expect(accepted).toHaveLength(1);
    expect(accepted[0]).toMatchObject({
      action: "invitation.accepted",
      actorType: "user",
      actorId: invitee.id,
      actorLabel: email,
      targetType: "invitation",
      targetId: invitationId,
      requestId: acceptMeta.requestId,
      ip: acceptMeta.ip,
      userAgent: acceptMeta.userAgent,
    });

    const other = await createInvitation(getDb(), ctx, { email: uniqueEmail("other"), role: "viewer" });
    const c3 = withMeta(ctx);
    await expectOneEvent(
      c3,
      { action: "invitation.revoked", targetType: "invitation", targetId: other.invitation.id },
      () => revokeInvitation(getDb(), c3, { invitationId: other.invitation.id }),
    );
  });

  it("api_token.created and api_token.revoked, by a user and by a token", async () => {
    const { team, ctx } = await newTeam();
    const c1 = withMeta(ctx);
    let tokenId = "";
    const rows = await auditOf(team.id, async () => {
      tokenId = (await createApiToken(getDb(), c1, { name: "ci", scopes: ["read", "write"] })).apiToken.id;
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: "api_token.created", targetType: "api_token", targetId: tokenId });
    expect(rows[0]?.metadata).toEqual({ name: "ci", scopes: ["read", "write"] });

    const writer = await createApiToken(getDb(), ctx, { name: "robot", scopes: ["read", "write"] });
    const tokenCtx = await authenticateApiToken(getDb(), writer.token, meta());
    await expectOneEvent(tokenCtx, { action: "api_token.revoked", targetType: "api_token", targetId: tokenId }, () =>
      revokeApiToken(getDb(), tokenCtx, { tokenId }),
    );
  });

  it("team.deletion_requested", async () => {
    const { team, ctx } = await newTeam("Doomed");
    const c = withMeta(ctx);
    await expectOneEvent(c, { action: "team.deletion_requested", targetType: "team", targetId: team.id }, () =>
      deleteTeam(getDb(), c, { confirmName: "Doomed" }),
    );
  });

  it("nothing for a refused mutation", async () => {
    const { team, ctx } = await newTeam();
    const viewer = await addMember(team.id, "viewer");
    const viewerCtx = await userContext(getDb(), viewer.user.id, team.id, meta());
    const rows = await auditOf(team.id, async () => {
      await renameTeam(getDb(), viewerCtx, { name: "x" }).catch(() => undefined);
      await deleteTeam(getDb(), ctx, { confirmName: "wrong" }).catch(() => undefined);
      await changeMemberRole(getDb(), ctx, { membershipId: randomUUID(), role: "viewer" }).catch(() => undefined);
    });
    expect(rows).toEqual([]);
  });

  it("truncates an oversized user agent instead of failing the mutation", async () => {
    const { team, ctx } = await newTeam();
    const c: Ctx = { ...ctx, meta: { ...meta(), userAgent: "x".repeat(5_000) } };
    const rows = await auditOf(team.id, () => renameTeam(getDb(), c, { name: "UA" }));
    expect(rows[0]?.userAgent).toHaveLength(512);
  });
});

describe("secrets never reach the audit log", () => {
  it("holds no token, token hash, password or password hash", async () => {
    const password = "an audit-test passphrase";
    const owner = await createUser(getDb(), { email: uniqueEmail("secretive"), password });
    const team = await createTeam(getDb(), { userId: owner.id, name: "Secrets", meta: meta() });
    const ctx = await userContext(getDb(), owner.id, team.id, meta());
    const newPassword = "a second audit passphrase";
    await changePassword(getDb(), owner.id, { currentPassword: password, newPassword });
    const apiToken = await createApiToken(getDb(), ctx, { name: "secret", scopes: ["read", "write"] });
    await revokeApiToken(getDb(), ctx, { tokenId: apiToken.apiToken.id });
    const email = uniqueEmail("invited");
    const invitation = await createInvitation(getDb(), ctx, { email, role: "member" });
    const resent = await resendInvitation(getDb(), ctx, { invitationId: invitation.invitation.id });
    const invitee = await getDb().user.create({ data: { email } });
    const inviteToken = String(resent.link).split("/").at(-1) ?? "";
    await acceptInvitation(getDb(), { userId: invitee.id, token: inviteToken, meta: meta() });

    const firstInviteToken = String(invitation.link).split("/").at(-1) ?? "";
    const hash = (await getDb().user.findUniqueOrThrow({ where: { id: owner.id } })).passwordHash ?? "";
    const serialized = JSON.stringify(await getDb().auditEvent.findMany({ where: { teamId: team.id } }));
    expect(serialized.length).toBeGreaterThan(0);
    for (const secret of [
      password,
      newPassword,
      hash,
      "$argon2",
      apiToken.token,
      apiToken.token.slice(12),
      sha256(apiToken.token),
      firstInviteToken,
      inviteToken,
      sha256(inviteToken),
      sha256(firstInviteToken),
    ]) {
      expect(secret.length).toBeGreaterThan(5);
      expect(serialized).not.toContain(secret);
    }
  });
});

describe("append-only", () => {
  it("refuses updates at the database level", async () => {
    const { team } = await newTeam();
    const row = await getDb().auditEvent.findFirstOrThrow({ where: { teamId: team.id } });
    await expect(getDb().auditEvent.update({ where: { id: row.id }, data: { action: "forged" } })).rejects.toThrow(
      /append-only/,
    );
    await expect(
      getDb().auditEvent.updateMany({ where: { teamId: team.id }, data: { actorLabel: "someone else" } }),
    ).rejects.toThrow(/append-only/);
    await expect(
      getDb().$executeRawUnsafe(`UPDATE "AuditEvent" SET ip = NULL WHERE id = $1::uuid`, row.id),
    ).rejects.toThrow(/append-only/);
    expect(await getDb().auditEvent.findUniqueOrThrow({ where: { id: row.id } })).toEqual(row);
  });
});

describe("listAuditEvents", () => {
  async function seedEvents() {
    const { team, ctx, owner } = await newTeam();
    const other = randomUUID();
    const target = randomUUID();
    const base = Date.parse("2030-01-01T00:00:00.000Z");
    const at = (minutes: number) => new Date(base + minutes * 60_000);
    const rows = [
      { action: "app.created", actorId: owner.id, targetId: target, createdAt: at(0) },
      { action: "app.deleted", actorId: other, targetId: target, createdAt: at(10) },
      { action: "app.created", actorId: other, targetId: randomUUID(), createdAt: at(10) },
      { action: "app.created", actorId: owner.id, targetId: randomUUID(), createdAt: at(10) },
      { action: "env.updated", actorId: owner.id, targetId: target, createdAt: at(20) },
      { action: "app.created", actorId: other, targetId: randomUUID(), createdAt: at(30) },
      { action: "app.created", actorId: owner.id, targetId: target, createdAt: at(40) },
    ];
    await getDb().auditEvent.createMany({
      data: rows.map((row) => ({
        teamId: team.id,
        actorType: "user" as const,
        actorLabel: "seed",
        targetType: "app",
        ...row,
      })),
    });
    return { team, ctx, owner, other, target, at };
  }

  async function all(ctx: Ctx, filters: Parameters<typeof listAuditEvents>[2], limit: number) {
    const ids: string[] = [];
    const seen: { createdAt: Date; id: string }[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = await listAuditEvents(getDb(), ctx, filters, { limit, cursor });
      expect(page.items.length).toBeLessThanOrEqual(limit);
      ids.push(...page.items.map((item) => item.id));
      seen.push(...page.items);
      if (!page.nextCursor) return { ids, seen };
      cursor = page.nextCursor;
    }
    throw new Error("pagination did not end");
  }

  it("pages through everything without duplicates or gaps, newest first, even across equal timestamps", async () => {
    const { team, ctx } = await seedEvents();
    const every = await getDb().auditEvent.findMany({
      where: { teamId: team.id },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    });
    for (const limit of [1, 2, 3, 50]) {
      const { ids } = await all(ctx, {}, limit);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual(every.map((row) => row.id));
    }
  });

  it("filters by action, actor, target and time, also across pages", async () => {
    const { team, ctx, owner, other, target, at } = await seedEvents();
    const db = getDb();
    const cases: [Parameters<typeof listAuditEvents>[2], Record<string, unknown>][] = [
      [{ action: "app.created" }, { action: "app.created" }],
      [{ actorId: other }, { actorId: other }],
      [{ targetId: target }, { targetId: target }],
      [{ since: at(10) }, { createdAt: { gte: at(10) } }],
      [{ until: at(10) }, { createdAt: { lt: at(10) } }],
      [{ since: at(10), until: at(30) }, { createdAt: { gte: at(10), lt: at(30) } }],
      [
        { action: "app.created", actorId: owner.id, since: at(0) },
        { action: "app.created", actorId: owner.id, createdAt: { gte: at(0) } },
      ],
    ];
    for (const [filters, where] of cases) {
      const expected = await db.auditEvent.findMany({
        where: { teamId: team.id, ...where },
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      });
      expect(expected.length, JSON.stringify(filters)).toBeGreaterThan(0);
      const { ids } = await all(ctx, filters, 2);
      expect(ids, JSON.stringify(filters)).toEqual(expected.map((row) => row.id));
    }
  });

  it("shows the actor, target and request of each row", async () => {
    const { team, ctx } = await newTeam();
    const c = withMeta(ctx);
    await renameTeam(getDb(), c, { name: "Shown" });
    const page = await listAuditEvents(getDb(), ctx, { action: "team.renamed" }, { limit: 10 });
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({
      action: "team.renamed",
      actor: { type: "user", id: ctx.actor.type === "user" ? ctx.actor.userId : null },
      target: { type: "team", id: team.id },
      requestId: c.meta.requestId,
      ip: c.meta.ip,
      userAgent: c.meta.userAgent,
    });
  });

  it("refuses a forged cursor", async () => {
    const { ctx } = await newTeam();
    const error = await listAuditEvents(getDb(), ctx, {}, { limit: 10, cursor: "not-a-cursor" }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: "invalid" });
  });

  it("takes only known filters, so a teamId cannot be smuggled in", () => {
    expect(auditFilters.safeParse({ teamId: randomUUID() }).success).toBe(false);
    expect(auditFilters.safeParse({ actorId: "not-a-uuid" }).success).toBe(false);
    expect(auditFilters.safeParse({ action: "team.renamed", since: "2030-01-01T00:00:00Z" }).success).toBe(true);
  });
});

describe("recordAudit for a token actor", () => {
  it("names the token as the actor", async () => {
    const { team, ctx } = await newTeam();
    const { token, apiToken } = await createApiToken(getDb(), ctx, { name: "named bot", scopes: ["read"] });
    const tokenCtx = await authenticateApiToken(getDb(), token, meta());
    const rows = await auditOf(team.id, () =>
      recordAudit(getDb(), tokenCtx, { action: "test.touched", target: { type: "team", id: team.id } }),
    );
    expect(rows[0]).toMatchObject({ actorType: "token", actorId: apiToken.id, actorLabel: "named bot" });
  });
});

describe("list functions issue a constant number of SQL statements", () => {
  async function seededTeam(rows: number) {
    const db = getDb();
    const { team, owner, ctx } = await newTeam();
    const suffix = randomUUID().slice(0, 8);
    // `rows` members including the owner, `rows` invitations, tokens and audit events (team.created is one).
    await db.user.createMany({
      data: Array.from({ length: rows - 1 }, (_, i) => ({ email: `m${i}-${suffix}@example.test` })),
    });
    const users = await db.user.findMany({ where: { email: { endsWith: `-${suffix}@example.test` } } });
    await db.membership.createMany({
      data: users.map((user) => ({ teamId: team.id, userId: user.id, role: "member" as const })),
    });
    await db.invitation.createMany({
      data: Array.from({ length: rows }, (_, i) => ({
        teamId: team.id,
        email: `i${i}-${suffix}@example.test`,
        role: "viewer" as const,
        tokenHash: sha256(randomUUID()),
        expiresAt: new Date(Date.now() + 3600_000),
      })),
    });
    await db.apiToken.createMany({
      data: Array.from({ length: rows }, (_, i) => ({
        teamId: team.id,
        name: `t${i}`,
        prefix: "tsl_xxxxxxxx",
        tokenHash: sha256(randomUUID()),
        scopes: ["read"],
      })),
    });
    await db.auditEvent.createMany({
      data: Array.from({ length: rows - 1 }, (_, i) => ({
        teamId: team.id,
        actorType: "user" as const,
        actorLabel: "seed",
        action: `seed.${i}`,
        targetType: "team",
      })),
    });
    // The owner is in `rows` teams: this one and rows - 1 more.
    for (let i = 0; i < rows - 1; i++) {
      const extra = await db.team.create({ data: { name: `Extra ${i}`, slug: `extra-${randomUUID()}` } });
      await db.membership.create({ data: { teamId: extra.id, userId: owner.id, role: "viewer" } });
    }
    return { ctx, ownerId: owner.id };
  }

  const page = { limit: 50 };
  const lists: [string, (ctx: Ctx, ownerId: string) => Promise<{ length: number }>][] = [
    ["listMembers", async (ctx) => (await listMembers(getDb(), ctx, page)).items],
    ["listInvitations", async (ctx) => (await listInvitations(getDb(), ctx, page)).items],
    ["listApiTokens", async (ctx) => (await listApiTokens(getDb(), ctx, page)).items],
    ["listAuditEvents", async (ctx) => (await listAuditEvents(getDb(), ctx, {}, page)).items],
    ["listTeamsForUser", async (_ctx, ownerId) => await listTeamsForUser(getDb(), ownerId)],
  ];

  it("at 2 rows and at 25 rows", async () => {
    const small = await seededTeam(2);
    const large = await seededTeam(25);
    for (const [name, list] of lists) {
      const few = await countQueries(() => list(small.ctx, small.ownerId));
      const many = await countQueries(() => list(large.ctx, large.ownerId));
      expect(few.result.length, name).toBe(2);
      expect(many.result.length, name).toBe(25);
      expect(many.count, `${name}: ${many.statements.join(" | ")}`).toBe(few.count);
      expect(few.count, name).toBeGreaterThan(0);
      expect(few.count, name).toBeLessThanOrEqual(2);
    }
  });
});
