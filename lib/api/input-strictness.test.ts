// The request pipeline's strict rules, through the real route handlers (issue #22): media types (415), one rule for
// query strings on every endpoint, signed cursors on the seven lists, and Idempotency-Key where it is honoured.
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { POST as startRoute } from "@/app/api/v1/apps/[appId]/actions/start/route";
import { GET as listDeploymentsRoute } from "@/app/api/v1/apps/[appId]/deployments/route";
import { GET as appLogsRoute } from "@/app/api/v1/apps/[appId]/logs/route";
import { POST as createAppRoute, GET as listAppsRoute } from "@/app/api/v1/apps/route";
import { GET as listAuditRoute } from "@/app/api/v1/audit-events/route";
import { GET as listDatabasesRoute } from "@/app/api/v1/databases/route";
import { GET as deploymentLogsRoute } from "@/app/api/v1/deployments/[id]/logs/route";
import { GET as listInvitationsRoute } from "@/app/api/v1/invitations/route";
import { GET as listMembersRoute } from "@/app/api/v1/members/route";
import { GET as listRedisRoute } from "@/app/api/v1/redis/route";
import { GET as getTeamRoute } from "@/app/api/v1/team/route";
import { POST as uploadRoute } from "@/app/api/v1/uploads/route";
import { endpoints } from "@/lib/api/endpoints";
import { getDb } from "@/lib/db";
import { apiCaller, BASE, errorOf, type Route } from "@/test/api";
import { createTestTeam, createTestToken, createTestUser } from "@/test/factories";

const call = apiCaller({ headers: { "user-agent": "input-strictness-test/1.0" } });

async function freshTeam() {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const token = await createTestToken(team.id, ["write"]);
  return { team, token };
}

async function createApp(token: string): Promise<string> {
  const name = `app-${randomBytes(4).toString("hex")}`;
  const response = await call(createAppRoute, "/api/v1/apps", { method: "POST", token, body: { name } });
  expect(response.status).toBe(201);
  return ((await response.json()) as { app: { id: string } }).app.id;
}

/** The seven list endpoints, each with the path and params to call it for one app of the team. */
function lists(appId: string): { name: string; route: Route; path: string; params?: Record<string, string> }[] {
  return [
    { name: "apps", route: listAppsRoute, path: "/api/v1/apps" },
    {
      name: "deployments",
      route: listDeploymentsRoute,
      path: `/api/v1/apps/${appId}/deployments`,
      params: { appId },
    },
    { name: "members", route: listMembersRoute, path: "/api/v1/members" },
    { name: "invitations", route: listInvitationsRoute, path: "/api/v1/invitations" },
    { name: "audit-events", route: listAuditRoute, path: "/api/v1/audit-events" },
    { name: "databases", route: listDatabasesRoute, path: "/api/v1/databases" },
    { name: "redis", route: listRedisRoute, path: "/api/v1/redis" },
  ];
}

function unsignedCursor(createdAt: string, id: string = randomUUID()): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString("base64url");
}

