// Every role (and both token scopes) against every team-scoped domain function: who may, who gets "forbidden", and
// that a refusal leaves no trace. Then tenant isolation: another team's IDs read as absent.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { PERMISSIONS, type Permission } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import { authenticateApiToken, createApiToken, listApiTokens, revokeApiToken } from "@/lib/domain/api-tokens";
import { listAuditEvents } from "@/lib/domain/audit";
import { type Ctx, type RequestMeta, type Scope, userContext } from "@/lib/domain/context";
import { addDomain, getDomain, listDomains, removeDomain, updateDomain, verifyDomain } from "@/lib/domain/domains";
import {
  acceptInvitation,
  createInvitation,
  listInvitations,
  previewInvitation,
  resendInvitation,
  revokeInvitation,
} from "@/lib/domain/invitations";
import { changeMemberRole, listMembers, removeMember, transferOwnership } from "@/lib/domain/members";
import { createTeam, deleteTeam, getTeam, listTeamsForUser, renameTeam } from "@/lib/domain/teams";
import { AppError } from "@/lib/errors";
import type { Role } from "@/lib/generated/prisma/enums";
import { expectAppError, rejectionOf } from "@/test/errors";
import { pendingJobs } from "@/test/helpers";

// Local helpers: this file seeds its own data and does not depend on shared factories.

function meta(): RequestMeta {
  return { requestId: randomUUID(), ip: "203.0.113.7", userAgent: "permissions-matrix-test" };
}

function uniqueEmail(label: string): string {
  return `${label}-${randomUUID().slice(0, 12)}@example.test`;
}

function uniqueHostname(): string {
  return `h${randomUUID().slice(0, 12)}.example.com`;
}

/** A DNS check that proves control without asking any server (the checker is the edge's to pass in). */
const provenByTxt = async () => ({ kind: "proven" as const, by: "txt" as const });

async function newUser(label: string) {
  return await getDb().user.create({ data: { email: uniqueEmail(label) } });
}

type Seat = { userId: string; membershipId: string };

type World = {
  teamId: string;
  teamName: string;
  owner: Seat;
  /** A plain member: the object of changeMemberRole, removeMember and transferOwnership. */
  target: Seat;
  invitationId: string;
  tokenId: string;
  appId: string;
  /** A pending custom domain of the app. */
  domainId: string;
};

async function addMember(teamId: string, role: Role): Promise<Seat> {
  const user = await newUser(role);
  const membership = await getDb().membership.create({ data: { teamId, userId: user.id, role } });
  return { userId: user.id, membershipId: membership.id };
}

async function seedTeam(): Promise<World> {
  const db = getDb();
  const ownerUser = await newUser("owner");
  const teamName = `Team ${randomUUID().slice(0, 8)}`;
  const team = await createTeam(db, { userId: ownerUser.id, name: teamName, meta: meta() });
  const ownerMembership = await db.membership.findFirstOrThrow({ where: { teamId: team.id, userId: ownerUser.id } });
  const ownerCtx = await userContext(db, ownerUser.id, team.id, meta());
  const target = await addMember(team.id, "member");
  const invitation = await createInvitation(db, ownerCtx, { email: uniqueEmail("invitee"), role: "viewer" });
  const token = await createApiToken(db, ownerCtx, { name: "seeded", scopes: ["read"] });
  const app = await db.app.create({ data: { teamId: team.id, name: "web" } });
  const domain = await addDomain(db, ownerCtx, app.id, { hostname: uniqueHostname() });
  return {
    teamId: team.id,
    teamName,
    owner: { userId: ownerUser.id, membershipId: ownerMembership.id },
    target,
    invitationId: invitation.invitation.id,
    tokenId: token.apiToken.id,
    appId: app.id,
    domainId: domain.id,
  };
}

async function ownerCtx(world: World): Promise<Ctx> {
  return await userContext(getDb(), world.owner.userId, world.teamId, meta());
}

/** A signed-in actor holding `role` in the world's team (the creator when the role is owner). */
async function roleCtx(world: World, role: Role): Promise<Ctx> {
  if (role === "owner") return await ownerCtx(world);
  const seat = await addMember(world.teamId, role);
  return await userContext(getDb(), seat.userId, world.teamId, meta());
}

async function tokenCtx(world: World, scopes: Scope[]): Promise<Ctx> {
  const { token } = await createApiToken(getDb(), await ownerCtx(world), { name: `${scopes.join("+")}`, scopes });
  return await authenticateApiToken(getDb(), token, meta());
}

