// Per-team quotas in the domain: every quota refuses at its limit with quota_exceeded (409) naming it, overrides
// take effect, two creations racing at limit - 1 let exactly one through (the team row lock), the instance-wide
// connection budget of the tenant server holds across teams, and reading many teams' quotas costs two queries.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { createApp, updateApp } from "@/lib/domain/apps";
import type { Ctx } from "@/lib/domain/context";
import { changeDatabaseLimits, createDatabase } from "@/lib/domain/databases";
import { scaleApp } from "@/lib/domain/lifecycle";
import { setTeamQuotas } from "@/lib/domain/quota-admin";
import { effectiveQuotas, effectiveQuotasForTeams, INSTANCE_QUOTA_ID, redisMemoryCommitted } from "@/lib/domain/quotas";
import { createRedis } from "@/lib/domain/redis";
import { createTeam } from "@/lib/domain/teams";
import { createUpload, UPLOAD_TTL_MS } from "@/lib/domain/uploads";
import { getEnv, resetEnvForTests } from "@/lib/env";
import { ERROR_STATUS, isAppError } from "@/lib/errors";
import type { Prisma } from "@/lib/generated/prisma/client";
import { createTestTeam, createTestUser, testMeta, userCtx } from "@/test/factories";
import { tarGz } from "@/test/tarball";

const PG_ADMIN = "postgresql://tussilago:admin-secret@127.0.0.1:55432/postgres";
const REDIS_ADMIN = "redis://tussilago-admin:admin-secret-0123456789@127.0.0.1:56379";

beforeAll(() => {
  process.env.TENANT_PG_ADMIN_URL = PG_ADMIN;
  process.env.TENANT_REDIS_ADMIN_URL = REDIS_ADMIN;
  resetEnvForTests();
});

afterAll(() => {
  delete process.env.TENANT_PG_ADMIN_URL;
  delete process.env.TENANT_REDIS_ADMIN_URL;
  resetEnvForTests();
});

