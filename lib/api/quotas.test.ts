// Quota refusals through the REST API: 409 with code quota_exceeded, a message naming the quota and its limit, and
// details { quota, limit }, for apps, databases (count and connections, on creation and PATCH), Redis and uploads.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as createAppRoute } from "@/app/api/v1/apps/route";
import { PATCH as patchDatabaseRoute } from "@/app/api/v1/databases/[id]/route";
import { POST as createDatabaseRoute } from "@/app/api/v1/databases/route";
import { POST as createRedisRoute } from "@/app/api/v1/redis/route";
import { POST as uploadRoute } from "@/app/api/v1/uploads/route";
import { errorBody } from "@/lib/api/endpoint";
import { getDb } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import type { Prisma } from "@/lib/generated/prisma/client";
import { call as callRoute, type Route } from "@/test/api";
import { createTestTeam, createTestToken, createTestUser } from "@/test/factories";
import { tarGz } from "@/test/tarball";

beforeAll(() => {
  process.env.TENANT_PG_ADMIN_URL = "postgresql://tussilago:admin-secret@127.0.0.1:55432/postgres";
  process.env.TENANT_REDIS_ADMIN_URL = "redis://tussilago-admin:admin-secret-0123456789@127.0.0.1:56379";
  resetEnvForTests();
});

afterAll(() => {
  delete process.env.TENANT_PG_ADMIN_URL;
  delete process.env.TENANT_REDIS_ADMIN_URL;
  resetEnvForTests();
});

/** A POST unless told otherwise: `json` as JSON, `body` as a gzip upload. */
function call(
  route: Route,
  path: string,
  token: string,
  options: { method?: string; json?: unknown; body?: Uint8Array; params?: Record<string, string> } = {},
): Promise<Response> {
  const body = options.json ?? options.body;
  return callRoute(route, path, { method: options.method ?? "POST", token, body, params: options.params });
}

async function teamWithQuotas(data: Omit<Prisma.TeamQuotaUncheckedCreateInput, "teamId">) {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  await getDb().teamQuota.create({ data: { ...data, teamId: team.id } });
  return { teamId: team.id, token: await createTestToken(team.id, ["read", "write"]) };
}

async function expectQuota(response: Response, quota: string, limit: number, message?: string): Promise<void> {
  expect(response.status).toBe(409);
  const body = errorBody.parse(await response.json());
  expect(body.error).toMatchObject({ code: "quota_exceeded", details: { quota, limit } });
  if (message) expect(body.error.message).toBe(message);
}

const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex")}`;

describe("quota refusals through the API", () => {
  it("POST /api/v1/apps over the apps quota", async () => {
    const { token } = await teamWithQuotas({ apps: 1 });
    expect((await call(createAppRoute, "/api/v1/apps", token, { json: { name: unique("a") } })).status).toBe(201);
    await expectQuota(
      await call(createAppRoute, "/api/v1/apps", token, { json: { name: unique("a") } }),
      "apps",
      1,
      "Your team's quota of 1 app is reached (instance admins can raise it).",
    );
  });

  it("POST /api/v1/databases over the count and the connections quota, and PATCH raising a limit", async () => {
    const { token } = await teamWithQuotas({ databases: 2, dbConnections: 25 });
    const created = await call(createDatabaseRoute, "/api/v1/databases", token, {
      json: { name: unique("db"), limits: { connectionLimit: 20 } },
    });
    expect(created.status).toBe(202);
    const { database } = (await created.json()) as { database: { id: string } };
    await expectQuota(
      await call(createDatabaseRoute, "/api/v1/databases", token, {
        json: { name: unique("db"), limits: { connectionLimit: 10 } },
      }),
      "dbConnections",
      25,
    );
    await getDb().tenantDatabase.update({ where: { id: database.id }, data: { status: "ready" } });
    await expectQuota(
      await call(patchDatabaseRoute, `/api/v1/databases/${database.id}`, token, {
        method: "PATCH",
        json: { limits: { connectionLimit: 26 } },
        params: { id: database.id },
      }),
      "dbConnections",
      25,
    );
    const second = await call(createDatabaseRoute, "/api/v1/databases", token, {
      json: { name: unique("db"), limits: { connectionLimit: 5 } },
    });
    expect(second.status).toBe(202);
    await expectQuota(
      await call(createDatabaseRoute, "/api/v1/databases", token, {
        json: { name: unique("db"), limits: { connectionLimit: 1 } },
      }),
      "databases",
      2,
    );
  });

  it("POST /api/v1/redis over the Redis quota", async () => {
    const { token } = await teamWithQuotas({ redis: 0 });
    await expectQuota(
      await call(createRedisRoute, "/api/v1/redis", token, { json: { name: unique("r") } }),
      "redis",
      0,
    );
  });

  it("POST /api/v1/uploads over the upload quota, before anything is stored", async () => {
    const { teamId, token } = await teamWithQuotas({ uploadMb: 1 });
    // A readable .tar.gz just over the quota (random content does not compress).
    const body = await tarGz({ "data.bin": randomBytes(1024 * 1024 + 1) });
    await expectQuota(await call(uploadRoute, "/api/v1/uploads", token, { body }), "uploadBytes", 1024 * 1024);
    expect(await getDb().upload.count({ where: { teamId } })).toBe(0);
  });
});