/** Everything a team-scoped call could change, so a refusal can be shown to have changed nothing. */
async function snapshot(teamId: string) {
  const db = getDb();
  const byId = { orderBy: { id: "asc" as const } };
  return {
    team: await db.team.findUnique({ where: { id: teamId } }),
    memberships: await db.membership.findMany({ where: { teamId }, ...byId }),
    invitations: await db.invitation.findMany({ where: { teamId }, ...byId }),
    apiTokens: await db.apiToken.findMany({ where: { teamId }, ...byId }),
    domains: await db.domain.findMany({ where: { teamId }, ...byId }),
    audit: await db.auditEvent.findMany({ where: { teamId }, ...byId }),
    operations: await db.operation.findMany({ where: { OR: [{ teamId }, { targetId: teamId }] }, ...byId }),
    outboundEmails: await db.outboundEmail.count(),
    jobs: await pendingJobs(),
  };
}

type Action = {
  name: string;
  permission: Permission;
  /** The audit action an allowed call writes; null for reads. */
  audit: string | null;
  run: (ctx: Ctx, world: World) => Promise<unknown>;
};

const page = { limit: 50 };

const ACTIONS: Action[] = [
  { name: "getTeam", permission: "team:read", audit: null, run: (ctx) => getTeam(getDb(), ctx) },
  {
    name: "renameTeam",
    permission: "team:update",
    audit: "team.renamed",
    run: (ctx) => renameTeam(getDb(), ctx, { name: "Renamed" }),
  },
  {
    name: "deleteTeam",
    permission: "team:delete",
    audit: "team.deletion_requested",
    run: (ctx, world) => deleteTeam(getDb(), ctx, { confirmName: world.teamName }),
  },
  { name: "listMembers", permission: "members:read", audit: null, run: (ctx) => listMembers(getDb(), ctx, page) },
  {
    name: "changeMemberRole",
    permission: "members:manage",
    audit: "member.role_changed",
    run: (ctx, world) => changeMemberRole(getDb(), ctx, { membershipId: world.target.membershipId, role: "viewer" }),
  },
  {
    name: "removeMember (someone else)",
    permission: "members:manage",
    audit: "member.removed",
    run: (ctx, world) => removeMember(getDb(), ctx, { membershipId: world.target.membershipId }),
  },
  {
    name: "transferOwnership",
    permission: "team:transfer",
    audit: "team.ownership_transferred",
    run: (ctx, world) => transferOwnership(getDb(), ctx, { membershipId: world.target.membershipId }),
  },
  {
    name: "createInvitation",
    permission: "invitations:manage",
    audit: "invitation.created",
    run: (ctx) => createInvitation(getDb(), ctx, { email: uniqueEmail("new"), role: "member" }),
  },
  {
    name: "listInvitations",
    permission: "invitations:read",
    audit: null,
    run: (ctx) => listInvitations(getDb(), ctx, page),
  },
  {
    name: "revokeInvitation",
    permission: "invitations:manage",
    audit: "invitation.revoked",
    run: (ctx, world) => revokeInvitation(getDb(), ctx, { invitationId: world.invitationId }),
  },
  {
    name: "resendInvitation",
    permission: "invitations:manage",
    audit: "invitation.resent",
    run: (ctx, world) => resendInvitation(getDb(), ctx, { invitationId: world.invitationId }),
  },
  {
    name: "createApiToken",
    permission: "tokens:manage",
    audit: "api_token.created",
    run: (ctx) => createApiToken(getDb(), ctx, { name: "ci", scopes: ["read", "write"] }),
  },
  { name: "listApiTokens", permission: "tokens:read", audit: null, run: (ctx) => listApiTokens(getDb(), ctx, page) },
  {
    name: "revokeApiToken",
    permission: "tokens:manage",
    audit: "api_token.revoked",
    run: (ctx, world) => revokeApiToken(getDb(), ctx, { tokenId: world.tokenId }),
  },
  {
    name: "listAuditEvents",
    permission: "audit:read",
    audit: null,
    run: (ctx) => listAuditEvents(getDb(), ctx, {}, page),
  },
  {
    name: "addDomain",
    permission: "apps:write",
    audit: "domain.add",
    run: (ctx, world) => addDomain(getDb(), ctx, world.appId, { hostname: uniqueHostname() }),
  },
  {
    name: "listDomains",
    permission: "apps:read",
    audit: null,
    run: (ctx, w) => listDomains(getDb(), ctx, w.appId, page),
  },
  { name: "getDomain", permission: "apps:read", audit: null, run: (ctx, w) => getDomain(getDb(), ctx, w.domainId) },
  {
    name: "updateDomain",
    permission: "apps:write",
    audit: "domain.update",
    run: (ctx, world) => updateDomain(getDb(), ctx, world.domainId, { hsts: true }),
  },
  {
    name: "removeDomain",
    permission: "apps:write",
    audit: "domain.remove",
    run: (ctx, world) => removeDomain(getDb(), ctx, world.domainId),
  },
  {
    name: "verifyDomain",
    permission: "apps:write",
    audit: "domain.verify",
    run: (ctx, world) => verifyDomain(getDb(), ctx, world.domainId, provenByTxt),
  },
];

