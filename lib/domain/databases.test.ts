// Domain rules of tenant databases and Redis that the API tests do not reach: who may do what, the typed delete
// confirmation, the per-team cap, the environment injected into attached apps, and team deletion taking the
// server-side resources with it. Jobs run against real servers in jobs/tasks/tenant_db.test.ts.
import { randomBytes, randomUUID } from "node:crypto";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { removeTeamServices } from "@/jobs/tenant-services";
import { decryptSecret } from "@/lib/crypto";
import { getDb } from "@/lib/db";
import type { Ctx } from "@/lib/domain/context";
import {
  createDatabase,
  deleteDatabase,
  getDatabase,
  listDatabases,
  revealDatabaseCredentials,
  rotateDatabasePassword,
  updateDatabase,
} from "@/lib/domain/databases";
import { effectiveQuotas } from "@/lib/domain/quotas";
import { createRedis, listRedis, revealRedisCredentials, updateRedis } from "@/lib/domain/redis";
import { resolveServiceEnvForApp } from "@/lib/domain/service-env";
import { resetEnvForTests as resetEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import type { Role } from "@/lib/generated/prisma/enums";
import { inspectTenantDatabase, provisionTenantDatabase } from "@/lib/infra/tenant-postgres";
import { addMember, createTestTeam, createTestUser, userCtx } from "@/test/factories";

const { adminUrl } = inject("testDatabase");
const REDIS_ADMIN = "redis://tussilago-admin:admin-secret-0123456789@127.0.0.1:56379";

beforeAll(() => {
  process.env.TENANT_PG_ADMIN_URL = adminUrl;
  process.env.TENANT_REDIS_ADMIN_URL = REDIS_ADMIN;
  resetEnv();
});

afterAll(() => {
  delete process.env.TENANT_PG_ADMIN_URL;
  delete process.env.TENANT_REDIS_ADMIN_URL;
  resetEnv();
});

function name(prefix = "db"): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
  return "ok";
}

async function teamWithRoles(): Promise<Record<Role, Ctx> & { teamId: string }> {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const ctxs = { owner: await userCtx(owner.id, team.id) } as Record<Role, Ctx>;
  for (const role of ["admin", "member", "viewer"] as const) {
    const user = await createTestUser();
    await addMember(team.id, user.id, role);
    ctxs[role] = await userCtx(user.id, team.id);
  }
  return { ...ctxs, teamId: team.id };
}

describe("who may do what", () => {
  it("lets viewers and members read, and only admins and owners change or see credentials", async () => {
    const team = await teamWithRoles();
    const { database } = await createDatabase(getDb(), team.admin, { name: name() });
    await getDb().tenantDatabase.update({ where: { id: database.id }, data: { status: "ready" } });
    for (const role of ["viewer", "member"] as const) {
      const ctx = team[role];
      expect(await codeOf(listDatabases(getDb(), ctx, { limit: 10 }))).toBe("ok");
      expect(await codeOf(getDatabase(getDb(), ctx, database.id))).toBe("ok");
      expect(await codeOf(listRedis(getDb(), ctx, { limit: 10 }))).toBe("ok");
      expect(await codeOf(createDatabase(getDb(), ctx, { name: name() }))).toBe("forbidden");
      expect(await codeOf(createRedis(getDb(), ctx, { name: name() }))).toBe("forbidden");
      expect(await codeOf(updateDatabase(getDb(), ctx, database.id, { appId: null }))).toBe("forbidden");
      expect(await codeOf(rotateDatabasePassword(getDb(), ctx, database.id))).toBe("forbidden");
      expect(await codeOf(revealDatabaseCredentials(getDb(), ctx, database.id))).toBe("forbidden");
      expect(await codeOf(deleteDatabase(getDb(), ctx, database.id))).toBe("forbidden");
    }
    expect(await codeOf(revealDatabaseCredentials(getDb(), team.owner, database.id))).toBe("ok");
    // A refusal leaves no trace: one creation, one reveal.
    const actions = (await getDb().auditEvent.findMany({ where: { targetId: database.id } })).map((e) => e.action);
    expect(actions.sort()).toEqual(["database.created", "database.credentials_revealed"]);
  });

  it("reads another team's database, or a malformed ID, as not found", async () => {
    const mine = await teamWithRoles();
    const theirs = await teamWithRoles();
    const { database } = await createDatabase(getDb(), theirs.admin, { name: name() });
    expect(await codeOf(getDatabase(getDb(), mine.admin, database.id))).toBe("not_found");
    expect(await codeOf(deleteDatabase(getDb(), mine.admin, database.id))).toBe("not_found");
    expect(await codeOf(getDatabase(getDb(), mine.admin, "not-a-uuid"))).toBe("not_found");
    expect(await codeOf(updateDatabase(getDb(), mine.admin, "' OR 1=1 --", { appId: null }))).toBe("not_found");
  });
});

