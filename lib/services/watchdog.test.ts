// The worker's watchdog against the real tenant PostgreSQL of the test run and a real redis-server: rows in this
// file's platform database, roles and users provisioned for real, the tick driven directly.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { ConfigError, parseEnv } from "@/lib/env";
import { REDIS_ADMIN_USER, type RedisServer, startRedisServer } from "@/lib/infra/redis-server";
import { connectRedis, type RedisConnection, RedisReplyError } from "@/lib/infra/resp";
import {
  deprovisionTenantDatabase,
  generateTenantPassword,
  provisionTenantDatabase,
  tenantConnectionInfo,
} from "@/lib/infra/tenant-postgres";
import { provisionTenantRedis, type TenantRedisAdmin, tenantRedisNames } from "@/lib/infra/tenant-redis";
import type { TenantPostgresConfig, TenantRedisConfig } from "@/lib/services/tenant-services";
import { createWatchdog, type WatchdogDeps, type WatchdogQuotas } from "@/lib/services/watchdog";
import { createTestTeam, createTestUser } from "@/test/factories";
import { freePort } from "@/test/net";

const { adminUrl } = inject("testDatabase");
const cluster = new URL(adminUrl);
const PLATFORM_DATABASE = new URL(process.env.DATABASE_URL ?? "postgresql://invalid/").pathname.slice(1);
const MIB = 1024 * 1024;
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
const logged = () => logLines.map((line) => JSON.parse(line) as Record<string, unknown>);

const postgres: TenantPostgresConfig = {
  adminUrl,
  publicHost: cluster.hostname,
  publicPort: Number(cluster.port),
  protectDatabases: [PLATFORM_DATABASE],
};
const SERVER_LIMITS = { maxMemoryBytes: 256 * MIB, maxValueBytes: 4 * MIB, maxClientsMemoryBytes: 32 * MIB };

// The team quotas the watchdog sees, as lib/domain/quotas.ts would answer them; no queries of its own, so the
// query counts below are the watchdog's.
const teamQuotas = new Map<string, WatchdogQuotas>();
const quotasForTeams: WatchdogDeps["quotasForTeams"] = async (_db, teamIds) =>
  new Map(teamIds.flatMap((id) => (teamQuotas.has(id) ? [[id, teamQuotas.get(id) as WatchdogQuotas]] : [])));

function watchdog(overrides: Partial<WatchdogDeps> = {}) {
  return createWatchdog({
    db: getDb(),
    log,
    postgres: null,
    redis: null,
    redisServerLimits: SERVER_LIMITS,
    quotasForTeams,
    intervalMs: 1_000,
    ...overrides,
  });
}

async function newTeam(quotas: WatchdogQuotas): Promise<string> {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  teamQuotas.set(team.id, quotas);
  return team.id;
}

const databases: string[] = [];
const clients: pg.Client[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.end().catch(() => undefined);
  for (const resourceId of databases.splice(0)) await deprovisionTenantDatabase(adminUrl, { resourceId });
});

async function tenantDatabase(teamId: string, provision = true): Promise<{ id: string; client?: pg.Client }> {
  const row = await getDb().tenantDatabase.create({
    data: { teamId, name: `db-${randomBytes(4).toString("hex")}`, status: "ready", idleInTransactionMs: 600_000 },
  });
  if (!provision) return { id: row.id };
  databases.push(row.id);
  const password = generateTenantPassword();
  await provisionTenantDatabase(adminUrl, {
    resourceId: row.id,
    password,
    limits: { connectionLimit: 5, statementTimeoutMs: 500, idleInTransactionTimeoutMs: 600_000 },
    protectDatabases: [PLATFORM_DATABASE],
  });
  const info = tenantConnectionInfo({
    host: cluster.hostname,
    port: Number(cluster.port),
    resourceId: row.id,
    password,
  });
  const client = new pg.Client({ connectionString: info.url });
  client.on("error", () => undefined);
  clients.push(client);
  await client.connect();
  return { id: row.id, client };
}

describe("watchdog configuration", () => {
  const base = { TUSSILAGO_SECRET_KEY: "k".repeat(40) };
  it("defaults to a 5 s period and a 1 GiB tenant Redis with 256 MiB of headroom and 16 MiB values", () => {
    expect(parseEnv(base).tenantServices).toMatchObject({
      watchdogIntervalMs: 5_000,
      redisMaxMemoryBytes: 1024 * MIB,
      redisQuotaBudgetBytes: 768 * MIB,
      redisMaxValueBytes: 16 * MIB,
    });
  });
  it("refuses a headroom that leaves nothing for quotas", () => {
    expect(() => parseEnv({ ...base, TENANT_REDIS_MAXMEMORY_MB: "256", TENANT_REDIS_HEADROOM_MB: "256" })).toThrow(
      ConfigError,
    );
  });
});