// The expected answer is computed from the PERMISSIONS table with a rank written out here, not with roleAllows,
// so a bug in roleAllows cannot make the matrix agree with itself.
const RANK: Record<Role, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };
const ROLE_LIST: Role[] = ["owner", "admin", "member", "viewer"];

function expectedForRole(role: Role, permission: Permission): boolean {
  return RANK[role] >= RANK[PERMISSIONS[permission]];
}

function expectedForToken(scopes: Scope[], permission: Permission): boolean {
  const writes = !permission.endsWith(":read");
  if (writes && !scopes.includes("write")) return false;
  return expectedForRole(scopes.includes("write") ? "admin" : "viewer", permission);
}

async function check(world: World, ctx: Ctx, action: Action, allowed: boolean): Promise<void> {
  const before = await snapshot(world.teamId);
  if (!allowed) {
    await expectAppError(action.run(ctx, world), "forbidden");
    expect(await snapshot(world.teamId)).toEqual(before);
    return;
  }
  await action.run(ctx, world);
  const after = await snapshot(world.teamId);
  const known = new Set(before.audit.map((row) => row.id));
  const added = after.audit.filter((row) => !known.has(row.id));
  if (action.audit === null) {
    // A read changes nothing at all.
    expect(after).toEqual(before);
    return;
  }
  expect(added.map((row) => row.action)).toEqual([action.audit]);
  expect(added[0]?.requestId).toBe(ctx.meta.requestId);
  expect(added[0]?.actorType).toBe(ctx.actor.type);
}

it("covers every domain action the brief lists", () => {
  expect(ACTIONS.map((action) => action.name)).toEqual([
    "getTeam",
    "renameTeam",
    "deleteTeam",
    "listMembers",
    "changeMemberRole",
    "removeMember (someone else)",
    "transferOwnership",
    "createInvitation",
    "listInvitations",
    "revokeInvitation",
    "resendInvitation",
    "createApiToken",
    "listApiTokens",
    "revokeApiToken",
    "listAuditEvents",
    "addDomain",
    "listDomains",
    "getDomain",
    "updateDomain",
    "removeDomain",
    "verifyDomain",
  ]);
});

describe.each(ROLE_LIST)("a signed-in %s", (role) => {
  it.each(ACTIONS.map((action) => [action.name, action] as const))("%s", async (_name, action) => {
    const world = await seedTeam();
    const ctx = await roleCtx(world, role);
    await check(world, ctx, action, expectedForRole(role, action.permission));
  });
});

describe.each([[["read"] as Scope[]], [["read", "write"] as Scope[]]])("an API token with scopes %j", (scopes) => {
  it.each(ACTIONS.map((action) => [action.name, action] as const))("%s", async (_name, action) => {
    const world = await seedTeam();
    const ctx = await tokenCtx(world, scopes);
    await check(world, ctx, action, expectedForToken(scopes, action.permission));
  });
});

describe("token roles", () => {
  it("maps a read token to viewer and a write token to admin, never owner", async () => {
    const world = await seedTeam();
    const read = await tokenCtx(world, ["read"]);
    const write = await tokenCtx(world, ["read", "write"]);
    expect(read.role).toBe("viewer");
    expect(write.role).toBe("admin");
  });

  it("refuses a read token's writes by naming the missing scope", async () => {
    const world = await seedTeam();
    const ctx = await tokenCtx(world, ["read"]);
    const error = await expectAppError(renameTeam(getDb(), ctx, { name: "Nope" }), "forbidden");
    expect(error.message).toMatch(/write scope/);
  });
});

