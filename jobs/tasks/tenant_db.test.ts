// The tenant_db__* jobs against the real tenant PostgreSQL of the test run (the embedded cluster of the vitest global
// setup): provisioning for real, connecting with the revealed credentials, isolation between tenants, deletion that
// leaves nothing behind, crash-retry convergence after every step, and password rotation.
import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { runOnce } from "graphile-worker";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { TaskContext } from "@/jobs/define";
import { buildTaskList } from "@/jobs/runner";
import { provisionTenantDb, tenantDbProvision } from "@/jobs/tasks/tenant_db__provision";
import { tenantDbRotate } from "@/jobs/tasks/tenant_db__rotate";
import { workerLogger } from "@/lib/database/migrate";
import { getDb } from "@/lib/db";
import type { Ctx } from "@/lib/domain/context";
import {
  changeDatabaseLimits,
  createDatabase,
  deleteDatabase,
  revealDatabaseCredentials,
  rotateDatabasePassword,
} from "@/lib/domain/databases";
import { getEnv, resetEnvForTests } from "@/lib/env";
import {
  inspectTenantDatabase,
  TENANT_PROVISION_STEPS,
  type TenantConnectionInfo,
  tenantNames,
} from "@/lib/infra/tenant-postgres";
import { createTestTeam, createTestUser, userCtx } from "@/test/factories";
import { withRawClient } from "@/test/helpers";

const { adminUrl } = inject("testDatabase");

// Everything the jobs log, at the most verbose level, to prove no password ends up there.
const logLines: string[] = [];
const log = pino(
  { level: "trace" },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString("utf8"));
      done();
    },
  }),
);

const clients: pg.Client[] = [];

beforeAll(() => {
  process.env.TENANT_PG_ADMIN_URL = adminUrl;
  resetEnvForTests();
});

afterAll(async () => {
  for (const client of clients) await client.end().catch(() => undefined);
  delete process.env.TENANT_PG_ADMIN_URL;
  resetEnvForTests();
});

// runOnce stops at the first empty fetch, and a named queue stays locked until graphile-worker flushes the previous
// job's completion, so one pass can leave runnable jobs of the queue behind: pass again while any are due.
async function drain(): Promise<void> {
  for (let pass = 0; pass < 20; pass += 1) {
    await runOnce(
      { connectionString: getEnv().databaseDirectUrl, logger: workerLogger(log) },
      buildTaskList({ db: getDb(), log, workerId: "test" }),
    );
    const due = await withRawClient((client) =>
      client.query(
        "SELECT 1 FROM graphile_worker._private_jobs WHERE run_at <= now() AND attempts < max_attempts LIMIT 1",
      ),
    );
    if (due.rowCount === 0) return;
  }
  throw new Error("jobs are still due after 20 passes");
}

function taskContext(attempt = 1): TaskContext {
  return { db: getDb(), log, jobId: "test", attempt, maxAttempts: 8, workerId: "test" };
}

async function adminCtx(): Promise<Ctx> {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  return await userCtx(owner.id, team.id);
}

let counter = 0;
function uniqueName(): string {
  counter += 1;
  return `db-${process.pid}-${counter}`;
}

async function readyDatabase(ctx: Ctx) {
  const { database, operation } = await createDatabase(getDb(), ctx, {
    name: uniqueName(),
    limits: { connectionLimit: 5 },
  });
  await drain();
  return { database, operation };
}

async function open(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  // A terminated session emits "error"; the assertions look at the failing query instead.
  client.on("error", () => undefined);
  clients.push(client);
  await client.connect();
  return client;
}

async function refused(url: string): Promise<pg.DatabaseError> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    if (error instanceof pg.DatabaseError) return error;
    throw error;
  }
  await client.end();
  throw new Error("expected the connection to be refused");
}

function withDatabase(info: TenantConnectionInfo, database: string): string {
  const url = new URL(info.url);
  url.pathname = `/${database}`;
  return url.toString();
}

