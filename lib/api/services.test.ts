// The databases and redis endpoints through their route handlers: 202s with operations, validation, attach/detach,
// team scoping (another team's IDs are 404), token scopes (credentials need write), credentials kept out of logs and
// audit rows, constant-size list queries, and 503 where the service is not configured. The jobs themselves run
// against real servers in jobs/tasks/tenant_db.test.ts and tenant_redis.test.ts.
import { randomBytes, randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { GET as databaseCredentialsRoute } from "@/app/api/v1/databases/[id]/credentials/route";
import { POST as rotateDatabaseRoute } from "@/app/api/v1/databases/[id]/rotate/route";
import {
  DELETE as deleteDatabaseRoute,
  GET as getDatabaseRoute,
  PATCH as patchDatabaseRoute,
} from "@/app/api/v1/databases/[id]/route";
import { POST as createDatabaseRoute, GET as listDatabasesRoute } from "@/app/api/v1/databases/route";
import { GET as redisCredentialsRoute } from "@/app/api/v1/redis/[id]/credentials/route";
import { POST as rotateRedisRoute } from "@/app/api/v1/redis/[id]/rotate/route";
import {
  DELETE as deleteRedisRoute,
  GET as getRedisRoute,
  PATCH as patchRedisRoute,
} from "@/app/api/v1/redis/[id]/route";
import { POST as createRedisRoute, GET as listRedisRoute } from "@/app/api/v1/redis/route";
import {
  createDatabaseEndpoint,
  createRedisEndpoint,
  databaseCredentialsEndpoint,
  redisCredentialsEndpoint,
} from "@/lib/api/endpoints/services";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import { apiCaller, errorOf, type Route } from "@/test/api";
import { createTestTeam, createTestToken, createTestUser } from "@/test/factories";
import { pendingJobs } from "@/test/helpers";

// Every line the request handlers log, at the most verbose level: credentials must never be among them.
const logLines = vi.hoisted(() => [] as string[]);
vi.mock("@/lib/logger", () => {
  const root = pino(
    { level: "trace" },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString("utf8"));
        done();
      },
    }),
  );
  return { getLogger: () => root, logger: (context: Record<string, unknown> = {}) => root.child(context) };
});

const PG_ADMIN = "postgresql://tussilago:admin-secret@127.0.0.1:55432/postgres";
const REDIS_ADMIN = "redis://tussilago-admin:admin-secret-0123456789@127.0.0.1:56379";

const call = apiCaller({ headers: { "user-agent": "services-test/1.0" } });

function uniqueName(prefix = "db"): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

async function freshTeam() {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  return { team, write: await createTestToken(team.id, ["write"]), read: await createTestToken(team.id, ["read"]) };
}

beforeAll(() => {
  process.env.TENANT_PG_ADMIN_URL = PG_ADMIN;
  process.env.TENANT_PG_PUBLIC_HOST = "10.88.0.1";
  process.env.TENANT_REDIS_ADMIN_URL = REDIS_ADMIN;
  resetEnvForTests();
});

afterAll(() => {
  delete process.env.TENANT_PG_ADMIN_URL;
  delete process.env.TENANT_PG_PUBLIC_HOST;
  delete process.env.TENANT_REDIS_ADMIN_URL;
  resetEnvForTests();
});

async function createDatabaseThroughApi(token: string, body: Record<string, unknown> = {}) {
  const response = await call(createDatabaseRoute, "/api/v1/databases", {
    method: "POST",
    token,
    body: { name: uniqueName(), ...body },
  });
  expect(response.status).toBe(202);
  return createDatabaseEndpoint.responses[202].schema.parse(await response.json());
}

async function createRedisThroughApi(token: string, body: Record<string, unknown> = {}) {
  const response = await call(createRedisRoute, "/api/v1/redis", {
    method: "POST",
    token,
    body: { name: uniqueName("cache"), ...body },
  });
  expect(response.status).toBe(202);
  return createRedisEndpoint.responses[202].schema.parse(await response.json());
}