describe("special rules beyond the table", () => {
  it("lets only owners change an owner's role", async () => {
    const world = await seedTeam();
    for (const ctx of [await roleCtx(world, "admin"), await tokenCtx(world, ["read", "write"])]) {
      const before = await snapshot(world.teamId);
      await expectAppError(
        changeMemberRole(getDb(), ctx, { membershipId: world.owner.membershipId, role: "admin" }),
        "forbidden",
      );
      expect(await snapshot(world.teamId)).toEqual(before);
    }
  });

  it("lets only owners remove an owner", async () => {
    const world = await seedTeam();
    for (const ctx of [await roleCtx(world, "admin"), await tokenCtx(world, ["read", "write"])]) {
      const before = await snapshot(world.teamId);
      await expectAppError(removeMember(getDb(), ctx, { membershipId: world.owner.membershipId }), "forbidden");
      expect(await snapshot(world.teamId)).toEqual(before);
    }
  });

  it("lets an owner change a co-owner's role", async () => {
    const world = await seedTeam();
    const second = await addMember(world.teamId, "owner");
    await changeMemberRole(getDb(), await ownerCtx(world), { membershipId: second.membershipId, role: "member" });
    const row = await getDb().membership.findUniqueOrThrow({ where: { id: second.membershipId } });
    expect(row.role).toBe("member");
  });

  it("never promotes to owner through a role change, not even by an owner", async () => {
    const world = await seedTeam();
    for (const ctx of [
      await roleCtx(world, "admin"),
      await ownerCtx(world),
      await tokenCtx(world, ["read", "write"]),
    ]) {
      const before = await snapshot(world.teamId);
      await expectAppError(
        changeMemberRole(getDb(), ctx, { membershipId: world.target.membershipId, role: "owner" }),
        "invalid",
      );
      expect(await snapshot(world.teamId)).toEqual(before);
    }
  });

  it("never invites as owner", async () => {
    const world = await seedTeam();
    const before = await snapshot(world.teamId);
    await expectAppError(
      createInvitation(getDb(), await ownerCtx(world), { email: uniqueEmail("x"), role: "owner" }),
      "invalid",
    );
    expect(await snapshot(world.teamId)).toEqual(before);
  });

  it("lets an admin promote a member to admin but not past their own rank", async () => {
    const world = await seedTeam();
    const admin = await roleCtx(world, "admin");
    await changeMemberRole(getDb(), admin, { membershipId: world.target.membershipId, role: "admin" });
    const row = await getDb().membership.findUniqueOrThrow({ where: { id: world.target.membershipId } });
    expect(row.role).toBe("admin");
  });

  it.each(["viewer", "member"] as const)("lets a %s leave on their own", async (role) => {
    const world = await seedTeam();
    const seat = await addMember(world.teamId, role);
    const ctx = await userContext(getDb(), seat.userId, world.teamId, meta());
    await removeMember(getDb(), ctx, { membershipId: seat.membershipId });
    expect(await getDb().membership.findUnique({ where: { id: seat.membershipId } })).toBeNull();
    const audit = await getDb().auditEvent.findMany({ where: { teamId: world.teamId, targetId: seat.membershipId } });
    expect(audit.map((row) => row.action)).toEqual(["member.left"]);
  });
});