describe("query strings: one strict rule on every endpoint", () => {
  it.each([
    "0x10",
    "+5",
    "%205",
    "5.0",
    "",
    "1e1",
    "0",
    "201",
    "-1",
    "%EF%BC%95", // a fullwidth digit five
  ])("refuses limit=%s on all seven lists with 422", async (value) => {
    const { token } = await freshTeam();
    const appId = await createApp(token);
    for (const list of lists(appId)) {
      const response = await call(list.route, `${list.path}?limit=${value}`, { token, params: list.params });
      expect({ list: list.name, status: response.status }).toEqual({ list: list.name, status: 422 });
      expect((await errorOf(response)).code).toBe("invalid");
    }
  });

  it("accepts plain decimal limits within the documented range", async () => {
    const { token } = await freshTeam();
    const appId = await createApp(token);
    for (const list of lists(appId)) {
      for (const limit of ["1", "200", "007"]) {
        const response = await call(list.route, `${list.path}?limit=${limit}`, { token, params: list.params });
        expect({ list: list.name, limit, status: response.status }).toEqual({ list: list.name, limit, status: 200 });
      }
    }
  });

  it("refuses repeated and unknown parameters, also on endpoints that take no query", async () => {
    const { token } = await freshTeam();
    const appId = await createApp(token);
    for (const list of lists(appId)) {
      for (const query of ["limit=1&limit=2", "cursor=a&cursor=b", "color=blue"]) {
        const response = await call(list.route, `${list.path}?${query}`, { token, params: list.params });
        expect({ list: list.name, query, status: response.status }).toEqual({ list: list.name, query, status: 422 });
      }
    }
    const team = await call(getTeamRoute, "/api/v1/team?verbose=1", { token });
    expect(team.status).toBe(422);
    expect((await errorOf(team)).code).toBe("invalid");
    expect((await call(getTeamRoute, "/api/v1/team", { token })).status).toBe(200);
  });

  it.each(["%00", "a%00b", "%1B%5B31m", "%07", "%7F", "%C2%85"])(
    "refuses control characters (%s) in query values with 422, never a 500",
    async (value) => {
      const { token } = await freshTeam();
      const response = await call(listAuditRoute, `/api/v1/audit-events?action=${value}`, { token });
      expect(response.status).toBe(422);
      const appId = await createApp(token);
      const logs = await call(appLogsRoute, `/api/v1/apps/${appId}/logs?since=${value}`, {
        token,
        params: { appId },
      });
      expect(logs.status).toBe(422);
    },
  );

  it.each([
    "0000-01-01T00:00:00Z",
    "0001-01-01T00:30:00%2B01:00", // year 0 once the offset is applied
    "10000-01-01T00:00:00Z",
    "9999-12-31T23:30:00-01:00", // year 10000 once the offset is applied
    "2024-01-01T00:00:00%2B0530",
    "2024-01-01T00:00:00%2B05",
    "2024-01-01",
    "2024-01-01T00:00Z",
    "2024-02-30T00:00:00Z",
    "2024-01-01t00:00:00z",
    "1",
    "",
  ])("refuses since=%s on the audit log and app logs with 422", async (value) => {
    const { token } = await freshTeam();
    const appId = await createApp(token);
    for (const [route, path, params] of [
      [listAuditRoute, `/api/v1/audit-events?since=${value}`, undefined],
      [listAuditRoute, `/api/v1/audit-events?until=${value}`, undefined],
      [appLogsRoute, `/api/v1/apps/${appId}/logs?since=${value}`, { appId }],
    ] as const) {
      const response = await call(route, path, { token, params });
      expect({ path, status: response.status }).toEqual({ path, status: 422 });
    }
  });

  it.each([
    "2024-01-01T00:00:00Z",
    "2024-01-01T00:00:00.123456Z",
    "2024-01-01T05:30:00%2B05:30",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
  ])("accepts since=%s (RFC 3339 with Z or ±HH:MM)", async (value) => {
    const { token } = await freshTeam();
    const response = await call(listAuditRoute, `/api/v1/audit-events?since=${value}&until=${value}`, { token });
    expect(response.status).toBe(200);
  });

  it("refuses non-decimal offsets and tails on the log endpoints", async () => {
    const { token } = await freshTeam();
    const appId = await createApp(token);
    for (const value of ["0x10", "+5", "", "1.0"]) {
      const tail = await call(appLogsRoute, `/api/v1/apps/${appId}/logs?tail=${value}`, { token, params: { appId } });
      expect(tail.status).toBe(422);
      const id = randomUUID();
      const offset = await call(deploymentLogsRoute, `/api/v1/deployments/${id}/logs?offset=${value}`, {
        token,
        params: { id },
      });
      expect(offset.status).toBe(422);
    }
  });
});

