import { spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "@/test/net";
import {
  DEFAULT_MAX_VALUE_BYTES,
  REDIS_ADMIN_USER,
  type RedisServer,
  renderRedisConfig,
  startRedisServer,
} from "./redis-server";
import { connectRedis, type RedisConnection, RedisReplyError } from "./resp";
import { provisionTenantRedis, rotateTenantRedisPassword, type TenantRedisAdmin } from "./tenant-redis";
import {
  applyTenantRedisServerLimits,
  enforceTenantRedisQuotas,
  newTenantRedisUsagePass,
  tenantRedisOverQuotaCommandRules,
} from "./tenant-redis-quota";

const hasRedis = spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
const skipped = hasRedis ? "" : " (skipped: redis-server is not installed; apt-get install -y redis-server)";
const MIB = 1024 * 1024;

async function replyError(promise: Promise<unknown>): Promise<RedisReplyError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof RedisReplyError) return err;
    throw err;
  }
  throw new Error("expected an error reply");
}

describe("tenantRedisOverQuotaCommandRules", () => {
  it("takes every write away but the ones that free memory, after the normal command rules", () => {
    const rules = tenantRedisOverQuotaCommandRules();
    expect(rules[0]).toBe("+@all");
    expect(rules).toContain("-@write");
    expect(rules.slice(rules.indexOf("-@write"))).toEqual(expect.arrayContaining(["+del", "+unlink", "+expire"]));
    expect(rules.join(" ")).not.toMatch(/[#>]|~|&|reset/);
  });
});

describe.skipIf(!hasRedis)(`tenant Redis quotas on a real redis-server${skipped}`, () => {
  const adminPassword = randomBytes(24).toString("base64url");
  let dir: string;
  let port: number;
  let server: RedisServer;
  let admin: TenantRedisAdmin;
  const open: RedisConnection[] = [];

  const connectAs = async (user: string, password: string): Promise<RedisConnection> => {
    const connection = await connectRedis({ host: "127.0.0.1", port, user, password, commandTimeoutMs: 10_000 });
    open.push(connection);
    return connection;
  };
  const tenant = async () => {
    const resourceId = randomUUID();
    const password = randomBytes(24).toString("base64url");
    const names = await provisionTenantRedis(admin, { resourceId, password });
    return {
      resourceId,
      password,
      user: names.user,
      prefix: names.keyPrefix,
      redis: await connectAs(names.user, password),
    };
  };
  const commandsOf = async (user: string): Promise<string> => {
    const connection = await connectAs(REDIS_ADMIN_USER, adminPassword);
    const reply = await connection.command(["ACL", "GETUSER", user]);
    if (!Array.isArray(reply)) throw new Error("no such user");
    return String(reply[reply.indexOf("commands") + 1]).replaceAll(user, "<tenant>");
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tussilago-redis-quota-"));
    port = await freePort();
    server = await startRedisServer({ dir, port, adminPassword, persistence: "none" });
    admin = { host: "127.0.0.1", port, user: REDIS_ADMIN_USER, password: adminPassword };
  });

  afterAll(async () => {
    for (const connection of open) await connection.close();
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("starts with single values bounded by its config (before any CONFIG SET)", async () => {
    expect(renderRedisConfig({ dir: "/srv/redis", port: 6390, persistence: "none" }).split("\n")).toEqual(
      expect.arrayContaining([
        `proto-max-bulk-len ${DEFAULT_MAX_VALUE_BYTES}`,
        `client-query-buffer-limit ${2 * DEFAULT_MAX_VALUE_BYTES}`,
      ]),
    );
    const writer = await tenant();
    expect(await writer.redis.command(["SET", `${writer.prefix}:fits`, "x".repeat(MIB)])).toBe("OK");
    await expect(
      writer.redis.command(["SET", `${writer.prefix}:big`, Buffer.alloc(DEFAULT_MAX_VALUE_BYTES + 1)]),
    ).rejects.toThrow();
    await writer.redis.close().catch(() => undefined);
  });

  it("refuses writes to a tenant over its quota, lets another tenant write, and gives writes back once it deleted keys", async () => {
    const hog = await tenant();
    const neighbour = await tenant();
    const normalCommands = await commandsOf(hog.user);
    // 3 MiB in three keys, one of them with a binary name that is not valid UTF-8.
    await hog.redis.command(["SET", `${hog.prefix}:a`, "x".repeat(MIB)]);
    await hog.redis.command(["SET", `${hog.prefix}:b`, "x".repeat(MIB)]);
    await hog.redis.command([
      "SET",
      Buffer.concat([Buffer.from(`${hog.prefix}:`), Buffer.from([0xff, 0xfe])]),
      "x".repeat(MIB),
    ]);
    await neighbour.redis.command(["SET", `${neighbour.prefix}:a`, "small"]);
    const quotas = new Map([
      [hog.resourceId, 2 * MIB],
      [neighbour.resourceId, 2 * MIB],
    ]);
    const pass = newTenantRedisUsagePass();

    const first = await enforceTenantRedisQuotas(admin, { quotas, pass });
    expect(first.complete).toBe(true);
    expect(first.usage.get(hog.resourceId)).toBeGreaterThan(3 * MIB);
    expect(first.usage.get(neighbour.resourceId)).toBeLessThan(MIB);
    expect(first.restricted).toEqual([expect.objectContaining({ resourceId: hog.resourceId, quotaBytes: 2 * MIB })]);
    expect(first.restored).toEqual([]);

    // Writes fail on the connection that was already open; reads and deletes still work.
    const refused = await replyError(hog.redis.command(["SET", `${hog.prefix}:c`, "v"]));
    expect(refused.code).toBe("NOPERM");
    await replyError(hog.redis.command(["APPEND", `${hog.prefix}:a`, "v"]));
    expect(await hog.redis.command(["STRLEN", `${hog.prefix}:a`])).toBe(MIB);
    expect(await neighbour.redis.command(["SET", `${neighbour.prefix}:b`, "v"])).toBe("OK");

    // A second sweep with nothing changed changes nothing.
    const again = await enforceTenantRedisQuotas(admin, { quotas, pass });
    expect(again.restricted).toEqual([]);
    expect(again.restored).toEqual([]);

    expect(await hog.redis.command(["DEL", `${hog.prefix}:a`, `${hog.prefix}:b`])).toBe(2);
    const after = await enforceTenantRedisQuotas(admin, { quotas, pass });
    expect(after.restored).toEqual([expect.objectContaining({ resourceId: hog.resourceId })]);
    expect(await hog.redis.command(["SET", `${hog.prefix}:c`, "v"])).toBe("OK");
    // Exactly the normal rules again, and the password untouched (a new connection with it works).
    expect(await commandsOf(hog.user)).toBe(normalCommands);
    const fresh = await connectAs(hog.user, hog.password);
    expect(await fresh.command(["SET", `${hog.prefix}:d`, "v"])).toBe("OK");
  });

  it("restricts on a partial pass that is already over, and restores only after a complete one", async () => {
    const hog = await tenant();
    for (let i = 0; i < 4; i++) await hog.redis.command(["SET", `${hog.prefix}:${i}`, "x".repeat(MIB)]);
    const quotas = new Map([[hog.resourceId, MIB]]);
    const pass = newTenantRedisUsagePass();
    // A budget of zero: one SCAN step per sweep, so the pass spans several sweeps.
    let restricted = false;
    for (let sweep = 0; sweep < 1_000 && !restricted; sweep++) {
      const result = await enforceTenantRedisQuotas(admin, { quotas, pass, budgetMs: 0, batch: 1 });
      restricted = result.restricted.length > 0;
    }
    expect(restricted).toBe(true);
    await replyError(hog.redis.command(["SET", `${hog.prefix}:x`, "v"]));

    for (let i = 0; i < 4; i++) await hog.redis.command(["UNLINK", `${hog.prefix}:${i}`]);
    const partial = await enforceTenantRedisQuotas(admin, {
      quotas,
      pass: newTenantRedisUsagePass(),
      budgetMs: 0,
      batch: 1,
    });
    if (!partial.complete) expect(partial.restored).toEqual([]);
    const complete = await enforceTenantRedisQuotas(admin, { quotas, pass: newTenantRedisUsagePass() });
    expect(complete.complete).toBe(true);
    expect([...partial.restored, ...complete.restored]).toEqual([
      expect.objectContaining({ resourceId: hog.resourceId }),
    ]);
  });

  it("never undoes a password rotation, and re-restricts after one", async () => {
    const hog = await tenant();
    await hog.redis.command(["SET", `${hog.prefix}:a`, "x".repeat(2 * MIB)]);
    const quotas = new Map([[hog.resourceId, MIB]]);
    expect(
      (await enforceTenantRedisQuotas(admin, { quotas, pass: newTenantRedisUsagePass() })).restricted,
    ).toHaveLength(1);
    const newPassword = randomBytes(24).toString("base64url");
    await rotateTenantRedisPassword(admin, { resourceId: hog.resourceId, password: newPassword });
    expect(
      (await enforceTenantRedisQuotas(admin, { quotas, pass: newTenantRedisUsagePass() })).restricted,
    ).toHaveLength(1);
    const rotated = await connectAs(hog.user, newPassword);
    await replyError(rotated.command(["SET", `${hog.prefix}:b`, "v"]));
    await expect(connectAs(hog.user, hog.password)).rejects.toBeInstanceOf(RedisReplyError);
  });

  it("skips users that no longer exist instead of creating them", async () => {
    const gone = randomUUID();
    const result = await enforceTenantRedisQuotas(admin, {
      quotas: new Map([[gone, 0]]),
      pass: newTenantRedisUsagePass(),
    });
    expect(result.restored).toEqual([]);
    const connection = await connectAs(REDIS_ADMIN_USER, adminPassword);
    expect(await connection.command(["ACL", "GETUSER", `t_${gone.replaceAll("-", "")}`])).toBeNull();
  });

  it("sets maxmemory, noeviction and bounded single writes on the server", async () => {
    await applyTenantRedisServerLimits(admin, {
      maxMemoryBytes: 512 * MIB,
      maxValueBytes: 2 * MIB,
      maxClientsMemoryBytes: 64 * MIB,
    });
    const connection = await connectAs(REDIS_ADMIN_USER, adminPassword);
    const config = await connection.command([
      "CONFIG",
      "GET",
      "maxmemory*",
      "proto-max-bulk-len",
      "client-query-buffer-limit",
    ]);
    expect(config).toEqual(expect.arrayContaining(["maxmemory", String(512 * MIB), "maxmemory-policy", "noeviction"]));
    expect(config).toEqual(expect.arrayContaining(["proto-max-bulk-len", String(2 * MIB)]));
    expect(config).toEqual(expect.arrayContaining(["maxmemory-clients", String(64 * MIB)]));
    // One value over the limit is refused outright (the server closes the connection on the oversized bulk).
    const writer = await tenant();
    await expect(writer.redis.command(["SET", `${writer.prefix}:big`, "x".repeat(3 * MIB)])).rejects.toThrow();
    await expect(
      applyTenantRedisServerLimits(admin, { maxMemoryBytes: 5, maxValueBytes: MIB, maxClientsMemoryBytes: MIB }),
    ).rejects.toMatchObject({ kind: "invalid_argument" });
  });
});