describe("another team's IDs", () => {
  it("answer not_found for memberships, invitations, tokens, apps and domains, and change nothing in either team", async () => {
    const a = await seedTeam();
    const b = await seedTeam();
    const contexts = [await ownerCtx(a), await tokenCtx(a, ["read", "write"])];
    const beforeA = await snapshot(a.teamId);
    const beforeB = await snapshot(b.teamId);
    for (const ctx of contexts) {
      const calls: [string, () => Promise<unknown>][] = [
        [
          "changeMemberRole",
          () => changeMemberRole(getDb(), ctx, { membershipId: b.target.membershipId, role: "viewer" }),
        ],
        [
          "changeMemberRole owner",
          () => changeMemberRole(getDb(), ctx, { membershipId: b.owner.membershipId, role: "admin" }),
        ],
        ["removeMember", () => removeMember(getDb(), ctx, { membershipId: b.target.membershipId })],
        ["removeMember owner", () => removeMember(getDb(), ctx, { membershipId: b.owner.membershipId })],
        ["revokeInvitation", () => revokeInvitation(getDb(), ctx, { invitationId: b.invitationId })],
        ["resendInvitation", () => resendInvitation(getDb(), ctx, { invitationId: b.invitationId })],
        ["revokeApiToken", () => revokeApiToken(getDb(), ctx, { tokenId: b.tokenId })],
        ["addDomain", () => addDomain(getDb(), ctx, b.appId, { hostname: uniqueHostname() })],
        ["listDomains", () => listDomains(getDb(), ctx, b.appId, page)],
        ["getDomain", () => getDomain(getDb(), ctx, b.domainId)],
        ["updateDomain", () => updateDomain(getDb(), ctx, b.domainId, { hsts: true })],
        ["removeDomain", () => removeDomain(getDb(), ctx, b.domainId)],
        ["verifyDomain", () => verifyDomain(getDb(), ctx, b.domainId, provenByTxt)],
      ];
      // A token never owns, so it would be refused before the lookup; the owner shows the lookup is team-scoped.
      if (ctx.actor.type === "user") {
        calls.push([
          "transferOwnership",
          () => transferOwnership(getDb(), ctx, { membershipId: b.target.membershipId }),
        ]);
      }
      for (const [name, call] of calls) {
        const error = await rejectionOf(call());
        expect(error, name).toBeInstanceOf(AppError);
        expect(error instanceof AppError ? error.code : null, name).toBe("not_found");
      }
    }
    expect(await snapshot(b.teamId)).toEqual(beforeB);
    expect(await snapshot(a.teamId)).toEqual(beforeA);
  });

  it("answer the same not_found as an ID that exists nowhere", async () => {
    const a = await seedTeam();
    const b = await seedTeam();
    const ctx = await ownerCtx(a);
    const foreign = await expectAppError(
      removeMember(getDb(), ctx, { membershipId: b.target.membershipId }),
      "not_found",
    );
    const absent = await expectAppError(removeMember(getDb(), ctx, { membershipId: randomUUID() }), "not_found");
    expect(foreign.message).toBe(absent.message);
  });

  it("do not leak into lists", async () => {
    const a = await seedTeam();
    const b = await seedTeam();
    const ctx = await ownerCtx(a);
    const members = await listMembers(getDb(), ctx, page);
    expect(members.items.map((m) => m.id)).not.toContain(b.target.membershipId);
    const invitations = await listInvitations(getDb(), ctx, page);
    expect(invitations.items.map((i) => i.id)).not.toContain(b.invitationId);
    const tokens = await listApiTokens(getDb(), ctx, page);
    expect(tokens.items.map((t) => t.id)).not.toContain(b.tokenId);
    const audit = await listAuditEvents(getDb(), ctx, {}, page);
    expect(audit.items.length).toBeGreaterThan(0);
    const teamBRows = await getDb().auditEvent.findMany({ where: { teamId: b.teamId }, select: { id: true } });
    const seen = new Set(audit.items.map((e) => e.id));
    expect(teamBRows.some((row) => seen.has(row.id))).toBe(false);
  });

  it("make userContext answer not_found for a team the user is not in, exactly as for no team at all", async () => {
    const a = await seedTeam();
    const b = await seedTeam();
    const notMember = await expectAppError(userContext(getDb(), a.owner.userId, b.teamId, meta()), "not_found");
    const noTeam = await expectAppError(userContext(getDb(), a.owner.userId, randomUUID(), meta()), "not_found");
    expect(notMember.message).toBe(noTeam.message);
  });
});

describe("a team being deleted", () => {
  async function deleting(): Promise<{ world: World; staleCtx: Ctx; invitationToken: string }> {
    const world = await seedTeam();
    const staleCtx = await ownerCtx(world);
    const invitation = await createInvitation(getDb(), staleCtx, { email: uniqueEmail("late"), role: "member" });
    const token = invitation.link?.split("/").at(-1);
    if (!token) throw new Error("expected an invitation link without SMTP");
    await getDb().team.update({ where: { id: world.teamId }, data: { status: "deleting" } });
    return { world, staleCtx, invitationToken: token };
  }

  it("is not found for its members", async () => {
    const { world } = await deleting();
    await expectAppError(userContext(getDb(), world.owner.userId, world.teamId, meta()), "not_found");
    await expectAppError(userContext(getDb(), world.target.userId, world.teamId, meta()), "not_found");
    const teams = await listTeamsForUser(getDb(), world.owner.userId);
    expect(teams.map((team) => team.id)).not.toContain(world.teamId);
  });

  it("is not found through a context obtained before the deletion started", async () => {
    const { world, staleCtx } = await deleting();
    const before = await snapshot(world.teamId);
    await expectAppError(getTeam(getDb(), staleCtx), "not_found");
    await expectAppError(renameTeam(getDb(), staleCtx, { name: "Back" }), "not_found");
    await expectAppError(deleteTeam(getDb(), staleCtx, { confirmName: world.teamName }), "not_found");
    expect(await snapshot(world.teamId)).toEqual(before);
  });

  it("has no valid invitation links", async () => {
    const { invitationToken } = await deleting();
    await expectAppError(previewInvitation(getDb(), invitationToken), "not_found");
    const invitee = await newUser("late-invitee");
    await expectAppError(
      acceptInvitation(getDb(), { userId: invitee.id, token: invitationToken, meta: meta() }),
      "not_found",
    );
  });
});