describe("databases API", () => {
  let fresh: Awaited<ReturnType<typeof freshTeam>>;

  beforeAll(async () => {
    fresh = await freshTeam();
  });

  it("POST answers 202 with the database, its operation and a Location; the job carries IDs only", async () => {
    const name = uniqueName();
    const response = await call(createDatabaseRoute, "/api/v1/databases", {
      method: "POST",
      token: fresh.write,
      body: { name, limits: { connectionLimit: 5 } },
    });
    expect(response.status).toBe(202);
    const body = createDatabaseEndpoint.responses[202].schema.parse(await response.json());
    expect(body.database).toMatchObject({
      name,
      status: "provisioning",
      appId: null,
      limits: { connectionLimit: 5, statementTimeoutMs: 30_000, idleInTransactionMs: 60_000 },
      error: null,
    });
    expect(body.operation).toMatchObject({ kind: "database.provision", status: "queued", targetId: body.database.id });
    expect(response.headers.get("location")).toBe(`/api/v1/operations/${body.operation.id}`);
    const jobs = await pendingJobs("tenant_db__provision");
    expect(jobs.map((job) => job.payload)).toContainEqual({
      databaseId: body.database.id,
      operationId: body.operation.id,
    });
    // The password is sealed in the row before the job runs, and only sealed.
    const row = await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: body.database.id } });
    expect(row.passwordEncrypted).toMatch(/^v1\./);
    const audit = await getDb().auditEvent.findFirst({ where: { targetId: body.database.id } });
    expect(audit).toMatchObject({ action: "database.created", actorType: "token", metadata: { name } });
  });

  it.each([
    ["an upper-case name", { name: "Orders" }],
    ["a name with a dot", { name: "a.b" }],
    ["a name with a space", { name: "my db" }],
    ["a name starting with a digit", { name: "1db" }],
    ["an injection attempt", { name: "x'; DROP ROLE tussilago; --" }],
    ["a 64-character name", { name: "a".repeat(64) }],
    ["a smuggled teamId", { name: "ok", teamId: randomUUID() }],
    ["a smuggled status", { name: "ok", status: "ready" }],
    ["a connection limit of 0", { name: "ok", limits: { connectionLimit: 0 } }],
    ["a connection limit of 101", { name: "ok", limits: { connectionLimit: 101 } }],
    ["an unknown limit", { name: "ok", limits: { maxSizeMb: 5 } }],
    ["an appId that is not a UUID", { name: "ok", appId: "../etc" }],
  ])("POST refuses %s with 422 and no row", async (_label, body) => {
    const before = await getDb().tenantDatabase.count();
    const response = await call(createDatabaseRoute, "/api/v1/databases", { method: "POST", token: fresh.write, body });
    expect(response.status).toBe(422);
    expect((await errorOf(response)).code).toBe("invalid");
    expect(await getDb().tenantDatabase.count()).toBe(before);
  });

  it("POST refuses a taken name with 409 and another team's app with 404", async () => {
    const { database } = await createDatabaseThroughApi(fresh.write);
    const duplicate = await call(createDatabaseRoute, "/api/v1/databases", {
      method: "POST",
      token: fresh.write,
      body: { name: database.name },
    });
    expect(duplicate.status).toBe(409);
    const other = await freshTeam();
    const foreignApp = await getDb().app.create({ data: { teamId: other.team.id, name: uniqueName("app") } });
    const foreign = await call(createDatabaseRoute, "/api/v1/databases", {
      method: "POST",
      token: fresh.write,
      body: { name: uniqueName(), appId: foreignApp.id },
    });
    expect(foreign.status).toBe(404);
  });

  it("GET lists and shows the team's databases only", async () => {
    const team = await freshTeam();
    const { database } = await createDatabaseThroughApi(team.write);
    await createDatabaseThroughApi(fresh.write);
    const list = await call(listDatabasesRoute, "/api/v1/databases", { token: team.read });
    expect(list.status).toBe(200);
    const items = ((await list.json()) as { items: { id: string }[] }).items;
    expect(items.map((item) => item.id)).toEqual([database.id]);
    const one = await call(getDatabaseRoute, `/api/v1/databases/${database.id}`, {
      token: team.read,
      params: { id: database.id },
    });
    expect(one.status).toBe(200);
    expect(((await one.json()) as { database: { id: string } }).database.id).toBe(database.id);
  });

  it("answers 404 for another team's database on every endpoint, and changes nothing", async () => {
    const { database } = await createDatabaseThroughApi(fresh.write);
    const other = await freshTeam();
    const params = { id: database.id };
    const path = `/api/v1/databases/${database.id}`;
    const attempts: [Route, string, string, unknown][] = [
      [getDatabaseRoute, path, "GET", undefined],
      [patchDatabaseRoute, path, "PATCH", { appId: null }],
      [deleteDatabaseRoute, path, "DELETE", undefined],
      [rotateDatabaseRoute, `${path}/rotate`, "POST", undefined],
      [databaseCredentialsRoute, `${path}/credentials`, "GET", undefined],
    ];
    for (const [route, url, method, body] of attempts) {
      const response = await call(route, url, { method, token: other.write, params, body });
      expect(response.status, `${method} ${url}`).toBe(404);
    }
    const row = await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: database.id } });
    expect(row.status).toBe("provisioning");
    expect(
      await getDb().auditEvent.count({ where: { teamId: other.team.id, action: { startsWith: "database." } } }),
    ).toBe(0);
  });

  it("refuses every change and the credentials to a read token with 403", async () => {
    const { database } = await createDatabaseThroughApi(fresh.write);
    await getDb().tenantDatabase.update({ where: { id: database.id }, data: { status: "ready" } });
    const params = { id: database.id };
    const path = `/api/v1/databases/${database.id}`;
    const attempts: [Route, string, string, unknown][] = [
      [createDatabaseRoute, "/api/v1/databases", "POST", { name: uniqueName() }],
      [patchDatabaseRoute, path, "PATCH", { appId: null }],
      [deleteDatabaseRoute, path, "DELETE", undefined],
      [rotateDatabaseRoute, `${path}/rotate`, "POST", undefined],
      [databaseCredentialsRoute, `${path}/credentials`, "GET", undefined],
    ];
    for (const [route, url, method, body] of attempts) {
      const response = await call(route, url, { method, token: fresh.read, params, body });
      expect(response.status, `${method} ${url}`).toBe(403);
      expect((await errorOf(response)).code).toBe("forbidden");
    }
  });

  it("reveals the credentials to a write token: audited, never logged, never in an audit row", async () => {
    const { database } = await createDatabaseThroughApi(fresh.write);
    const params = { id: database.id };
    const url = `/api/v1/databases/${database.id}/credentials`;
    // Still provisioning: nothing to connect to yet.
    const early = await call(databaseCredentialsRoute, url, { token: fresh.write, params });
    expect(early.status).toBe(409);

    await getDb().tenantDatabase.update({ where: { id: database.id }, data: { status: "ready" } });
    const response = await call(databaseCredentialsRoute, url, { token: fresh.write, params });
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const credentials = databaseCredentialsEndpoint.responses[200].schema.parse(await response.json());
    const role = `t_${database.id.replaceAll("-", "")}`;
    expect(credentials).toEqual({
      url: `postgresql://${role}:${credentials.password}@10.88.0.1:55432/${role}`,
      host: "10.88.0.1",
      port: 55432,
      database: role,
      user: role,
      password: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });

    const audit = await getDb().auditEvent.findMany({ where: { teamId: fresh.team.id } });
    expect(audit.filter((event) => event.action === "database.credentials_revealed").map((e) => e.targetId)).toEqual([
      database.id,
    ]);
    expect(JSON.stringify(audit)).not.toContain(credentials.password);
    expect(logLines.join("")).not.toContain(credentials.password);
    expect(logLines.join("")).not.toContain("admin-secret");
  });

  it("PATCH attaches to an app of the team, one database per app, and detaches with null", async () => {
    const app = await getDb().app.create({ data: { teamId: fresh.team.id, name: uniqueName("app") } });
    const first = await createDatabaseThroughApi(fresh.write);
    const second = await createDatabaseThroughApi(fresh.write);
    const attach = (id: string, appId: string | null) =>
      call(patchDatabaseRoute, `/api/v1/databases/${id}`, {
        method: "PATCH",
        token: fresh.write,
        params: { id },
        body: { appId },
      });

    const attached = await attach(first.database.id, app.id);
    expect(attached.status).toBe(200);
    expect(((await attached.json()) as { database: { appId: string } }).database.appId).toBe(app.id);
    const taken = await attach(second.database.id, app.id);
    expect(taken.status).toBe(409);
    expect((await errorOf(taken)).message).toContain(first.database.name);

    const detached = await attach(first.database.id, null);
    expect(((await detached.json()) as { database: { appId: string | null } }).database.appId).toBeNull();
    expect((await attach(second.database.id, app.id)).status).toBe(200);
    expect((await attach(second.database.id, randomUUID())).status).toBe(404);
    const unknownField = await call(patchDatabaseRoute, `/api/v1/databases/${first.database.id}`, {
      method: "PATCH",
      token: fresh.write,
      params: { id: first.database.id },
      body: { appId: null, name: "renamed" },
    });
    expect(unknownField.status).toBe(422);

    const actions = (
      await getDb().auditEvent.findMany({
        where: { targetId: { in: [first.database.id, second.database.id] } },
        orderBy: { createdAt: "asc" },
      })
    ).map((event) => event.action);
    expect(actions.filter((action) => action.startsWith("database.")).slice(2)).toEqual([
      "database.attached",
      "database.detached",
      "database.attached",
    ]);
  });

  it("PATCH changes limits with 202 and an operation once ready: 409 while provisioning, 422 out of range", async () => {
    const { database } = await createDatabaseThroughApi(fresh.write, { limits: { connectionLimit: 5 } });
    const patch = (body: unknown, token = fresh.write) =>
      call(patchDatabaseRoute, `/api/v1/databases/${database.id}`, {
        method: "PATCH",
        token,
        params: { id: database.id },
        body,
      });
    expect((await patch({ limits: { connectionLimit: 7 } })).status).toBe(409);
    await getDb().tenantDatabase.update({ where: { id: database.id }, data: { status: "ready" } });

    expect((await patch({ limits: { connectionLimit: 0 } })).status).toBe(422);
    expect((await patch({ limits: { statementTimeoutMs: 5 } })).status).toBe(422);
    expect((await patch({})).status).toBe(422);
    expect((await patch({ limits: { connectionLimit: 7 } }, fresh.read)).status).toBe(403);

    const response = await patch({ limits: { connectionLimit: 7, statementTimeoutMs: 4_000 } });
    expect(response.status).toBe(202);
    expect(response.headers.get("location")).toMatch(/^\/api\/v1\/operations\//);
    const body = (await response.json()) as {
      database: { limits: Record<string, number> };
      operation: { id: string; kind: string };
    };
    expect(body.database.limits).toEqual({
      connectionLimit: 7,
      statementTimeoutMs: 4_000,
      idleInTransactionMs: 60_000,
    });
    expect(body.operation.kind).toBe("database.limits");
    expect((await pendingJobs("tenant_db__apply_limits")).map((job) => job.payload)).toContainEqual({
      databaseId: database.id,
      operationId: body.operation.id,
    });
    const audit = await getDb().auditEvent.findFirstOrThrow({
      where: { targetId: database.id, action: "database.limits_changed" },
    });
    expect(audit.metadata).toMatchObject({ limits: { connectionLimit: 7 }, previous: { connectionLimit: 5 } });

    // The same values again: nothing to do, 200 and no operation.
    const same = await patch({ limits: { connectionLimit: 7 } });
    expect(same.status).toBe(200);
    expect(await same.json()).not.toHaveProperty("operation");
  });

  it("PATCH with appId and limits applies both or neither: a refused limit change leaves the app unattached", async () => {
    const app = await getDb().app.create({ data: { teamId: fresh.team.id, name: uniqueName("app") } });
    const { database } = await createDatabaseThroughApi(fresh.write);
    const patch = (body: unknown) =>
      call(patchDatabaseRoute, `/api/v1/databases/${database.id}`, {
        method: "PATCH",
        token: fresh.write,
        params: { id: database.id },
        body,
      });

    // Still provisioning: limits cannot change yet (409), so the attachment in the same request must not happen.
    expect((await patch({ appId: app.id, limits: { connectionLimit: 7 } })).status).toBe(409);
    const unchanged = await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: database.id } });
    expect(unchanged.appId).toBeNull();
    expect(await getDb().auditEvent.count({ where: { targetId: database.id, action: "database.attached" } })).toBe(0);

    await getDb().tenantDatabase.update({ where: { id: database.id }, data: { status: "ready" } });
    const both = await patch({ appId: app.id, limits: { connectionLimit: 7 } });
    expect(both.status).toBe(202);
    const body = (await both.json()) as { database: { appId: string; limits: { connectionLimit: number } } };
    expect(body.database.appId).toBe(app.id);
    expect(body.database.limits.connectionLimit).toBe(7);
  });

  it("rotate answers 202 on a ready database and 409 while it is provisioning", async () => {
    const { database } = await createDatabaseThroughApi(fresh.write);
    const rotate = () =>
      call(rotateDatabaseRoute, `/api/v1/databases/${database.id}/rotate`, {
        method: "POST",
        token: fresh.write,
        params: { id: database.id },
      });
    expect((await rotate()).status).toBe(409);
    const before = await getDb().tenantDatabase.update({ where: { id: database.id }, data: { status: "ready" } });
    const response = await rotate();
    expect(response.status).toBe(202);
    const body = (await response.json()) as { operation: { id: string; kind: string } };
    expect(body.operation.kind).toBe("database.rotate");
    const after = await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: database.id } });
    expect(after.passwordEncrypted).not.toBe(before.passwordEncrypted);
    expect((await pendingJobs("tenant_db__rotate")).map((job) => job.payload)).toContainEqual({
      databaseId: database.id,
      operationId: body.operation.id,
    });
  });

  it("DELETE answers 202 and a repeated DELETE returns the same operation", async () => {
    const { database } = await createDatabaseThroughApi(fresh.write);
    const remove = () =>
      call(deleteDatabaseRoute, `/api/v1/databases/${database.id}`, {
        method: "DELETE",
        token: fresh.write,
        params: { id: database.id },
      });
    const first = await remove();
    expect(first.status).toBe(202);
    const firstBody = (await first.json()) as { database: { status: string }; operation: { id: string } };
    expect(firstBody.database.status).toBe("deleting");
    const second = (await (await remove()).json()) as { operation: { id: string } };
    expect(second.operation.id).toBe(firstBody.operation.id);
    expect((await pendingJobs("tenant_db__deprovision")).map((job) => job.payload)).toContainEqual({
      databaseId: database.id,
      operationId: firstBody.operation.id,
    });
  });

  it("lists with a constant number of SQL statements, however many databases there are", async () => {
    const team = await freshTeam();
    const measure = async () => {
      const { result, count, statements } = await countQueries(() =>
        call(listDatabasesRoute, "/api/v1/databases", { token: team.read }),
      );
      const body = (await result.json()) as { items: unknown[] };
      return { count, items: body.items.length, statements };
    };
    await createDatabaseThroughApi(team.write);
    // The token's first use records lastUsedAt; measure after it, so both counts see the same authentication.
    await measure();
    const small = await measure();
    expect(small.items).toBe(1);
    for (let i = 0; i < 6; i += 1) await createDatabaseThroughApi(team.write);
    const large = await measure();
    expect(large.items).toBe(7);
    expect(large.count, large.statements.join("\n")).toBe(small.count);
  });

  it("answers 503 when no tenant PostgreSQL is configured", async () => {
    delete process.env.TENANT_PG_ADMIN_URL;
    resetEnvForTests();
    try {
      const response = await call(createDatabaseRoute, "/api/v1/databases", {
        method: "POST",
        token: fresh.write,
        body: { name: uniqueName() },
      });
      expect(response.status).toBe(503);
      expect((await errorOf(response)).code).toBe("unavailable");
    } finally {
      process.env.TENANT_PG_ADMIN_URL = PG_ADMIN;
      resetEnvForTests();
    }
  });
});

