// The identity endpoints through their route handlers: authentication, scopes, team scoping, validation, audit,
// query counts and pagination, against this file's own database.
import { randomBytes, randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { GET as listAuditEventsRoute } from "@/app/api/v1/audit-events/route";
import { DELETE as revokeInvitationRoute } from "@/app/api/v1/invitations/[id]/route";
import { POST as createInvitationRoute, GET as listInvitationsRoute } from "@/app/api/v1/invitations/route";
import { GET as listMembersRoute } from "@/app/api/v1/members/route";
import { GET as getOperationRoute } from "@/app/api/v1/operations/[id]/route";
import { GET as getTeamRoute } from "@/app/api/v1/team/route";
import {
  createInvitationEndpoint,
  getOperationEndpoint,
  getTeamEndpoint,
  listAuditEventsEndpoint,
  listInvitationsEndpoint,
  listMembersEndpoint,
  revokeInvitationEndpoint,
} from "@/lib/api/endpoints/identity";
import { CLIENT_IP_HEADER } from "@/lib/auth/request-meta";
import { sha256 } from "@/lib/auth/tokens";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import type { TeamView } from "@/lib/domain/teams";
import { apiCaller, BASE, errorOf, type Route } from "@/test/api";
import { addMember, createTestTeam, createTestToken, createTestUser } from "@/test/factories";

const call = apiCaller({ headers: { "user-agent": "identity-test/1.0", [CLIENT_IP_HEADER]: "198.51.100.9" } });

/** A second team with its owner and one token: the "other tenant" in 404 tests. */
async function otherTeam(): Promise<{ team: TeamView; write: string }> {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id, "Other");
  return { team, write: await createTestToken(team.id, ["write"]) };
}

async function seedInvitations(teamId: string, count: number, createdAt = new Date()): Promise<void> {
  await getDb().invitation.createMany({
    data: Array.from({ length: count }, () => ({
      teamId,
      email: `seed-${randomBytes(5).toString("hex")}@example.test`,
      role: "member" as const,
      tokenHash: sha256(randomBytes(32).toString("base64url")),
      expiresAt: new Date(Date.now() + 3_600_000),
      createdAt,
    })),
  });
}

async function seedAuditEvents(teamId: string, count: number, createdAt = new Date()): Promise<void> {
  await getDb().auditEvent.createMany({
    data: Array.from({ length: count }, (_, index) => ({
      teamId,
      actorType: "system" as const,
      actorLabel: "seed",
      action: "seed.event",
      targetType: "seed",
      targetId: randomUUID(),
      metadata: { index },
      createdAt,
    })),
  });
}

async function seedMembers(teamId: string, count: number): Promise<void> {
  for (let index = 0; index < count; index += 1) {
    const user = await createTestUser();
    await addMember(teamId, user.id, "member");
  }
}