describe("cursors: signed, opaque, validated before PostgreSQL", () => {
  it("refuses forged, unsigned, truncated and foreign cursors on all seven lists with 422", async () => {
    const { token } = await freshTeam();
    const appId = await createApp(token);
    const payload = unsignedCursor("2024-01-01T00:00:00.000Z");
    const foreign = `${payload}.${createHmac("sha256", "another-installation").update(payload).digest("base64url")}`;
    const forged = [
      unsignedCursor("0000-01-01T00:00:00.000Z"),
      unsignedCursor("2024-01-01T00:00:00.000Z"),
      foreign,
      `${payload}.`,
      "not-a-cursor",
    ];
    for (const list of lists(appId)) {
      for (const cursor of forged) {
        const response = await call(list.route, `${list.path}?cursor=${encodeURIComponent(cursor)}`, {
          token,
          params: list.params,
        });
        expect({ list: list.name, cursor, status: response.status }).toEqual({
          list: list.name,
          cursor,
          status: 422,
        });
        const error = await errorOf(response);
        expect(error.code).toBe("invalid");
        expect(JSON.stringify(error.details)).toContain("cursor");
      }
    }
  });

  it("pages through with the cursors it hands out, and refuses them once truncated or altered", async () => {
    const { token } = await freshTeam();
    const ids = [await createApp(token), await createApp(token), await createApp(token)];
    const seen: string[] = [];
    let cursor: string | null = null;
    let last = "";
    do {
      const path: string = `/api/v1/apps?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const response = await call(listAppsRoute, path, { token });
      expect(response.status).toBe(200);
      const page = (await response.json()) as { items: { id: string }[]; nextCursor: string | null };
      seen.push(...page.items.map((item) => item.id));
      if (page.nextCursor) last = page.nextCursor;
      cursor = page.nextCursor;
    } while (cursor);
    expect([...seen].sort()).toEqual([...ids].sort());
    const flipped = `${last.slice(0, 5)}${last[5] === "A" ? "B" : "A"}${last.slice(6)}`;
    for (const bad of [last.slice(0, -1), last.slice(0, last.indexOf(".")), flipped]) {
      const response = await call(listAppsRoute, `/api/v1/apps?cursor=${encodeURIComponent(bad)}`, { token });
      expect(response.status).toBe(422);
    }
    expect((await call(listAppsRoute, `/api/v1/apps?cursor=${encodeURIComponent(last)}`, { token })).status).toBe(200);
  });
});

describe("media types", () => {
  it("answers a JSON endpoint 415 for another Content-Type, a body without one, or a Content-Encoding", async () => {
    const { team, token } = await freshTeam();
    const body = JSON.stringify({ name: `app-${randomBytes(4).toString("hex")}` });
    const send = (headers: Record<string, string>, payload: BodyInit = body) =>
      createAppRoute(
        new Request(`${BASE}/api/v1/apps`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, ...headers },
          body: payload,
        }),
        { params: Promise.resolve({}) },
      );
    const refused: Record<string, string>[] = [
      { "content-type": "text/plain" },
      { "content-type": "application/x-www-form-urlencoded" },
      { "content-type": "application/json; charset=iso-8859-1" },
      { "content-type": "application/jsonp" },
      { "content-type": "application/json", "content-encoding": "gzip" },
      { "content-type": "application/json", "content-encoding": "br" },
    ];
    for (const headers of refused) {
      const response = await send(headers);
      expect({ headers, status: response.status }).toEqual({ headers, status: 415 });
      expect((await errorOf(response)).code).toBe("unsupported_media_type");
    }
    const untyped = await send({}, new TextEncoder().encode(body));
    expect(untyped.status).toBe(415);
    expect(await getDb().app.count({ where: { teamId: team.id } })).toBe(0);
    const ok = await send({ "content-type": "Application/JSON; charset=UTF-8", "content-encoding": "identity" });
    expect(ok.status).toBe(201);
  });

  it("answers an upload with the wrong media type or an encoding 415", async () => {
    const { token } = await freshTeam();
    const bytes = new Uint8Array([0x1f, 0x8b, 0x08, 0x00]);
    const refused: Record<string, string>[] = [{ "content-type": "application/json" }, { "content-encoding": "gzip" }];
    for (const headers of refused) {
      const response = await call(uploadRoute, "/api/v1/uploads", { method: "POST", token, body: bytes, headers });
      expect(response.status).toBe(415);
      expect((await errorOf(response)).code).toBe("unsupported_media_type");
    }
  });
});

describe("Idempotency-Key", () => {
  it("is declared on every POST that creates or starts something, and not on the streamed upload", () => {
    // The POSTs that create or start nothing a retry could duplicate: the streamed upload (the header is refused
    // there: its request cannot be hashed before the work), a synchronous DNS re-check of a custom domain, and a
    // forge's webhook delivery (public, no team to key on: a repeated delivery ID is its replay protection).
    const exempt = new Set(["createUpload", "verifyDomain", "receiveWebhookDelivery"]);
    const posts = endpoints.filter((endpoint) => endpoint.method === "POST");
    expect(posts.length).toBeGreaterThan(10);
    for (const endpoint of posts) {
      expect({ id: endpoint.id, idempotent: endpoint.idempotent === true }).toEqual({
        id: endpoint.id,
        idempotent: !exempt.has(endpoint.id),
      });
    }
    for (const endpoint of endpoints.filter((each) => each.method !== "POST")) {
      expect({ id: endpoint.id, idempotent: endpoint.idempotent }).toEqual({ id: endpoint.id, idempotent: undefined });
    }
  });

  it("is honoured on a POST without a body schema even when the client sends a body", async () => {
    const { token } = await freshTeam();
    const appId = await createApp(token);
    const key = randomUUID();
    const start = () =>
      call(startRoute, `/api/v1/apps/${appId}/actions/start`, {
        method: "POST",
        token,
        params: { appId },
        body: {},
        headers: { "idempotency-key": key },
      });
    const first = await start();
    const second = await start();
    expect(second.status).toBe(first.status);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(await second.json()).toEqual(await first.json());
  });

  it("checks the key's syntax the same way everywhere (422), and refuses it where it is not honoured", async () => {
    const { token } = await freshTeam();
    const appId = await createApp(token);
    for (const key of ["", "has space", "x".repeat(256), "caf\u00e9"]) {
      const headers = { "idempotency-key": key };
      const create = await call(createAppRoute, "/api/v1/apps", {
        method: "POST",
        token,
        body: { name: `app-${randomBytes(4).toString("hex")}` },
        headers,
      });
      expect({ key, status: create.status }).toEqual({ key, status: 422 });
      const start = await call(startRoute, `/api/v1/apps/${appId}/actions/start`, {
        method: "POST",
        token,
        params: { appId },
        headers,
      });
      expect({ key, status: start.status }).toEqual({ key, status: 422 });
      const list = await call(listAppsRoute, "/api/v1/apps", { token, headers });
      expect({ key, status: list.status }).toEqual({ key, status: 422 });
    }
    // A well-formed key on an endpoint that does not honour it is refused, not silently ignored.
    const upload = await call(uploadRoute, "/api/v1/uploads", {
      method: "POST",
      token,
      body: new Uint8Array([0x1f, 0x8b]),
      headers: { "idempotency-key": randomUUID() },
    });
    expect(upload.status).toBe(422);
    expect((await errorOf(upload)).message).toContain("Idempotency-Key");
    const list = await call(listAppsRoute, "/api/v1/apps", { token, headers: { "idempotency-key": randomUUID() } });
    expect(list.status).toBe(422);
  });
});