describe("redis API", () => {
  let fresh: Awaited<ReturnType<typeof freshTeam>>;

  beforeAll(async () => {
    fresh = await freshTeam();
  });

  it("POST answers 202 with the instance and its operation; GET shows it", async () => {
    const body = await createRedisThroughApi(fresh.write);
    expect(body.redis).toMatchObject({ status: "provisioning", appId: null, error: null });
    expect(body.operation).toMatchObject({ kind: "redis.provision", targetId: body.redis.id });
    expect((await pendingJobs("tenant_redis__provision")).map((job) => job.payload)).toContainEqual({
      redisId: body.redis.id,
      operationId: body.operation.id,
    });
    const one = await call(getRedisRoute, `/api/v1/redis/${body.redis.id}`, {
      token: fresh.read,
      params: { id: body.redis.id },
    });
    expect(one.status).toBe(200);
  });

  it("reveals {url, host, port, user, password, keyPrefix} to a write token only, and never logs the password", async () => {
    const { redis } = await createRedisThroughApi(fresh.write);
    await getDb().tenantRedis.update({ where: { id: redis.id }, data: { status: "ready" } });
    const params = { id: redis.id };
    const url = `/api/v1/redis/${redis.id}/credentials`;
    expect((await call(redisCredentialsRoute, url, { token: fresh.read, params })).status).toBe(403);
    const response = await call(redisCredentialsRoute, url, { token: fresh.write, params });
    expect(response.status).toBe(200);
    const credentials = redisCredentialsEndpoint.responses[200].schema.parse(await response.json());
    const user = `t_${redis.id.replaceAll("-", "")}`;
    expect(credentials).toEqual({
      url: `redis://${user}:${credentials.password}@10.88.0.1:56379`,
      host: "10.88.0.1",
      port: 56379,
      user,
      password: expect.any(String),
      keyPrefix: user,
    });
    const audit = await getDb().auditEvent.findMany({ where: { teamId: fresh.team.id } });
    expect(audit.some((event) => event.action === "redis.credentials_revealed")).toBe(true);
    expect(JSON.stringify(audit)).not.toContain(credentials.password);
    expect(logLines.join("")).not.toContain(credentials.password);
  });

  it("answers 404 for another team's instance on every endpoint", async () => {
    const { redis } = await createRedisThroughApi(fresh.write);
    const other = await freshTeam();
    const params = { id: redis.id };
    const path = `/api/v1/redis/${redis.id}`;
    const attempts: [Route, string, string, unknown][] = [
      [getRedisRoute, path, "GET", undefined],
      [patchRedisRoute, path, "PATCH", { appId: null }],
      [deleteRedisRoute, path, "DELETE", undefined],
      [rotateRedisRoute, `${path}/rotate`, "POST", undefined],
      [redisCredentialsRoute, `${path}/credentials`, "GET", undefined],
    ];
    for (const [route, url, method, body] of attempts) {
      const response = await call(route, url, { method, token: other.write, params, body });
      expect(response.status, `${method} ${url}`).toBe(404);
    }
  });

  it("PATCH attaches to one app at a time; DELETE and rotate answer 202", async () => {
    const app = await getDb().app.create({ data: { teamId: fresh.team.id, name: uniqueName("app") } });
    const { redis } = await createRedisThroughApi(fresh.write, { appId: app.id });
    expect(redis.appId).toBe(app.id);
    const second = await createRedisThroughApi(fresh.write);
    const taken = await call(patchRedisRoute, `/api/v1/redis/${second.redis.id}`, {
      method: "PATCH",
      token: fresh.write,
      params: { id: second.redis.id },
      body: { appId: app.id },
    });
    expect(taken.status).toBe(409);

    await getDb().tenantRedis.update({ where: { id: redis.id }, data: { status: "ready" } });
    const rotated = await call(rotateRedisRoute, `/api/v1/redis/${redis.id}/rotate`, {
      method: "POST",
      token: fresh.write,
      params: { id: redis.id },
    });
    expect(rotated.status).toBe(202);
    const deleted = await call(deleteRedisRoute, `/api/v1/redis/${redis.id}`, {
      method: "DELETE",
      token: fresh.write,
      params: { id: redis.id },
    });
    expect(deleted.status).toBe(202);
    expect(((await deleted.json()) as { redis: { status: string } }).redis.status).toBe("deleting");
  });

  it("lists with a constant number of SQL statements", async () => {
    const team = await freshTeam();
    const measure = async () => {
      const { result, count } = await countQueries(() => call(listRedisRoute, "/api/v1/redis", { token: team.read }));
      return { count, items: ((await result.json()) as { items: unknown[] }).items.length };
    };
    await createRedisThroughApi(team.write);
    await measure();
    const small = await measure();
    for (let i = 0; i < 5; i += 1) await createRedisThroughApi(team.write);
    const large = await measure();
    expect([small.items, large.items]).toEqual([1, 6]);
    expect(large.count).toBe(small.count);
  });

  it("answers 503 when Redis is unavailable on this installation", async () => {
    delete process.env.TENANT_REDIS_ADMIN_URL;
    resetEnvForTests();
    try {
      const response = await call(createRedisRoute, "/api/v1/redis", {
        method: "POST",
        token: fresh.write,
        body: { name: uniqueName("cache") },
      });
      expect(response.status).toBe(503);
      expect((await errorOf(response)).message).toContain("Redis is not available");
    } finally {
      process.env.TENANT_REDIS_ADMIN_URL = REDIS_ADMIN;
      resetEnvForTests();
    }
  });
});