describe("identity API", () => {
  let team: TeamView;
  let ownerEmail: string;
  let read: string;
  let write: string;

  beforeAll(async () => {
    const owner = await createTestUser({ name: "Owner" });
    ownerEmail = owner.email;
    team = await createTestTeam(owner.id, "Acme");
    read = await createTestToken(team.id, ["read"]);
    write = await createTestToken(team.id, ["write"]);
  });

  describe("authentication", () => {
    const routes: [string, Route, string, string][] = [
      ["GET /team", getTeamRoute, "/api/v1/team", "GET"],
      ["GET /members", listMembersRoute, "/api/v1/members", "GET"],
      ["GET /invitations", listInvitationsRoute, "/api/v1/invitations", "GET"],
      ["GET /audit-events", listAuditEventsRoute, "/api/v1/audit-events", "GET"],
    ];

    it.each(routes)("%s without a token is 401 with WWW-Authenticate", async (_name, route, path, method) => {
      const response = await call(route, path, { method });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer /);
      expect((await errorOf(response)).code).toBe("unauthenticated");
    });

    it("answers malformed, unknown, revoked and expired tokens alike with 401", async () => {
      const revoked = await createTestToken(team.id, ["write"], { revokedAt: new Date() });
      const expired = await createTestToken(team.id, ["write"], { expiresAt: new Date(Date.now() - 1000) });
      const unknown = `tsl_${randomBytes(32).toString("base64url")}`;
      for (const token of ["not-a-token", "tsl_short", unknown, revoked, expired]) {
        const response = await call(getTeamRoute, "/api/v1/team", { token });
        expect(response.status, token).toBe(401);
        expect(response.headers.get("www-authenticate")).toMatch(/^Bearer /);
        const error = await errorOf(response);
        expect(error.message).toBe("A valid API token is required (Authorization: Bearer tsl_...).");
      }
    });

    it("answers a non-Bearer Authorization header with 401", async () => {
      const request = new Request(`${BASE}/api/v1/team`, { headers: { authorization: `Basic ${write}` } });
      expect((await getTeamRoute(request, { params: Promise.resolve({}) })).status).toBe(401);
    });

    it("answers a token of a team being deleted with 401", async () => {
      const { team: doomed, write: token } = await otherTeam();
      await getDb().team.update({ where: { id: doomed.id }, data: { status: "deleting" } });
      expect((await call(getTeamRoute, "/api/v1/team", { token })).status).toBe(401);
    });

    it("refuses a read token on write endpoints with 403 and no side effect", async () => {
      const created = await call(createInvitationRoute, "/api/v1/invitations", {
        method: "POST",
        token: read,
        body: { email: "readonly@example.test", role: "member" },
      });
      expect(created.status).toBe(403);
      expect((await errorOf(created)).code).toBe("forbidden");
      expect(await getDb().invitation.count({ where: { email: "readonly@example.test" } })).toBe(0);

      const revoked = await call(revokeInvitationRoute, `/api/v1/invitations/${randomUUID()}`, {
        method: "DELETE",
        token: read,
        params: { id: randomUUID() },
      });
      expect(revoked.status).toBe(403);
    });
  });

  describe("GET /api/v1/team", () => {
    it("answers the token's team", async () => {
      const response = await call(getTeamRoute, "/api/v1/team", { token: read });
      expect(response.status).toBe(200);
      const body = getTeamEndpoint.responses[200].schema.parse(await response.json());
      expect(body.team).toEqual({
        id: team.id,
        name: "Acme",
        slug: team.slug,
        createdAt: team.createdAt.toISOString(),
      });
      expect(response.headers.get("cache-control")).toBe("no-store");
    });
  });

  describe("GET /api/v1/members", () => {
    it("lists the team's members with their users, and only this team's", async () => {
      await otherTeam();
      const response = await call(listMembersRoute, "/api/v1/members", { token: read });
      expect(response.status).toBe(200);
      const body = listMembersEndpoint.responses[200].schema.parse(await response.json());
      expect(body.nextCursor).toBeNull();
      const owner = body.items.find((item) => item.role === "owner");
      expect(owner?.user).toMatchObject({ email: ownerEmail, name: "Owner" });
      expect(body.items.every((item) => item.user.email !== undefined)).toBe(true);
      const teamIds = await getDb().membership.findMany({
        where: { id: { in: body.items.map((item) => item.id) } },
        select: { teamId: true },
      });
      expect(new Set(teamIds.map((row) => row.teamId))).toEqual(new Set([team.id]));
    });

    it.each(["0", "201", "abc"])("rejects limit=%s with 422", async (limit) => {
      const response = await call(listMembersRoute, `/api/v1/members?limit=${limit}`, { token: read });
      expect(response.status).toBe(422);
      expect((await errorOf(response)).details?.[0]?.path).toBe("limit");
    });

    it("rejects a forged cursor and unknown query fields with 422", async () => {
      const forged = await call(listMembersRoute, "/api/v1/members?cursor=bm9wZQ", { token: read });
      expect(forged.status).toBe(422);
      const unknown = await call(listMembersRoute, `/api/v1/members?teamId=${randomUUID()}`, { token: read });
      expect(unknown.status).toBe(422);
    });
  });

  describe("invitations", () => {
    it("creates an invitation (201), shows the link once, and stores only the token's hash", async () => {
      const response = await call(createInvitationRoute, "/api/v1/invitations", {
        method: "POST",
        token: write,
        body: { email: "  New.Person@Example.TEST ", role: "member" },
      });
      expect(response.status).toBe(201);
      const body = createInvitationEndpoint.responses[201].schema.parse(await response.json());
      expect(body.invitation).toMatchObject({ email: "new.person@example.test", role: "member", status: "pending" });
      expect(body.link).toMatch(/\/invitations\/[A-Za-z0-9_-]{43}$/);
      const token = body.link?.split("/").at(-1) ?? "";
      expect(token).not.toBe("");

      const row = await getDb().invitation.findUniqueOrThrow({ where: { id: body.invitation.id } });
      expect(row.teamId).toBe(team.id);
      expect(row.tokenHash).toBe(sha256(token));
      // Look for the token anywhere it could have been written, not only the column meant for it.
      const leaks = await getDb().$queryRaw<{ n: bigint }[]>`
        SELECT (SELECT count(*) FROM "Invitation" i WHERE row_to_json(i)::text LIKE ${`%${token}%`})
             + (SELECT count(*) FROM "AuditEvent" a WHERE row_to_json(a)::text LIKE ${`%${token}%`}) AS n`;
      expect(Number(leaks[0]?.n)).toBe(0);
    });

    it("writes audit rows for create and revoke, with the token as actor and the request's metadata", async () => {
      const created = await call(createInvitationRoute, "/api/v1/invitations", {
        method: "POST",
        token: write,
        body: { email: "audited@example.test", role: "viewer" },
      });
      expect(created.status).toBe(201);
      const { invitation } = createInvitationEndpoint.responses[201].schema.parse(await created.json());

      const revoked = await call(revokeInvitationRoute, `/api/v1/invitations/${invitation.id}`, {
        method: "DELETE",
        token: write,
        params: { id: invitation.id },
      });
      expect(revoked.status).toBe(200);
      const revokedBody = revokeInvitationEndpoint.responses[200].schema.parse(await revoked.json());
      expect(revokedBody.invitation).toMatchObject({ id: invitation.id, status: "revoked" });

      const events = await getDb().auditEvent.findMany({
        where: { teamId: team.id, targetId: invitation.id },
        orderBy: { createdAt: "asc" },
      });
      expect(events.map((event) => event.action)).toEqual(["invitation.created", "invitation.revoked"]);
      const tokenRow = await getDb().apiToken.findUniqueOrThrow({ where: { tokenHash: sha256(write) } });
      for (const [event, response] of [
        [events[0], created],
        [events[1], revoked],
      ] as const) {
        expect(event).toMatchObject({
          actorType: "token",
          actorId: tokenRow.id,
          actorLabel: tokenRow.name,
          targetType: "invitation",
          ip: "198.51.100.9",
          userAgent: "identity-test/1.0",
          requestId: response.headers.get("x-request-id"),
        });
      }
    });

    it("answers a second revoke with 409", async () => {
      const created = await call(createInvitationRoute, "/api/v1/invitations", {
        method: "POST",
        token: write,
        body: { email: "twice@example.test", role: "member" },
      });
      const { invitation } = createInvitationEndpoint.responses[201].schema.parse(await created.json());
      const revoke = () =>
        call(revokeInvitationRoute, `/api/v1/invitations/${invitation.id}`, {
          method: "DELETE",
          token: write,
          params: { id: invitation.id },
        });
      expect((await revoke()).status).toBe(200);
      const again = await revoke();
      expect(again.status).toBe(409);
      expect((await errorOf(again)).code).toBe("conflict");
    });

    it("answers a duplicate pending invitation, or inviting a member, with 409", async () => {
      const invite = (email: string) =>
        call(createInvitationRoute, "/api/v1/invitations", {
          method: "POST",
          token: write,
          body: { email, role: "member" },
        });
      expect((await invite("dup@example.test")).status).toBe(201);
      const duplicate = await invite("DUP@example.test");
      expect(duplicate.status).toBe(409);
      expect((await errorOf(duplicate)).code).toBe("conflict");
      expect(await getDb().invitation.count({ where: { email: "dup@example.test" } })).toBe(1);

      const member = await invite(ownerEmail);
      expect(member.status).toBe(409);
    });

    it.each([
      ["a bad email", { email: "not-an-email", role: "member" }, "email"],
      ["role owner", { email: "owner-wannabe@example.test", role: "owner" }, "role"],
      ["an unknown role", { email: "x@example.test", role: "superuser" }, "role"],
      ["a missing role", { email: "x@example.test" }, "role"],
    ])("answers %s with 422 and the issue in details", async (_name, body, path) => {
      const response = await call(createInvitationRoute, "/api/v1/invitations", { method: "POST", token: write, body });
      expect(response.status).toBe(422);
      const error = await errorOf(response);
      expect(error.code).toBe("invalid");
      expect(error.details?.map((issue) => issue.path)).toContain(path);
    });

    it("rejects smuggled fields (teamId) with 422 and creates nothing", async () => {
      const { team: other } = await otherTeam();
      const response = await call(createInvitationRoute, "/api/v1/invitations", {
        method: "POST",
        token: write,
        body: { email: "smuggle@example.test", role: "member", teamId: other.id },
      });
      expect(response.status).toBe(422);
      expect(await getDb().invitation.count({ where: { email: "smuggle@example.test" } })).toBe(0);
    });

    it("answers malformed JSON with 400", async () => {
      const request = new Request(`${BASE}/api/v1/invitations`, {
        method: "POST",
        headers: { authorization: `Bearer ${write}`, "content-type": "application/json" },
        body: "{",
      });
      expect((await createInvitationRoute(request, { params: Promise.resolve({}) })).status).toBe(400);
    });

    it("answers another team's invitation ID, an unknown one and a malformed one with 404", async () => {
      const other = await otherTeam();
      const created = await call(createInvitationRoute, "/api/v1/invitations", {
        method: "POST",
        token: other.write,
        body: { email: "theirs@example.test", role: "member" },
      });
      const { invitation } = createInvitationEndpoint.responses[201].schema.parse(await created.json());
      for (const id of [invitation.id, randomUUID(), "not-a-uuid"]) {
        const response = await call(revokeInvitationRoute, `/api/v1/invitations/${id}`, {
          method: "DELETE",
          token: write,
          params: { id },
        });
        expect(response.status, id).toBe(404);
        expect((await errorOf(response)).code).toBe("not_found");
      }
      const row = await getDb().invitation.findUniqueOrThrow({ where: { id: invitation.id } });
      expect(row.revokedAt).toBeNull();
    });

    it("lists invitations for a write token; a read token (a viewer) is refused with 403", async () => {
      const refused = await call(listInvitationsRoute, "/api/v1/invitations", { token: read });
      expect(refused.status).toBe(403);

      const response = await call(listInvitationsRoute, "/api/v1/invitations", { token: write });
      expect(response.status).toBe(200);
      const body = listInvitationsEndpoint.responses[200].schema.parse(await response.json());
      expect(body.items.length).toBeGreaterThan(0);
      const ids = body.items.map((item) => item.id);
      const teams = await getDb().invitation.findMany({ where: { id: { in: ids } }, select: { teamId: true } });
      expect(new Set(teams.map((row) => row.teamId))).toEqual(new Set([team.id]));
    });
  });

  describe("GET /api/v1/audit-events", () => {
    it("lists the team's events with actor and target, filtered by action, target and time", async () => {
      const created = await call(createInvitationRoute, "/api/v1/invitations", {
        method: "POST",
        token: write,
        body: { email: "filtered@example.test", role: "member" },
      });
      const { invitation } = createInvitationEndpoint.responses[201].schema.parse(await created.json());

      const byTarget = await call(listAuditEventsRoute, `/api/v1/audit-events?targetId=${invitation.id}`, {
        token: read,
      });
      expect(byTarget.status).toBe(200);
      const body = listAuditEventsEndpoint.responses[200].schema.parse(await byTarget.json());
      expect(body.items).toHaveLength(1);
      expect(body.items[0]).toMatchObject({
        action: "invitation.created",
        actor: { type: "token" },
        target: { type: "invitation", id: invitation.id },
        // A read token acts as a viewer: the invitee's email and the request's address are for admins only.
        metadata: { role: "member" },
        ip: null,
      });

      const byAction = listAuditEventsEndpoint.responses[200].schema.parse(
        await (await call(listAuditEventsRoute, "/api/v1/audit-events?action=team.created", { token: read })).json(),
      );
      expect(byAction.items.map((item) => item.target.id)).toEqual([team.id]);

      const future = new Date(Date.now() + 60_000).toISOString();
      const none = listAuditEventsEndpoint.responses[200].schema.parse(
        await (await call(listAuditEventsRoute, `/api/v1/audit-events?since=${future}`, { token: read })).json(),
      );
      expect(none.items).toEqual([]);
      const before = listAuditEventsEndpoint.responses[200].schema.parse(
        await (
          await call(listAuditEventsRoute, `/api/v1/audit-events?until=${encodeURIComponent(future)}`, { token: read })
        ).json(),
      );
      expect(before.items.length).toBeGreaterThan(1);
    });

    it("never shows another team's events", async () => {
      const other = await otherTeam();
      const response = await call(listAuditEventsRoute, "/api/v1/audit-events?limit=200", { token: other.write });
      const body = listAuditEventsEndpoint.responses[200].schema.parse(await response.json());
      expect(body.items.map((item) => item.action)).toEqual(["team.created"]);
      expect(body.items[0]?.target.id).toBe(other.team.id);
    });

    it.each([
      ["since=yesterday", "since"],
      ["since=1", "since"],
      ["actorId=nope", "actorId"],
      ["secret=1", ""],
    ])("rejects %s with 422", async (query, path) => {
      const response = await call(listAuditEventsRoute, `/api/v1/audit-events?${query}`, { token: read });
      expect(response.status).toBe(422);
      expect((await errorOf(response)).details?.map((issue) => issue.path)).toContain(path);
    });
  });

  describe("GET /api/v1/operations/{id}", () => {
    it("answers the team's operation", async () => {
      const startedAt = new Date(Date.now() - 5000);
      const operation = await getDb().operation.create({
        data: {
          teamId: team.id,
          kind: "app.delete",
          targetType: "app",
          targetId: randomUUID(),
          status: "failed",
          error: "The container did not stop.",
          requestId: "internal-request",
          startedAt,
          finishedAt: new Date(),
        },
      });
      const response = await call(getOperationRoute, `/api/v1/operations/${operation.id}`, {
        token: read,
        params: { id: operation.id },
      });
      expect(response.status).toBe(200);
      const raw = (await response.json()) as { operation: Record<string, unknown> };
      const body = getOperationEndpoint.responses[200].schema.parse(raw);
      expect(body.operation).toEqual({
        id: operation.id,
        kind: "app.delete",
        status: "failed",
        error: "The container did not stop.",
        progress: null,
        targetId: operation.targetId,
        createdAt: operation.createdAt.toISOString(),
        startedAt: startedAt.toISOString(),
        finishedAt: operation.finishedAt?.toISOString(),
      });
      // Declared fields only: internal bookkeeping stays inside.
      expect(Object.keys(raw.operation).sort()).toEqual(Object.keys(body.operation).sort());
    });

    it("answers another team's operation, a team-less one, an unknown and a malformed ID with 404", async () => {
      const other = await otherTeam();
      const theirs = await getDb().operation.create({ data: { teamId: other.team.id, kind: "app.delete" } });
      const teamless = await getDb().operation.create({ data: { teamId: null, kind: "team.delete" } });
      for (const id of [theirs.id, teamless.id, randomUUID(), "../../team"]) {
        const response = await call(getOperationRoute, `/api/v1/operations/${id}`, { token: write, params: { id } });
        expect(response.status, id).toBe(404);
        expect((await errorOf(response)).code).toBe("not_found");
      }
    });
  });

  describe("lists", () => {
    type ListCase = {
      name: string;
      route: Route;
      path: string;
      seed: (teamId: string, count: number) => Promise<void>;
    };
    const lists: ListCase[] = [
      { name: "members", route: listMembersRoute, path: "/api/v1/members", seed: seedMembers },
      {
        name: "invitations",
        route: listInvitationsRoute,
        path: "/api/v1/invitations",
        seed: (teamId, count) => seedInvitations(teamId, count),
      },
      {
        name: "audit events",
        route: listAuditEventsRoute,
        path: "/api/v1/audit-events",
        seed: (teamId, count) => seedAuditEvents(teamId, count),
      },
    ];

    /** Every item of the list for `token`, page by page, with the number of pages it took. */
    async function collect(route: Route, path: string, token: string, limit: number) {
      const ids: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor ? `?limit=${limit}&cursor=${encodeURIComponent(cursor)}` : `?limit=${limit}`;
        const response = await call(route, `${path}${query}`, { token });
        expect(response.status).toBe(200);
        const body = (await response.json()) as { items: { id: string }[]; nextCursor: string | null };
        expect(body.items.length).toBeLessThanOrEqual(limit);
        ids.push(...body.items.map((item) => item.id));
        cursor = body.nextCursor;
        pages += 1;
      } while (cursor && pages < 50);
      return { ids, pages };
    }

    it.each(lists)("$name: a constant number of SQL statements at 2 rows and at 20 rows", async (list) => {
      const owner = await createTestUser();
      const fresh = await createTestTeam(owner.id);
      const token = await createTestToken(fresh.id, ["write"]);
      const measure = async () => {
        // The first request of a token records its last use: warm up so that write is not in the count.
        await call(list.route, list.path, { token });
        const { result, count, statements } = await countQueries(() => call(list.route, list.path, { token }));
        const body = (await result.json()) as { items: unknown[] };
        return { count, items: body.items.length, statements };
      };
      const existing = (await measure()).items;
      await list.seed(fresh.id, 2 - existing);
      const small = await measure();
      expect(small.items).toBe(2);
      await list.seed(fresh.id, 18);
      const large = await measure();
      expect(large.items).toBe(20);
      expect(large.count, large.statements.join("\n")).toBe(small.count);
      expect(small.count).toBeGreaterThan(0);
    });

    it.each(lists)("$name: pagination returns each item exactly once", async (list) => {
      const owner = await createTestUser();
      const fresh = await createTestTeam(owner.id);
      const token = await createTestToken(fresh.id, ["write"]);
      // Members and audit events start with one row each (the owner, team.created); invitations with none.
      const existing = (await collect(list.route, list.path, token, 200)).ids.length;
      await list.seed(fresh.id, 10 - existing);
      const all = await collect(list.route, list.path, token, 200);
      expect(all.pages).toBe(1);
      expect(all.ids).toHaveLength(10);

      const paged = await collect(list.route, list.path, token, 3);
      expect(paged.pages).toBe(4);
      expect(paged.ids).toEqual(all.ids);
      expect(new Set(paged.ids).size).toBe(paged.ids.length);
    });

    it("pages stay exact when many rows share one timestamp", async () => {
      const owner = await createTestUser();
      const fresh = await createTestTeam(owner.id);
      const token = await createTestToken(fresh.id, ["write"]);
      const instant = new Date();
      await seedInvitations(fresh.id, 11, instant);
      await seedAuditEvents(fresh.id, 11, instant);
      for (const path of ["/api/v1/invitations", "/api/v1/audit-events"]) {
        const route = path === "/api/v1/invitations" ? listInvitationsRoute : listAuditEventsRoute;
        const all = await collect(route, path, token, 200);
        const paged = await collect(route, path, token, 4);
        expect(paged.ids).toEqual(all.ids);
        expect(new Set(paged.ids).size).toBe(all.ids.length);
      }
    });
  });
});
