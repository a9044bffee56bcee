// Fault injection during deletions and tenant service provisioning (test/fault-harness.ts), with the real worker:
// - app__delete: the fake podman kills the worker right after the first container removal; the app ends deleted,
//   with no container, no image and no route left.
// - tenant databases (the test run's PostgreSQL) and Redis (a redis-server of this file): these do not go through
//   podman, so the kill point is a row lock instead. The test holds the resource's row (SELECT ... FOR UPDATE), so
//   the job, once it changed the tenant server, blocks at the status write; the test sees the change on the server
//   and SIGKILLs the worker there. A restarted worker converges: ready (role, database or ACL user present), and
//   after a deletion killed the same way, gone (row, role, database or user).
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freePort } from "@/lib/database/embedded";
import { getDb } from "@/lib/db";
import { deleteApp } from "@/lib/domain/apps";
import { createDatabase, deleteDatabase } from "@/lib/domain/databases";
import { createRedis, deleteRedis } from "@/lib/domain/redis";
import { resetEnvForTests } from "@/lib/env";
import { REDIS_ADMIN_USER, type RedisServer, startRedisServer } from "@/lib/infra/redis-server";
import { inspectTenantDatabase } from "@/lib/infra/tenant-postgres";
import { inspectTenantRedis, type TenantRedisAdmin } from "@/lib/infra/tenant-redis";
import {
  appContainers,
  crashed,
  fakeImages,
  harness,
  installFaultHarness,
  killedByFake,
  operationEnded,
  resetKillSwitch,
  servingApp,
  startWorkerProcess,
  waitFor,
  withWorker,
} from "@/test/fault-harness";
import { withRawClient } from "@/test/helpers";
import { upstreamsOf } from "@/test/release-helpers";

installFaultHarness();

const { adminUrl } = inject("testDatabase");
const hasRedis = spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;

// The requests (createDatabase, createRedis) ask for the configured servers too; the worker children inherit these.
beforeAll(() => {
  process.env.TENANT_PG_ADMIN_URL = adminUrl;
  resetEnvForTests();
});

afterAll(() => {
  delete process.env.TENANT_PG_ADMIN_URL;
  delete process.env.TENANT_REDIS_ADMIN_URL;
  resetEnvForTests();
});

async function succeeded(operationId: string) {
  const ended = await operationEnded(operationId);
  expect({ status: ended.status, error: ended.error }).toEqual({ status: "succeeded", error: null });
}

/**
 * Runs `during` while this test holds the row `id` of `table` locked, so a job that reaches its write of that row
 * waits there; the lock goes when `during` ends.
 */
async function holdingRow(table: "TenantDatabase" | "TenantRedis", id: string, during: () => Promise<void>) {
  await withRawClient(async (client: pg.Client) => {
    await client.query("BEGIN");
    try {
      await client.query(`SELECT id FROM "${table}" WHERE id = $1 FOR UPDATE`, [id]);
      await during();
    } finally {
      await client.query("ROLLBACK");
    }
  });
}

/** Starts a worker, waits until the tenant server shows `changed`, and SIGKILLs it there. */
async function killedOnceChanged(env: Record<string, string>, what: string, changed: () => Promise<boolean>) {
  await resetKillSwitch();
  const child = await startWorkerProcess(undefined, {}, env);
  await waitFor(what, async () => ((await changed()) ? true : undefined));
  await crashed(child);
}

describe("a worker killed while deleting an app", { timeout: 300_000 }, () => {
  it("converges when killed after the first container was removed", async () => {
    const seeded = await servingApp();
    const appId = seeded.app.id;
    expect(upstreamsOf(harness().caddy.config, appId)).not.toEqual([]);
    const { operation } = await deleteApp(getDb(), seeded.ctx, appId);
    await resetKillSwitch();
    const child = await startWorkerProcess("RM:1");
    await killedByFake(child, "RM:1");
    expect(await appContainers(appId)).toHaveLength(1);

    await withWorker(async () => {
      await succeeded(operation.id);
      expect(await getDb().app.findUnique({ where: { id: appId } })).toBeNull();
      expect(await getDb().replica.count({ where: { appId } })).toBe(0);
      expect(await appContainers(appId)).toEqual([]);
      expect((await fakeImages()).filter((image) => image.labels["tussilago.app"] === appId)).toEqual([]);
      expect(upstreamsOf(harness().caddy.config, appId)).toEqual([]);
    });
  });
});