describe("tenant_db__provision", () => {
  it("creates the database for real; the tenant connects with the revealed credentials", async () => {
    const ctx = await adminCtx();
    const { database, operation } = await readyDatabase(ctx);

    const row = await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: database.id } });
    expect(row).toMatchObject({ status: "ready", error: null });
    const op = await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } });
    expect(op).toMatchObject({ status: "succeeded", kind: "database.provision", targetId: database.id });

    const info = await revealDatabaseCredentials(getDb(), ctx, database.id);
    expect(info.user).toBe(tenantNames(database.id).role);
    expect(info.database).toBe(tenantNames(database.id).database);
    const client = await open(info.url);
    const who = await client.query<{ user: string; limit: number }>(
      "SELECT current_user AS user, (SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user) AS limit",
    );
    expect(who.rows[0]).toEqual({ user: info.user, limit: 5 });
    await client.query("CREATE TABLE notes (id serial PRIMARY KEY, body text)");
    await client.query("INSERT INTO notes (body) VALUES ('hello')");

    // Neither the job's logs nor the audit rows carry the password.
    expect(logLines.join("")).not.toContain(info.password);
    const audit = await getDb().auditEvent.findMany({ where: { teamId: ctx.teamId } });
    expect(audit.map((event) => event.action)).toEqual(
      expect.arrayContaining(["database.created", "database.credentials_revealed"]),
    );
    expect(JSON.stringify(audit)).not.toContain(info.password);
  });

  it("keeps tenants apart: A cannot connect to B's database, nor to the platform's", async () => {
    const ctx = await adminCtx();
    const a = await readyDatabase(ctx);
    const b = await readyDatabase(ctx);
    const infoA = await revealDatabaseCredentials(getDb(), ctx, a.database.id);
    const infoB = await revealDatabaseCredentials(getDb(), ctx, b.database.id);

    const intoB = await refused(withDatabase(infoA, infoB.database));
    expect(intoB.code).toBe("42501");
    const platform = new URL(getEnv().databaseUrl ?? "").pathname.slice(1);
    for (const database of [platform, "postgres", "template1"]) {
      expect((await refused(withDatabase(infoA, database))).code).toBe("42501");
    }
    // B's password is not A's: wrong credentials for B's role.
    const wrong = new URL(infoB.url);
    wrong.password = encodeURIComponent(infoA.password);
    expect((await refused(wrong.toString())).code).toBe("28P01");
  });

  it("converges when a provision is interrupted after any step and then retried", async () => {
    const ctx = await adminCtx();
    for (let k = 0; k < TENANT_PROVISION_STEPS.length; k += 1) {
      const { database, operation } = await createDatabase(getDb(), ctx, { name: uniqueName() });
      const crash = {
        name: "public_schema" as const,
        run: async () => {
          throw new Error(`injected crash after step ${k}`);
        },
      };
      const payload = { databaseId: database.id, operationId: operation.id };
      await expect(
        provisionTenantDb(payload, taskContext(1), { steps: [...TENANT_PROVISION_STEPS.slice(0, k), crash] }),
      ).rejects.toThrow(`injected crash after step ${k}`);
      // Still provisioning and claimable: the retry picks up where the crash left it.
      expect(await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: database.id } })).toMatchObject({
        status: "provisioning",
      });
      expect((await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } })).status).toBe("running");

      await provisionTenantDb(payload, taskContext(2));
      expect((await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: database.id } })).status).toBe("ready");
      expect(await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } })).toMatchObject({
        status: "succeeded",
        attempts: 2,
      });
      expect(await inspectTenantDatabase(adminUrl, database.id)).toEqual({ roleExists: true, databaseExists: true });
      const client = await open((await revealDatabaseCredentials(getDb(), ctx, database.id)).url);
      await client.query("CREATE TABLE t (id int)");
    }
  });

  it("marks the database failed with a readable reason when the server refuses for good", async () => {
    const ctx = await adminCtx();
    // An admin role without CREATEROLE/CREATEDB: a configuration problem no retry fixes.
    const weak = `weak_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE ROLE ${weak} LOGIN PASSWORD 'weak-password-0123456789'`);
    await admin.end();
    const weakUrl = new URL(adminUrl);
    weakUrl.username = weak;
    weakUrl.password = "weak-password-0123456789";
    process.env.TENANT_PG_ADMIN_URL = weakUrl.toString();
    resetEnvForTests();
    try {
      const { database, operation } = await createDatabase(getDb(), ctx, { name: uniqueName() });
      await provisionTenantDb({ databaseId: database.id, operationId: operation.id }, taskContext());
      const row = await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: database.id } });
      expect(row.status).toBe("failed");
      expect(row.error).toBe("The database service is not configured to allow this operation.");
      const op = await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } });
      expect(op).toMatchObject({ status: "failed", error: row.error });
    } finally {
      process.env.TENANT_PG_ADMIN_URL = adminUrl;
      resetEnvForTests();
    }
  });

  it("gives up with the reason on the row and the operation when the attempts run out", async () => {
    const ctx = await adminCtx();
    const { database, operation } = await createDatabase(getDb(), ctx, { name: uniqueName() });
    expect(tenantDbProvision.maxAttempts).toBeGreaterThan(1);
    await tenantDbProvision.onGiveUp?.(
      { databaseId: database.id, operationId: operation.id },
      "The tenant server did not answer.",
      taskContext(8),
    );
    expect(await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: database.id } })).toMatchObject({
      status: "failed",
      error: "The tenant server did not answer.",
    });
    expect((await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } })).status).toBe("failed");
  });
});