describe("rules", () => {
  it("deletes only when the typed confirmation matches the name", async () => {
    const team = await teamWithRoles();
    const { database } = await createDatabase(getDb(), team.admin, { name: name() });
    expect(await codeOf(deleteDatabase(getDb(), team.admin, database.id, { confirmName: "wrong" }))).toBe("invalid");
    expect((await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: database.id } })).status).toBe(
      "provisioning",
    );
    const { database: deleted } = await deleteDatabase(getDb(), team.admin, database.id, {
      confirmName: database.name,
    });
    expect(deleted.status).toBe("deleting");
    // Nothing can be attached, rotated or revealed any more.
    expect(await codeOf(rotateDatabasePassword(getDb(), team.admin, database.id))).toBe("conflict");
    expect(await codeOf(updateDatabase(getDb(), team.admin, database.id, { appId: null }))).toBe("conflict");
    expect(await codeOf(revealDatabaseCredentials(getDb(), team.admin, database.id))).toBe("conflict");
  });

  it("caps the number of databases per team (the team's quota, lib/domain/quotas.ts)", async () => {
    const team = await teamWithRoles();
    await getDb().teamQuota.create({ data: { teamId: team.teamId, databases: 3 } });
    const { databases } = await effectiveQuotas(getDb(), team.teamId);
    expect(databases).toBe(3);
    await getDb().tenantDatabase.createMany({
      data: Array.from({ length: databases }, () => ({ teamId: team.teamId, name: name(), connectionLimit: 1 })),
    });
    expect(await codeOf(createDatabase(getDb(), team.admin, { name: name() }))).toBe("quota_exceeded");
  });

  it("attaches and changes limits in one transaction: a limit over the quota leaves the app unattached", async () => {
    const team = await teamWithRoles();
    await getDb().teamQuota.create({ data: { teamId: team.teamId, dbConnections: 30 } });
    const app = await getDb().app.create({ data: { teamId: team.teamId, name: name("app") } });
    const { database } = await createDatabase(getDb(), team.admin, { name: name(), limits: { connectionLimit: 5 } });
    await getDb().tenantDatabase.update({ where: { id: database.id }, data: { status: "ready" } });

    const over = updateDatabase(getDb(), team.admin, database.id, { appId: app.id, limits: { connectionLimit: 31 } });
    expect(await codeOf(over)).toBe("quota_exceeded");
    const row = await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: database.id } });
    expect({ appId: row.appId, connectionLimit: row.connectionLimit }).toEqual({ appId: null, connectionLimit: 5 });

    const { database: both, operation } = await updateDatabase(getDb(), team.admin, database.id, {
      appId: app.id,
      limits: { connectionLimit: 30 },
    });
    expect({ appId: both.appId, connectionLimit: both.limits.connectionLimit }).toEqual({
      appId: app.id,
      connectionLimit: 30,
    });
    expect(operation?.kind).toBe("database.limits");
  });

  it("refuses to attach to an app that is being deleted", async () => {
    const team = await teamWithRoles();
    const app = await getDb().app.create({ data: { teamId: team.teamId, name: name("app"), status: "deleting" } });
    expect(await codeOf(createDatabase(getDb(), team.admin, { name: name(), appId: app.id }))).toBe("conflict");
  });
});

