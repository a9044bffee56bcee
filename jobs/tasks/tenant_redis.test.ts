// The tenant_redis__* jobs against a real redis-server started by this file (the one the supervisor would start):
// provisioning, connecting with the revealed credentials, isolation between tenants, deletion that leaves no user and
// no key behind, and password rotation. The ACL matrix itself is tested in lib/infra/tenant-redis.test.ts.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { runOnce } from "graphile-worker";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTaskList } from "@/jobs/runner";
import { freePort } from "@/lib/database/embedded";
import { workerLogger } from "@/lib/database/migrate";
import { getDb } from "@/lib/db";
import type { Ctx } from "@/lib/domain/context";
import { createRedis, deleteRedis, revealRedisCredentials, rotateRedisPassword } from "@/lib/domain/redis";
import { getEnv, resetEnvForTests } from "@/lib/env";
import { REDIS_ADMIN_USER, type RedisServer, startRedisServer } from "@/lib/infra/redis-server";
import { connectRedis, type RedisConnection, RedisReplyError } from "@/lib/infra/resp";
import { inspectTenantRedis, type TenantRedisAdmin } from "@/lib/infra/tenant-redis";
import { createTestTeam, createTestUser, userCtx } from "@/test/factories";
import { withRawClient } from "@/test/helpers";

const hasRedis = spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
const skipped = hasRedis ? "" : " (skipped: redis-server is not installed; apt-get install -y redis-server)";

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

describe.skipIf(!hasRedis)(`tenant Redis jobs on a real redis-server${skipped}`, () => {
  let dir: string;
  let server: RedisServer;
  let admin: TenantRedisAdmin;
  const open: RedisConnection[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tussilago-redis-jobs-"));
    const port = await freePort();
    const adminPassword = randomBytes(24).toString("base64url");
    server = await startRedisServer({ dir, port, adminPassword, persistence: "none" });
    admin = { host: "127.0.0.1", port, user: REDIS_ADMIN_USER, password: adminPassword };
    process.env.TENANT_REDIS_ADMIN_URL = `redis://${REDIS_ADMIN_USER}:${adminPassword}@127.0.0.1:${port}`;
    resetEnvForTests();
  });

  afterAll(async () => {
    for (const connection of open) await connection.close();
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    delete process.env.TENANT_REDIS_ADMIN_URL;
    resetEnvForTests();
  });

  async function adminCtx(): Promise<Ctx> {
    const owner = await createTestUser();
    const team = await createTestTeam(owner.id);
    return await userCtx(owner.id, team.id);
  }

  async function ready(ctx: Ctx) {
    const created = await createRedis(getDb(), ctx, { name: `cache-${randomBytes(4).toString("hex")}` });
    await drain();
    return created;
  }

  async function connectAs(user: string, password: string): Promise<RedisConnection> {
    const connection = await connectRedis({ host: admin.host, port: admin.port, user, password });
    open.push(connection);
    return connection;
  }

  async function refusal(promise: Promise<unknown>): Promise<RedisReplyError> {
    try {
      await promise;
    } catch (error) {
      if (error instanceof RedisReplyError) return error;
      throw error;
    }
    throw new Error("expected Redis to refuse");
  }

  it("provisions a user the tenant can use with the revealed credentials, confined to its prefix", async () => {
    const ctx = await adminCtx();
    const { redis, operation } = await ready(ctx);
    expect(await getDb().tenantRedis.findUniqueOrThrow({ where: { id: redis.id } })).toMatchObject({
      status: "ready",
      error: null,
    });
    expect((await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } })).status).toBe("succeeded");

    const info = await revealRedisCredentials(getDb(), ctx, redis.id);
    expect(info.url).toBe(`redis://${info.user}:${info.password}@127.0.0.1:${admin.port}`);
    const tenant = await connectAs(info.user, info.password);
    expect(await tenant.command(["SET", `${info.keyPrefix}:greeting`, "hello"])).toBe("OK");
    expect(await tenant.command(["GET", `${info.keyPrefix}:greeting`])).toBe("hello");
    expect((await refusal(tenant.command(["GET", "elsewhere"]))).code).toBe("NOPERM");

    expect(logLines.join("")).not.toContain(info.password);
    const audit = await getDb().auditEvent.findMany({ where: { teamId: ctx.teamId } });
    expect(audit.map((event) => event.action)).toEqual(
      expect.arrayContaining(["redis.created", "redis.credentials_revealed"]),
    );
    expect(JSON.stringify(audit)).not.toContain(info.password);
  });

  it("keeps tenants apart: A cannot read B's keys or log in as B", async () => {
    const ctx = await adminCtx();
    const a = await revealRedisCredentials(getDb(), ctx, (await ready(ctx)).redis.id);
    const b = await revealRedisCredentials(getDb(), ctx, (await ready(ctx)).redis.id);
    const asB = await connectAs(b.user, b.password);
    await asB.command(["SET", `${b.keyPrefix}:secret`, "b-only"]);
    const asA = await connectAs(a.user, a.password);
    expect((await refusal(asA.command(["GET", `${b.keyPrefix}:secret`]))).code).toBe("NOPERM");
    expect((await refusal(connectAs(b.user, a.password))).code).toBe("WRONGPASS");
  });

  it("deprovisioning removes the user and every key under its prefix, then the row", async () => {
    const ctx = await adminCtx();
    const { redis } = await ready(ctx);
    const info = await revealRedisCredentials(getDb(), ctx, redis.id);
    const tenant = await connectAs(info.user, info.password);
    for (let i = 0; i < 5; i += 1) await tenant.command(["SET", `${info.keyPrefix}:k${i}`, "v"]);

    const { operation } = await deleteRedis(getDb(), ctx, redis.id);
    await drain();
    expect(await getDb().tenantRedis.findUnique({ where: { id: redis.id } })).toBeNull();
    expect((await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } })).status).toBe("succeeded");
    expect(await inspectTenantRedis(admin, redis.id)).toEqual({ userExists: false });
    const asAdmin = await connectAs(admin.user, admin.password);
    expect(await asAdmin.command(["KEYS", `${info.keyPrefix}:*`])).toEqual([]);
    await expect(tenant.command(["PING"])).rejects.toThrow();
  });

  it("rotation makes the old password stop working and disconnects its clients", async () => {
    const ctx = await adminCtx();
    const { redis } = await ready(ctx);
    const before = await revealRedisCredentials(getDb(), ctx, redis.id);
    const session = await connectAs(before.user, before.password);
    await session.command(["SET", `${before.keyPrefix}:kept`, "1"]);

    const { operation } = await rotateRedisPassword(getDb(), ctx, redis.id);
    await drain();
    expect((await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } })).status).toBe("succeeded");
    const after = await revealRedisCredentials(getDb(), ctx, redis.id);
    expect(after.password).not.toBe(before.password);
    await expect(session.command(["PING"])).rejects.toThrow();
    expect((await refusal(connectAs(before.user, before.password))).code).toBe("WRONGPASS");
    const fresh = await connectAs(after.user, after.password);
    expect(await fresh.command(["GET", `${after.keyPrefix}:kept`])).toBe("1");
    expect(logLines.join("")).not.toContain(after.password);
  });
});