describe("tenant_db__deprovision", () => {
  it("removes the database and the role, then the row; a deletion before provisioning leaves nothing either", async () => {
    const ctx = await adminCtx();
    const { database } = await readyDatabase(ctx);
    expect(await inspectTenantDatabase(adminUrl, database.id)).toEqual({ roleExists: true, databaseExists: true });
    const client = await open((await revealDatabaseCredentials(getDb(), ctx, database.id)).url);

    const { operation } = await deleteDatabase(getDb(), ctx, database.id);
    await drain();
    expect(await getDb().tenantDatabase.findUnique({ where: { id: database.id } })).toBeNull();
    expect((await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } })).status).toBe("succeeded");
    expect(await inspectTenantDatabase(adminUrl, database.id)).toEqual({ roleExists: false, databaseExists: false });
    // Its open session was ended too.
    await expect(client.query("SELECT 1")).rejects.toThrow();

    // Deleted while still queued for provisioning: the provision job stops, the deprovision finds nothing to drop.
    const early = await createDatabase(getDb(), ctx, { name: uniqueName() });
    await deleteDatabase(getDb(), ctx, early.database.id);
    await drain();
    expect(await getDb().tenantDatabase.findUnique({ where: { id: early.database.id } })).toBeNull();
    expect((await getDb().operation.findUniqueOrThrow({ where: { id: early.operation.id } })).status).toBe("failed");
    expect(await inspectTenantDatabase(adminUrl, early.database.id)).toEqual({
      roleExists: false,
      databaseExists: false,
    });
  });
});

describe("tenant_db__rotate", () => {
  it("makes the old password stop working, for open sessions and new ones", async () => {
    const ctx = await adminCtx();
    const { database } = await readyDatabase(ctx);
    const before = await revealDatabaseCredentials(getDb(), ctx, database.id);
    const session = await open(before.url);
    await session.query("SELECT 1");

    const { operation } = await rotateDatabasePassword(getDb(), ctx, database.id);
    await drain();
    expect((await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } })).status).toBe("succeeded");
    expect((await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: database.id } })).status).toBe("ready");

    const after = await revealDatabaseCredentials(getDb(), ctx, database.id);
    expect(after.password).not.toBe(before.password);
    await expect(session.query("SELECT 1")).rejects.toThrow();
    expect((await refused(before.url)).code).toBe("28P01");
    const fresh = await open(after.url);
    expect((await fresh.query<{ one: number }>("SELECT 1 AS one")).rows[0]?.one).toBe(1);
    expect(logLines.join("")).not.toContain(after.password);
    expect(logLines.join("")).not.toContain(before.password);
  });
});

describe("tenant_db__apply_limits", () => {
  it("applies changed limits on the server: the new connection limit and timeouts hold for new sessions", async () => {
    const ctx = await adminCtx();
    const { database } = await readyDatabase(ctx);
    const info = await revealDatabaseCredentials(getDb(), ctx, database.id);

    const { operation } = await changeDatabaseLimits(getDb(), ctx, database.id, {
      connectionLimit: 2,
      statementTimeoutMs: 500,
      idleInTransactionMs: 2_000,
    });
    expect(operation?.kind).toBe("database.limits");
    await drain();
    expect((await getDb().operation.findUniqueOrThrow({ where: { id: operation?.id ?? "" } })).status).toBe(
      "succeeded",
    );
    expect(await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: database.id } })).toMatchObject({
      status: "ready",
      error: null,
      connectionLimit: 2,
      statementTimeoutMs: 500,
    });

    const first = await open(info.url);
    const settings = await first.query<{ statement: string; idle: string; limit: number }>(
      "SELECT current_setting('statement_timeout') AS statement, " +
        "current_setting('idle_in_transaction_session_timeout') AS idle, " +
        "(SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user) AS limit",
    );
    expect(settings.rows[0]).toEqual({ statement: "500ms", idle: "2s", limit: 2 });
    await expect(first.query("SELECT pg_sleep(2)")).rejects.toMatchObject({ code: "57014" });
    await open(info.url);
    // The third session is one too many for the new limit.
    expect((await refused(info.url)).code).toBe("53300");
    // The password did not change along the way.
    expect((await revealDatabaseCredentials(getDb(), ctx, database.id)).password).toBe(info.password);
  });
});

describe("restarts of the attached app", () => {
  it("asks for one, as the system, when the database becomes ready and when its password was rotated", async () => {
    const ctx = await adminCtx();
    const app = await getDb().app.create({
      data: { teamId: ctx.teamId, name: uniqueName(), status: "running", currentDeploymentId: randomUUID() },
    });
    const restarts = () =>
      getDb().auditEvent.findMany({ where: { action: "app.restart_requested", targetId: app.id } });
    // The jobs are run directly: draining would also run the restart itself, which needs podman and Caddy.
    const created = await createDatabase(getDb(), ctx, { name: uniqueName(), appId: app.id });
    await provisionTenantDb({ databaseId: created.database.id, operationId: created.operation.id }, taskContext());
    expect((await restarts()).map((event) => [event.actorType, event.metadata])).toEqual([
      ["system", expect.objectContaining({ reason: "database ready" })],
    ]);
    const restart = await getDb().operation.findFirst({ where: { kind: "app.restart", targetId: app.id } });
    expect(restart?.status).toBe("queued");

    const rotation = await rotateDatabasePassword(getDb(), ctx, created.database.id);
    // Nothing yet: the app keeps running until the new password is in place.
    expect(await restarts()).toHaveLength(1);
    await tenantDbRotate.run({ databaseId: created.database.id, operationId: rotation.operation.id }, taskContext());
    expect((await restarts()).map((event) => event.metadata)).toEqual([
      expect.objectContaining({ reason: "database ready" }),
      expect.objectContaining({ reason: "database password rotated" }),
    ]);
  });
});