describe("a worker killed while provisioning and deleting a tenant database", { timeout: 300_000 }, () => {
  const env = { TENANT_PG_ADMIN_URL: adminUrl };

  it("converges when killed after the database was created, then after it was dropped", async () => {
    const { ctx } = await servingApp(1);
    const { database, operation } = await createDatabase(getDb(), ctx, { name: `db${randomBytes(4).toString("hex")}` });
    await holdingRow("TenantDatabase", database.id, () =>
      killedOnceChanged(env, "the tenant database", async () => {
        const state = await inspectTenantDatabase(adminUrl, database.id);
        return state.roleExists && state.databaseExists;
      }),
    );
    expect((await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: database.id } })).status).toBe(
      "provisioning",
    );
    await withWorker(
      async () => {
        await succeeded(operation.id);
        expect((await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: database.id } })).status).toBe("ready");
        expect(await inspectTenantDatabase(adminUrl, database.id)).toEqual({ roleExists: true, databaseExists: true });
      },
      {},
      env,
    );

    const deletion = await deleteDatabase(getDb(), ctx, database.id);
    await holdingRow("TenantDatabase", database.id, () =>
      killedOnceChanged(env, "the tenant database to be dropped", async () => {
        const state = await inspectTenantDatabase(adminUrl, database.id);
        return !state.roleExists && !state.databaseExists;
      }),
    );
    await withWorker(
      async () => {
        await succeeded(deletion.operation.id);
        expect(await getDb().tenantDatabase.findUnique({ where: { id: database.id } })).toBeNull();
        expect(await inspectTenantDatabase(adminUrl, database.id)).toEqual({
          roleExists: false,
          databaseExists: false,
        });
      },
      {},
      env,
    );
  });
});

describe.skipIf(!hasRedis)(
  "a worker killed while provisioning and deleting a tenant Redis",
  { timeout: 300_000 },
  () => {
    let dir: string;
    let server: RedisServer;
    let admin: TenantRedisAdmin;
    let env: Record<string, string>;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "tussilago-fault-redis-"));
      const port = await freePort();
      const adminPassword = randomBytes(24).toString("base64url");
      server = await startRedisServer({ dir, port, adminPassword, persistence: "none" });
      admin = { host: "127.0.0.1", port, user: REDIS_ADMIN_USER, password: adminPassword };
      env = { TENANT_REDIS_ADMIN_URL: `redis://${REDIS_ADMIN_USER}:${adminPassword}@127.0.0.1:${port}` };
      process.env.TENANT_REDIS_ADMIN_URL = env.TENANT_REDIS_ADMIN_URL;
      resetEnvForTests();
    });

    afterAll(async () => {
      await server?.stop();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });

    it("converges when killed after the ACL user was created, then after it was removed", async () => {
      const { ctx } = await servingApp(1);
      const { redis, operation } = await createRedis(getDb(), ctx, { name: `cache-${randomBytes(4).toString("hex")}` });
      await holdingRow("TenantRedis", redis.id, () =>
        killedOnceChanged(
          env,
          "the tenant Redis user",
          async () => (await inspectTenantRedis(admin, redis.id)).userExists,
        ),
      );
      expect((await getDb().tenantRedis.findUniqueOrThrow({ where: { id: redis.id } })).status).toBe("provisioning");
      await withWorker(
        async () => {
          await succeeded(operation.id);
          expect((await getDb().tenantRedis.findUniqueOrThrow({ where: { id: redis.id } })).status).toBe("ready");
          expect(await inspectTenantRedis(admin, redis.id)).toEqual({ userExists: true });
        },
        {},
        env,
      );

      const deletion = await deleteRedis(getDb(), ctx, redis.id);
      await holdingRow("TenantRedis", redis.id, () =>
        killedOnceChanged(
          env,
          "the tenant Redis user to go",
          async () => !(await inspectTenantRedis(admin, redis.id)).userExists,
        ),
      );
      await withWorker(
        async () => {
          await succeeded(deletion.operation.id);
          expect(await getDb().tenantRedis.findUnique({ where: { id: redis.id } })).toBeNull();
          expect(await inspectTenantRedis(admin, redis.id)).toEqual({ userExists: false });
        },
        {},
        env,
      );
    });
  },
);
