// The orphan sweep against real servers: the test run's PostgreSQL (as the tenant server) and a redis-server started
// here. Resources whose row is gone are removed (role, database, ACL user and keys), resources with a row stay (in
// any status), and a second sweep finds nothing. The tenant PostgreSQL is shared with other test files running at
// the same time, so the sweep is limited to the resources this file makes.
import { spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { sweepTenantOrphans } from "@/jobs/tasks/tenant_services__sweep";
import { freePort } from "@/lib/database/embedded";
import { getDb } from "@/lib/db";
import { REDIS_ADMIN_USER, type RedisServer, startRedisServer } from "@/lib/infra/redis-server";
import { withRedis } from "@/lib/infra/resp";
import {
  generateTenantPassword,
  inspectTenantDatabase,
  provisionTenantDatabase,
  resourceIdOfTenantName,
  tenantNames,
} from "@/lib/infra/tenant-postgres";
import { inspectTenantRedis, provisionTenantRedis, type TenantRedisAdmin } from "@/lib/infra/tenant-redis";
import { createTestTeam, createTestUser } from "@/test/factories";

const { adminUrl } = inject("testDatabase");
const hasRedis = spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;

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

const LIMITS = { connectionLimit: 3, statementTimeoutMs: 10_000, idleInTransactionTimeoutMs: 10_000 };

async function provisionDatabase(id: string): Promise<void> {
  await provisionTenantDatabase(adminUrl, {
    resourceId: id,
    password: generateTenantPassword(),
    limits: LIMITS,
    protectDatabases: [],
  });
}

async function team(): Promise<string> {
  return (await createTestTeam((await createTestUser()).id)).id;
}

describe("resourceIdOfTenantName", () => {
  it("decodes the adapter's own names only", () => {
    const id = randomUUID();
    expect(resourceIdOfTenantName(tenantNames(id).role)).toBe(id);
    expect(resourceIdOfTenantName("t_0123")).toBeNull();
    expect(resourceIdOfTenantName(`t_${"0".repeat(32)}`)).toBeNull();
    expect(resourceIdOfTenantName("postgres")).toBeNull();
  });
});

describe("tenant_services__sweep on the tenant PostgreSQL", () => {
  it("removes roles and databases without a row, keeps those with one, and converges", async () => {
    const teamId = await team();
    const orphan = randomUUID();
    const ready = randomUUID();
    const deleting = randomUUID();
    await getDb().tenantDatabase.createMany({
      data: [
        { id: ready, teamId, name: `ready-${ready.slice(0, 6)}`, status: "ready" },
        { id: deleting, teamId, name: `deleting-${deleting.slice(0, 6)}`, status: "deleting" },
      ],
    });
    for (const id of [orphan, ready, deleting]) await provisionDatabase(id);
    const mine = new Set<string>([orphan, ready, deleting]);

    const first = await sweepTenantOrphans({
      db: getDb(),
      log,
      postgresAdminUrl: adminUrl,
      redisAdmin: null,
      only: (id) => mine.has(id),
    });
    expect(first).toEqual({ databases: [orphan], redis: [] });
    expect(await inspectTenantDatabase(adminUrl, orphan)).toEqual({ roleExists: false, databaseExists: false });
    expect(await inspectTenantDatabase(adminUrl, ready)).toEqual({ roleExists: true, databaseExists: true });
    expect(await inspectTenantDatabase(adminUrl, deleting)).toEqual({ roleExists: true, databaseExists: true });
    expect(logLines.join("")).toContain(orphan);

    // The row of `ready` goes away (as if its team's deletion raced a job): the next sweep takes it.
    await getDb().tenantDatabase.delete({ where: { id: ready } });
    const second = await sweepTenantOrphans({
      db: getDb(),
      log,
      postgresAdminUrl: adminUrl,
      redisAdmin: null,
      only: (id) => mine.has(id),
    });
    expect(second.databases).toEqual([ready]);
    const third = await sweepTenantOrphans({
      db: getDb(),
      log,
      postgresAdminUrl: adminUrl,
      redisAdmin: null,
      only: (id) => mine.has(id),
    });
    expect(third).toEqual({ databases: [], redis: [] });
    expect(await inspectTenantDatabase(adminUrl, deleting)).toEqual({ roleExists: true, databaseExists: true });
  });

  it("removes a half-provisioned orphan too (a role whose database was never created)", async () => {
    const orphan = randomUUID();
    await provisionDatabase(orphan);
    // Drop the database only, leaving the role: what a crash between steps looks like.
    const pg = await import("pg");
    const client = new pg.default.Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(`DROP DATABASE ${tenantNames(orphan).database} WITH (FORCE)`);
    await client.end();
    const result = await sweepTenantOrphans({
      db: getDb(),
      log,
      postgresAdminUrl: adminUrl,
      redisAdmin: null,
      only: (id) => id === orphan,
    });
    expect(result.databases).toEqual([orphan]);
    expect(await inspectTenantDatabase(adminUrl, orphan)).toEqual({ roleExists: false, databaseExists: false });
  });
});

describe.skipIf(!hasRedis)("tenant_services__sweep on a real redis-server", () => {
  let dir: string;
  let server: RedisServer;
  let admin: TenantRedisAdmin;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tussilago-sweep-redis-"));
    const port = await freePort();
    const adminPassword = randomBytes(24).toString("base64url");
    server = await startRedisServer({ dir, port, adminPassword, persistence: "none" });
    admin = { host: "127.0.0.1", port, user: REDIS_ADMIN_USER, password: adminPassword };
  });

  afterAll(async () => {
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("removes ACL users without a row and their keys; keeps the others; converges", async () => {
    const teamId = await team();
    const orphan = randomUUID();
    const kept = randomUUID();
    await getDb().tenantRedis.create({ data: { id: kept, teamId, name: `kept-${kept.slice(0, 6)}`, status: "ready" } });
    for (const id of [orphan, kept]) {
      const names = await provisionTenantRedis(admin, { resourceId: id, password: randomBytes(24).toString("hex") });
      await withRedis(admin, async (connection) => {
        await connection.command(["SET", `${names.keyPrefix}:greeting`, "hello"]);
      });
    }

    const sweep = () => sweepTenantOrphans({ db: getDb(), log, postgresAdminUrl: null, redisAdmin: admin });
    expect(await sweep()).toEqual({ databases: [], redis: [orphan] });
    expect(await inspectTenantRedis(admin, orphan)).toEqual({ userExists: false });
    expect(await inspectTenantRedis(admin, kept)).toEqual({ userExists: true });
    const keys = await withRedis(admin, async (connection) => [
      await connection.command(["EXISTS", `t_${orphan.replaceAll("-", "")}:greeting`]),
      await connection.command(["EXISTS", `t_${kept.replaceAll("-", "")}:greeting`]),
    ]);
    expect(keys).toEqual([0, 1]);
    expect(await sweep()).toEqual({ databases: [], redis: [] });
  });
});