describe("resolveServiceEnvForApp", () => {
  it("injects DATABASE_URL and PG*, REDIS_URL and REDIS_* of the attached, usable services only", async () => {
    const team = await teamWithRoles();
    const app = await getDb().app.create({ data: { teamId: team.teamId, name: name("app") } });
    expect(await resolveServiceEnvForApp(getDb(), app.id)).toEqual({});

    const { database } = await createDatabase(getDb(), team.admin, { name: name(), appId: app.id });
    const { redis } = await createRedis(getDb(), team.admin, { name: name("cache"), appId: app.id });
    // Still provisioning: nothing to connect to yet.
    expect(await resolveServiceEnvForApp(getDb(), app.id)).toEqual({});

    await getDb().tenantDatabase.update({ where: { id: database.id }, data: { status: "ready" } });
    await getDb().tenantRedis.update({ where: { id: redis.id }, data: { status: "ready" } });
    const env = await resolveServiceEnvForApp(getDb(), app.id);
    const pg = await revealDatabaseCredentials(getDb(), team.admin, database.id);
    const cache = await revealRedisCredentials(getDb(), team.admin, redis.id);
    expect(env).toEqual({
      DATABASE_URL: pg.url,
      PGHOST: pg.host,
      PGPORT: String(pg.port),
      PGUSER: pg.user,
      PGPASSWORD: pg.password,
      PGDATABASE: pg.database,
      REDIS_URL: cache.url,
      REDIS_HOST: cache.host,
      REDIS_PORT: String(cache.port),
      REDIS_USER: cache.user,
      REDIS_PASSWORD: cache.password,
      REDIS_KEY_PREFIX: cache.keyPrefix,
    });
    const row = await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: database.id } });
    expect(env.PGPASSWORD).toBe(decryptSecret(row.passwordEncrypted ?? ""));

    // Detached or being deleted: the variables go away.
    await updateRedis(getDb(), team.admin, redis.id, { appId: null });
    await deleteDatabase(getDb(), team.admin, database.id);
    expect(await resolveServiceEnvForApp(getDb(), app.id)).toEqual({});
  });
});

describe("restarts of attached apps", () => {
  it("asks for a restart of a running app when a change of its variables is requested: attach, detach, delete", async () => {
    const team = await teamWithRoles();
    const app = await getDb().app.create({
      data: { teamId: team.teamId, name: name("app"), status: "running", currentDeploymentId: randomUUID() },
    });
    const stopped = await getDb().app.create({ data: { teamId: team.teamId, name: name("app") } });
    const { database } = await createDatabase(getDb(), team.admin, { name: name() });
    await getDb().tenantDatabase.update({ where: { id: database.id }, data: { status: "ready" } });
    const restarts = () =>
      getDb().auditEvent.count({
        where: { teamId: team.teamId, action: "app.restart_requested", targetId: app.id },
      });

    await updateDatabase(getDb(), team.admin, database.id, { appId: app.id });
    expect(await restarts()).toBe(1);
    expect(await getDb().operation.count({ where: { kind: "app.restart", targetId: app.id } })).toBe(1);
    // Rotation restarts the app from its job, once the new password is in place (jobs/tasks/tenant_db.test.ts).
    await rotateDatabasePassword(getDb(), team.admin, database.id);
    expect(await restarts()).toBe(1);
    // A stopped app gets the change when it starts: no restart for it.
    await updateDatabase(getDb(), team.admin, database.id, { appId: stopped.id });
    expect(await restarts()).toBe(2);
    expect(await getDb().auditEvent.count({ where: { action: "app.restart_requested", targetId: stopped.id } })).toBe(
      0,
    );
    await updateDatabase(getDb(), team.admin, database.id, { appId: app.id });
    await deleteDatabase(getDb(), team.admin, database.id);
    expect(await restarts()).toBe(4);
  });
});

describe("team deletion", () => {
  it("removes the team's databases from the tenant server before the rows go", async () => {
    const team = await teamWithRoles();
    const { database } = await createDatabase(getDb(), team.admin, { name: name() });
    const row = await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: database.id } });
    await provisionTenantDatabase(adminUrl, {
      resourceId: database.id,
      password: decryptSecret(row.passwordEncrypted ?? ""),
      limits: { connectionLimit: 2, statementTimeoutMs: 1_000, idleInTransactionTimeoutMs: 1_000 },
      protectDatabases: [],
    });
    expect(await inspectTenantDatabase(adminUrl, database.id)).toEqual({ roleExists: true, databaseExists: true });

    await removeTeamServices(getDb(), team.teamId, pino({ level: "silent" }));
    expect(await inspectTenantDatabase(adminUrl, database.id)).toEqual({ roleExists: false, databaseExists: false });
    expect(await getDb().tenantDatabase.count({ where: { teamId: team.teamId } })).toBe(0);
  });
});