describe("watchdog: tenant PostgreSQL", () => {
  it("cancels a statement past the team's limit although the session lifted statement_timeout, and logs ids only", async () => {
    const teamId = await newTeam({ statementTimeoutS: 1, redisMemoryMb: 64 });
    const { id, client } = await tenantDatabase(teamId);
    if (!client) throw new Error("no client");
    await client.query("SET statement_timeout = 0");
    const secret = `secret_${randomBytes(6).toString("hex")}`;
    const sleeping = client.query(`SELECT pg_sleep(30) AS ${secret}`).then(
      () => null,
      (error: unknown) => error,
    );
    const dog = watchdog({ postgres });
    let cancelled: Record<string, unknown> | undefined;
    for (let attempt = 0; attempt < 200 && !cancelled; attempt++) {
      expect((await dog.tick()).postgres).toBe("ok");
      cancelled = logged().find((line) => line.databaseId === id && String(line.msg).includes("cancelled"));
      if (!cancelled) await sleep(50);
    }
    expect(cancelled).toMatchObject({ teamId, databaseId: id, limitMs: 1_000, signalled: true });
    expect(((await sleeping) as pg.DatabaseError).code).toBe("57014");
    expect(logLines.join("\n")).not.toContain(secret);
  });

  it("reads rows and quotas in a constant number of queries", async () => {
    const teamId = await newTeam({ statementTimeoutS: 60, redisMemoryMb: 64 });
    await tenantDatabase(teamId, false);
    const dog = watchdog({ postgres });
    const one = await countQueries(() => dog.tick());
    for (let i = 0; i < 3; i++)
      await tenantDatabase(await newTeam({ statementTimeoutS: 60, redisMemoryMb: 64 }), false);
    const four = await countQueries(() => dog.tick());
    expect(one.result.postgres).toBe("ok");
    expect(one.count).toBeGreaterThan(0);
    expect(four.count).toBe(one.count);
  });

  it("backs off while the tenant server is unreachable, without throwing, and recovers", async () => {
    await tenantDatabase(await newTeam({ statementTimeoutS: 60, redisMemoryMb: 64 }), false);
    const unreachable = new URL(adminUrl);
    unreachable.port = "1";
    let clock = 1_000_000;
    const dog = watchdog({ postgres: { ...postgres, adminUrl: unreachable.toString() }, now: () => clock });
    expect((await dog.tick()).postgres).toBe("failed");
    expect((await dog.tick()).postgres).toBe("skipped");
    clock += 2_000; // interval × 2 after one failure
    expect((await dog.tick()).postgres).toBe("failed");
    clock += 3_000; // not yet: interval × 4 after two
    expect((await dog.tick()).postgres).toBe("skipped");
    clock += 10 * 60_000; // the backoff is bounded
    expect((await dog.tick()).postgres).toBe("failed");
    const warnings = logged().filter((line) => String(line.msg).includes("backing off"));
    expect(warnings.map((line) => line.retryInMs)).toEqual([2_000, 4_000, 8_000]);
  });
});

describe.skipIf(!hasRedis)("watchdog: tenant Redis", () => {
  const adminPassword = randomBytes(24).toString("base64url");
  let dir: string;
  let server: RedisServer;
  let redis: TenantRedisConfig;
  const open: RedisConnection[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tussilago-watchdog-redis-"));
    const port = await freePort();
    server = await startRedisServer({ dir, port, adminPassword, persistence: "none" });
    const admin: TenantRedisAdmin = { host: "127.0.0.1", port, user: REDIS_ADMIN_USER, password: adminPassword };
    redis = { admin, publicHost: "127.0.0.1", publicPort: port };
  });

  afterAll(async () => {
    for (const connection of open) await connection.close();
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  async function instance(teamId: string): Promise<{ id: string; prefix: string; connection: RedisConnection }> {
    const row = await getDb().tenantRedis.create({
      data: { teamId, name: `r-${randomBytes(4).toString("hex")}`, status: "ready" },
    });
    const password = randomBytes(24).toString("base64url");
    const names = await provisionTenantRedis(redis.admin, { resourceId: row.id, password });
    const connection = await connectRedis({ host: "127.0.0.1", port: redis.publicPort, user: names.user, password });
    open.push(connection);
    return { id: row.id, prefix: tenantRedisNames(row.id).keyPrefix, connection };
  }

  it("sets the server limits, refuses writes to an instance over its team's quota, and not to its neighbour", async () => {
    const hogTeam = await newTeam({ statementTimeoutS: 60, redisMemoryMb: 1 });
    const hog = await instance(hogTeam);
    const neighbour = await instance(await newTeam({ statementTimeoutS: 60, redisMemoryMb: 1 }));
    for (let i = 0; i < 3; i++) await hog.connection.command(["SET", `${hog.prefix}:${i}`, "x".repeat(MIB)]);
    const dog = watchdog({ redis });

    expect((await dog.tick()).redis).toBe("ok");
    const admin = await connectRedis({ ...redis.admin });
    open.push(admin);
    expect(await admin.command(["CONFIG", "GET", "maxmemory"])).toEqual([
      "maxmemory",
      String(SERVER_LIMITS.maxMemoryBytes),
    ]);
    const refused = await hog.connection.command(["SET", `${hog.prefix}:x`, "v"]).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RedisReplyError);
    expect(await neighbour.connection.command(["SET", `${neighbour.prefix}:x`, "v"])).toBe("OK");
    expect(logged().find((line) => line.redisId === hog.id)).toMatchObject({ teamId: hogTeam, quotaBytes: MIB });

    await hog.connection.command(["DEL", `${hog.prefix}:0`, `${hog.prefix}:1`, `${hog.prefix}:2`]);
    await dog.tick();
    expect(await hog.connection.command(["SET", `${hog.prefix}:x`, "v"])).toBe("OK");
  });

  it("keeps enforcing PostgreSQL while Redis is unreachable", async () => {
    await instance(await newTeam({ statementTimeoutS: 60, redisMemoryMb: 1 }));
    const down = { ...redis, admin: { ...redis.admin, port: 1 } };
    const report = await watchdog({ redis: down, postgres }).tick();
    expect(report).toEqual({ postgres: "ok", redis: "failed" });
  });
});
