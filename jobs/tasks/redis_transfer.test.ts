// The redis__export and redis__import jobs against a real redis-server started by this file: an export copies every
// key of an instance (values, types and TTLs) into the encrypted backup store; a merge import writes them under
// another instance's prefix and keeps its other keys; a replace import empties that instance first; a tampered
// stored export fails the import with its reason and changes nothing.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runOnce } from "graphile-worker";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTaskList } from "@/jobs/runner";
import { backupsDir } from "@/lib/data-paths";
import { freePort } from "@/lib/database/embedded";
import { workerLogger } from "@/lib/database/migrate";
import { getDb } from "@/lib/db";
import type { Ctx } from "@/lib/domain/context";
import { createRedis, revealRedisCredentials } from "@/lib/domain/redis";
import { createRedisExport, importRedisExport } from "@/lib/domain/redis-exports";
import { getEnv, resetEnvForTests } from "@/lib/env";
import { REDIS_ADMIN_USER, type RedisServer, startRedisServer } from "@/lib/infra/redis-server";
import { connectRedis, type RedisConnection } from "@/lib/infra/resp";
import { createTestTeam, createTestUser, userCtx } from "@/test/factories";
import { withRawClient } from "@/test/helpers";

const hasRedis = spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
const skipped = hasRedis ? "" : " (skipped: redis-server is not installed; apt-get install -y redis-server)";
const log = pino({ level: "silent" });

// As in tenant_redis.test.ts: pass again while any job is due (runOnce stops at the first empty fetch).
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

describe.skipIf(!hasRedis)(`Redis export and import jobs on a real redis-server${skipped}`, () => {
  let dir: string;
  let server: RedisServer;
  const open: RedisConnection[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tussilago-redis-transfer-"));
    const port = await freePort();
    const adminPassword = randomBytes(24).toString("base64url");
    server = await startRedisServer({ dir, port, adminPassword, persistence: "none" });
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

  async function instance(ctx: Ctx) {
    const { redis } = await createRedis(getDb(), ctx, { name: `cache-${randomBytes(4).toString("hex")}` });
    await drain();
    const info = await revealRedisCredentials(getDb(), ctx, redis.id);
    const connection = await connectRedis({
      host: info.host,
      port: info.port,
      user: info.user,
      password: info.password,
    });
    open.push(connection);
    const key = (name: string) => `${info.keyPrefix}:${name}`;
    return { id: redis.id, connection, key };
  }

  async function operationOf(id: string) {
    return await getDb().operation.findUniqueOrThrow({ where: { id } });
  }

  it("exports keys with their TTLs, merges them into another instance, then replaces it", async () => {
    const owner = await createTestUser();
    const team = await createTestTeam(owner.id);
    const ctx = await userCtx(owner.id, team.id);
    const a = await instance(ctx);
    await a.connection.command(["SET", a.key("greeting"), "hello"]);
    await a.connection.command(["SET", a.key("session"), "s1", "EX", "3600"]);
    await a.connection.command(["HSET", a.key("user:1"), "name", "Ada", "plan", "pro"]);
    await a.connection.command(["RPUSH", a.key("queue"), "x", "y"]);

    const { export: exported, operation } = await createRedisExport(getDb(), ctx, a.id);
    await drain();
    expect((await operationOf(operation.id)).status).toBe("succeeded");
    const row = await getDb().backup.findUniqueOrThrow({ where: { id: exported.id } });
    expect(row).toMatchObject({ status: "succeeded", counts: { keys: 4 } });

    const b = await instance(ctx);
    await b.connection.command(["SET", b.key("greeting"), "old"]);
    await b.connection.command(["SET", b.key("other"), "kept"]);
    const merge = await importRedisExport(getDb(), ctx, b.id, { exportId: exported.id, mode: "merge" });
    await drain();
    expect((await operationOf(merge.operation.id)).status).toBe("succeeded");
    expect(await b.connection.command(["GET", b.key("greeting")])).toBe("hello");
    expect(await b.connection.command(["GET", b.key("other")])).toBe("kept");
    expect(await b.connection.command(["HGET", b.key("user:1"), "plan"])).toBe("pro");
    expect(await b.connection.command(["LRANGE", b.key("queue"), "0", "-1"])).toEqual(["x", "y"]);
    const ttl = Number(await b.connection.command(["TTL", b.key("session")]));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3600);
    expect(Number(await b.connection.command(["TTL", b.key("greeting")]))).toBe(-1);

    const replace = await importRedisExport(getDb(), ctx, b.id, { exportId: exported.id, mode: "replace" });
    await drain();
    expect((await operationOf(replace.operation.id)).status).toBe("succeeded");
    expect(await b.connection.command(["EXISTS", b.key("other")])).toBe(0);
    expect(await b.connection.command(["GET", b.key("greeting")])).toBe("hello");
  });

  it("fails an import of a tampered export with the reason, and leaves the instance's keys alone", async () => {
    const owner = await createTestUser();
    const team = await createTestTeam(owner.id);
    const ctx = await userCtx(owner.id, team.id);
    const a = await instance(ctx);
    await a.connection.command(["SET", a.key("k"), "v"]);
    const { export: exported } = await createRedisExport(getDb(), ctx, a.id);
    await drain();
    const { storageKey } = await getDb().backup.findUniqueOrThrow({ where: { id: exported.id } });
    const stored = join(backupsDir(getEnv().dataDir), ...(storageKey ?? "").split("/"));
    const bytes = await readFile(stored);
    const last = bytes.length - 1;
    bytes.writeUInt8(bytes.readUInt8(last) ^ 0xff, last);
    await writeFile(stored, bytes);

    const b = await instance(ctx);
    await b.connection.command(["SET", b.key("mine"), "1"]);
    const { operation } = await importRedisExport(getDb(), ctx, b.id, { exportId: exported.id, mode: "replace" });
    await drain();
    expect(await operationOf(operation.id)).toMatchObject({
      status: "failed",
      error: "The import failed: The backup file is damaged or was modified: it failed its integrity check.",
    });
    expect(await b.connection.command(["GET", b.key("mine")])).toBe("1");
    expect(await b.connection.command(["EXISTS", b.key("k")])).toBe(0);
  });
});