function name(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** The error a promise rejects with, as { code, status, message, details }; "ok" when it resolves. */
async function outcome(promise: Promise<unknown>) {
  try {
    await promise;
    return "ok";
  } catch (error) {
    if (!isAppError(error)) throw error;
    return { code: error.code, status: error.status, message: error.message, details: error.details };
  }
}

async function ownerOfNewTeam(): Promise<{ ctx: Ctx; teamId: string; userId: string }> {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  return { ctx: await userCtx(owner.id, team.id), teamId: team.id, userId: owner.id };
}

async function override(teamId: string, data: Omit<Prisma.TeamQuotaUncheckedCreateInput, "teamId">) {
  await getDb().teamQuota.upsert({ where: { teamId }, create: { ...data, teamId }, update: data });
}

/** A real .tar.gz of about `bytes` bytes (random content does not compress). */
async function gzipBody(bytes: number): Promise<AsyncIterable<Uint8Array>> {
  const data = await tarGz({ "data.bin": randomBytes(bytes) });
  return (async function* () {
    yield data;
  })();
}

describe("effective quotas", () => {
  it("are the environment's defaults, then the instance admin's, then the team's override", async () => {
    const { teamId } = await ownerOfNewTeam();
    const defaults = getEnv().quotaDefaults;
    expect(await effectiveQuotas(getDb(), teamId)).toEqual(defaults);
    await getDb().instanceQuota.create({ data: { id: INSTANCE_QUOTA_ID, apps: 7, uploadMb: 3 } });
    try {
      await override(teamId, { apps: 9, databases: 2 });
      expect(await effectiveQuotas(getDb(), teamId)).toEqual({
        ...defaults,
        apps: 9,
        databases: 2,
        uploadBytes: 3 * 1024 * 1024,
      });
    } finally {
      await getDb().instanceQuota.delete({ where: { id: INSTANCE_QUOTA_ID } });
    }
  });

  it("for many teams cost the same two queries as for one", async () => {
    const teams = await Promise.all(Array.from({ length: 5 }, () => ownerOfNewTeam()));
    for (const team of teams.slice(0, 3)) await override(team.teamId, { redis: 1 });
    const one = await countQueries(() => effectiveQuotasForTeams(getDb(), [teams[0]?.teamId ?? ""]));
    const many = await countQueries(() =>
      effectiveQuotasForTeams(
        getDb(),
        teams.map((team) => team.teamId),
      ),
    );
    expect(many.count).toBe(one.count);
    expect(many.count).toBe(2);
    const fallback = getEnv().quotaDefaults.redis;
    expect([...many.result.values()].map((quotas) => quotas.redis)).toEqual([1, 1, 1, fallback, fallback]);
  });
});

describe("apps", () => {
  it("refuses the app over the quota with quota_exceeded (409) naming it, and an override raises it", async () => {
    const { ctx, teamId } = await ownerOfNewTeam();
    await override(teamId, { apps: 2 });
    await createApp(getDb(), ctx, { name: name("a") });
    await createApp(getDb(), ctx, { name: name("a") });
    expect(await outcome(createApp(getDb(), ctx, { name: name("a") }))).toEqual({
      code: "quota_exceeded",
      status: ERROR_STATUS.quota_exceeded,
      message: "Your team's quota of 2 apps is reached (instance admins can raise it).",
      details: { quota: "apps", limit: 2 },
    });
    expect(ERROR_STATUS.quota_exceeded).toBe(409);
    expect(await getDb().app.count({ where: { teamId } })).toBe(2);
    await override(teamId, { apps: 3 });
    expect(await outcome(createApp(getDb(), ctx, { name: name("a") }))).toBe("ok");
  });

  it("lets exactly one of two simultaneous creations through at limit - 1", async () => {
    const { ctx, teamId } = await ownerOfNewTeam();
    await override(teamId, { apps: 2 });
    await createApp(getDb(), ctx, { name: name("a") });
    const results = await Promise.all([
      outcome(createApp(getDb(), ctx, { name: name("a") })),
      outcome(createApp(getDb(), ctx, { name: name("a") })),
    ]);
    expect(results.filter((result) => result === "ok")).toHaveLength(1);
    expect(results.filter((result) => result !== "ok")).toMatchObject([{ code: "quota_exceeded" }]);
    expect(await getDb().app.count({ where: { teamId } })).toBe(2);
  });
});

describe("processes (#15)", () => {
  it("caps the team's containers over all its apps and process types, on scale and on replicas settings", async () => {
    const { ctx, teamId } = await ownerOfNewTeam();
    await override(teamId, { processes: 5 });
    const db = getDb();
    const first = await createApp(db, ctx, { name: name("p"), settings: { replicas: 2 } });
    // A released app with a worker: 2 web + 1 worker (the default) on this one.
    const deployment = await db.deployment.create({
      data: {
        appId: first.id,
        teamId,
        number: 1,
        status: "running",
        sourceType: "upload",
        plan: { builder: "python", processes: { web: "w $PORT", worker: "celery" } },
      },
    });
    await db.app.update({
      where: { id: first.id },
      data: { currentDeploymentId: deployment.id, processTypes: ["web", "worker"] },
    });
    const second = await createApp(db, ctx, { name: name("p") });
    // 3 + 1 = 4 of 5: one more container fits, two do not.
    expect(await outcome(scaleApp(db, ctx, first.id, { processes: { worker: 3 } }))).toEqual({
      code: "quota_exceeded",
      status: 409,
      message:
        "Your team's quota of 5 process containers is reached (on all the team's apps) (instance admins can raise it).",
      details: { quota: "processes", limit: 5 },
    });
    expect(await outcome(updateApp(db, ctx, second.id, { settings: { replicas: 3 } }))).toMatchObject({
      code: "quota_exceeded",
    });
    expect(await outcome(createApp(db, ctx, { name: name("p"), settings: { replicas: 2 } }))).toMatchObject({
      code: "quota_exceeded",
    });
    expect(await outcome(scaleApp(db, ctx, first.id, { processes: { worker: 2 } }))).toBe("ok");
    // Scaling down always passes, even over a lowered quota.
    await override(teamId, { processes: 1 });
    expect(await outcome(scaleApp(db, ctx, first.id, { processes: { worker: 0 } }))).toBe("ok");
    expect((await effectiveQuotas(db, teamId)).processes).toBe(1);
    await override(teamId, { processes: null });
    expect((await effectiveQuotas(db, teamId)).processes).toBe(getEnv().quotaDefaults.processes);
  });
});

describe("databases", () => {
  it("refuses the database over the count quota", async () => {
    const { ctx, teamId } = await ownerOfNewTeam();
    await override(teamId, { databases: 1 });
    await createDatabase(getDb(), ctx, { name: name("db"), limits: { connectionLimit: 1 } });
    expect(await outcome(createDatabase(getDb(), ctx, { name: name("db"), limits: { connectionLimit: 1 } }))).toEqual(
      expect.objectContaining({
        code: "quota_exceeded",
        message: "Your team's quota of 1 database is reached (instance admins can raise it).",
      }),
    );
  });

  it("lets exactly one of two simultaneous creations through at limit - 1", async () => {
    const { ctx, teamId } = await ownerOfNewTeam();
    await override(teamId, { databases: 2 });
    await createDatabase(getDb(), ctx, { name: name("db"), limits: { connectionLimit: 1 } });
    const results = await Promise.all(
      [1, 2].map(() => outcome(createDatabase(getDb(), ctx, { name: name("db"), limits: { connectionLimit: 1 } }))),
    );
    expect(results.filter((result) => result === "ok")).toHaveLength(1);
    expect(await getDb().tenantDatabase.count({ where: { teamId } })).toBe(2);
  });

  it("caps the sum of the team's connection limits, on creation and when a limit is raised", async () => {
    const { ctx, teamId } = await ownerOfNewTeam();
    await override(teamId, { dbConnections: 30 });
    const { database } = await createDatabase(getDb(), ctx, { name: name("db"), limits: { connectionLimit: 20 } });
    const refused = await outcome(createDatabase(getDb(), ctx, { name: name("db"), limits: { connectionLimit: 20 } }));
    expect(refused).toMatchObject({ code: "quota_exceeded", details: { quota: "dbConnections", limit: 30 } });
    expect(refused).toMatchObject({ message: expect.stringContaining("quota of 30 database connections") });
    await getDb().tenantDatabase.update({ where: { id: database.id }, data: { status: "ready" } });
    expect(await outcome(changeDatabaseLimits(getDb(), ctx, database.id, { connectionLimit: 31 }))).toMatchObject({
      code: "quota_exceeded",
      details: { quota: "dbConnections" },
    });
    expect(await outcome(changeDatabaseLimits(getDb(), ctx, database.id, { connectionLimit: 30 }))).toBe("ok");
    expect(await outcome(changeDatabaseLimits(getDb(), ctx, database.id, { connectionLimit: 5 }))).toBe("ok");
  });

  it("keeps the sum over all teams under the tenant server's max_connections minus the reserve", async () => {
    const sum = await getDb().tenantDatabase.aggregate({ _sum: { connectionLimit: true } });
    const reserved = getEnv().tenantServices.pgReservedConnections;
    const before = process.env.TENANT_PG_MAX_CONNECTIONS;
    // Room for exactly 25 more connections on the whole server.
    process.env.TENANT_PG_MAX_CONNECTIONS = String((sum._sum.connectionLimit ?? 0) + reserved + 25);
    resetEnvForTests();
    try {
      const first = await ownerOfNewTeam();
      const second = await ownerOfNewTeam();
      expect(
        await outcome(createDatabase(getDb(), first.ctx, { name: name("db"), limits: { connectionLimit: 20 } })),
      ).toBe("ok");
      expect(
        await outcome(createDatabase(getDb(), second.ctx, { name: name("db"), limits: { connectionLimit: 10 } })),
      ).toMatchObject({ code: "quota_exceeded", status: 409, details: { quota: "tenantPgConnections" } });
      expect(
        await outcome(createDatabase(getDb(), second.ctx, { name: name("db"), limits: { connectionLimit: 5 } })),
      ).toBe("ok");
    } finally {
      if (before === undefined) delete process.env.TENANT_PG_MAX_CONNECTIONS;
      else process.env.TENANT_PG_MAX_CONNECTIONS = before;
      resetEnvForTests();
    }
  });
});

describe("Redis", () => {
  it("refuses the instance over the quota, and exactly one of two racing at limit - 1", async () => {
    const { ctx, teamId } = await ownerOfNewTeam();
    await override(teamId, { redis: 2 });
    await createRedis(getDb(), ctx, { name: name("r") });
    const results = await Promise.all([1, 2].map(() => outcome(createRedis(getDb(), ctx, { name: name("r") }))));
    expect(results.filter((result) => result === "ok")).toHaveLength(1);
    expect(await outcome(createRedis(getDb(), ctx, { name: name("r") }))).toMatchObject({
      code: "quota_exceeded",
      message: "Your team's quota of 2 Redis instances is reached (instance admins can raise it).",
    });
  });
});

describe("the shared Redis's memory budget", () => {
  it("admits instances only while all teams' memory quotas fit maxmemory minus headroom, and refuses raising past it", async () => {
    const MIB = 1024 * 1024;
    const committed = Math.ceil((await redisMemoryCommitted(getDb())) / MIB);
    const headroom =
      getEnv().tenantServices.redisMaxMemoryBytes / MIB - getEnv().tenantServices.redisQuotaBudgetBytes / MIB;
    const before = process.env.TENANT_REDIS_MAXMEMORY_MB;
    // Room for exactly 100 MiB more quota on the whole server.
    process.env.TENANT_REDIS_MAXMEMORY_MB = String(committed + headroom + 100);
    resetEnvForTests();
    try {
      const first = await ownerOfNewTeam();
      const second = await ownerOfNewTeam();
      await override(first.teamId, { redisMemoryMb: 60 });
      await override(second.teamId, { redisMemoryMb: 60 });
      expect(await outcome(createRedis(getDb(), first.ctx, { name: name("r") }))).toBe("ok");
      expect(await outcome(createRedis(getDb(), second.ctx, { name: name("r") }))).toMatchObject({
        code: "quota_exceeded",
        status: 409,
        details: { quota: "tenantRedisMemory", limit: committed + 100 },
      });
      await override(second.teamId, { redisMemoryMb: 40 });
      expect(await outcome(createRedis(getDb(), second.ctx, { name: name("r") }))).toBe("ok");

      const admin = await createTestUser({ admin: true });
      const raise = setTeamQuotas(getDb(), admin, first.teamId, { redisMemoryMb: 61 }, testMeta());
      expect(await outcome(raise)).toMatchObject({ code: "quota_exceeded", details: { quota: "tenantRedisMemory" } });
      expect((await effectiveQuotas(getDb(), first.teamId)).redisMemoryMb).toBe(60);
      expect(await outcome(setTeamQuotas(getDb(), admin, first.teamId, { redisMemoryMb: 50 }, testMeta()))).toBe("ok");
    } finally {
      if (before === undefined) delete process.env.TENANT_REDIS_MAXMEMORY_MB;
      else process.env.TENANT_REDIS_MAXMEMORY_MB = before;
      resetEnvForTests();
    }
  });
});

describe("uploads", () => {
  it("counts the bytes of unexpired uploads the team holds", async () => {
    const { ctx, teamId } = await ownerOfNewTeam();
    await override(teamId, { uploadMb: 1 });
    await createUpload(getDb(), ctx, await gzipBody(600 * 1024));
    const refused = await outcome(createUpload(getDb(), ctx, await gzipBody(600 * 1024)));
    expect(refused).toMatchObject({ code: "quota_exceeded", details: { quota: "uploadBytes", limit: 1024 * 1024 } });
    expect(await getDb().upload.count({ where: { teamId } })).toBe(1);
    // An expired upload cannot be deployed any more: it no longer counts.
    await getDb().upload.updateMany({ where: { teamId }, data: { expiresAt: new Date(Date.now() - UPLOAD_TTL_MS) } });
    expect(await outcome(createUpload(getDb(), ctx, await gzipBody(600 * 1024)))).toBe("ok");
  });

  it("lets exactly one of two simultaneous uploads through when only one fits", async () => {
    const { ctx, teamId } = await ownerOfNewTeam();
    await override(teamId, { uploadMb: 1 });
    const bodies = [await gzipBody(600 * 1024), await gzipBody(600 * 1024)];
    const results = await Promise.all(bodies.map((body) => outcome(createUpload(getDb(), ctx, body))));
    expect(results.filter((result) => result === "ok")).toHaveLength(1);
    expect(await getDb().upload.count({ where: { teamId } })).toBe(1);
  });
});

describe("teams per user", () => {
  it("counts the teams a user owns, not those they were invited to", async () => {
    await getDb().instanceQuota.create({ data: { id: INSTANCE_QUOTA_ID, teamsPerUser: 2 } });
    try {
      const user = await createTestUser();
      const other = await ownerOfNewTeam();
      await getDb().membership.create({ data: { teamId: other.teamId, userId: user.id, role: "admin" } });
      const create = () => createTeam(getDb(), { userId: user.id, name: name("Team"), meta: testMeta() });
      await create();
      const results = await Promise.all([outcome(create()), outcome(create())]);
      expect(results.filter((result) => result === "ok")).toHaveLength(1);
      expect(await outcome(create())).toEqual({
        code: "quota_exceeded",
        status: 409,
        message: "Your quota of 2 teams is reached (instance admins can raise it).",
        details: { quota: "teamsPerUser", limit: 2 },
      });
      expect(await getDb().membership.count({ where: { userId: user.id, role: "owner" } })).toBe(2);
    } finally {
      await getDb().instanceQuota.delete({ where: { id: INSTANCE_QUOTA_ID } });
    }
  });
});
