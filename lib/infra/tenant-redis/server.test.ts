import { spawn, spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "@/test/net";
import { toUserMessage } from "../exec";
import {
  REDIS_ACL_FILE,
  REDIS_ADMIN_USER,
  REDIS_CONFIG_FILE,
  type RedisServer,
  RedisServerError,
  startRedisServer,
} from "../redis-server";
import { connectRedis, type RedisArg, type RedisConnection, RedisReplyError, redisAclPasswordHash } from "../resp";
import {
  deprovisionTenantRedis,
  inspectTenantRedis,
  provisionTenantRedis,
  rotateTenantRedisPassword,
  type TenantRedisAdmin,
  TenantRedisError,
} from "./index";
import { failure, PASSWORD, RESOURCE } from "./test-fixtures";

const hasRedis = spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
// Shown in the report when the binary is missing; the CI image installs it (apt-get install -y redis-server).
const skipped = hasRedis ? "" : " (skipped: redis-server is not installed; apt-get install -y redis-server)";

function tenantPassword(): string {
  return randomBytes(24).toString("base64url");
}

async function refusal(connection: RedisConnection, args: readonly RedisArg[]): Promise<RedisReplyError> {
  return failure(RedisReplyError, connection.command(args));
}

describe.skipIf(!hasRedis)(`tenant Redis on a real redis-server${skipped}`, () => {
  const adminPassword = tenantPassword();
  let dir: string;
  let port: number;
  let server: RedisServer;
  let admin: TenantRedisAdmin;
  const open: RedisConnection[] = [];

  const connectAs = async (user: string, password: string): Promise<RedisConnection> => {
    const connection = await connectRedis({ host: "127.0.0.1", port, user, password, commandTimeoutMs: 5_000 });
    open.push(connection);
    return connection;
  };
  const asAdmin = (): Promise<RedisConnection> => connectAs(REDIS_ADMIN_USER, adminPassword);
  const start = (): Promise<RedisServer> => startRedisServer({ dir, port, adminPassword });

  // A provisioned tenant with its own resource ID.
  const tenant = async (): Promise<{ resourceId: string; user: string; prefix: string; password: string }> => {
    const resourceId = randomUUID();
    const password = tenantPassword();
    const names = await provisionTenantRedis(admin, { resourceId, password });
    return { resourceId, user: names.user, prefix: names.keyPrefix, password };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tussilago-redis-"));
    port = await freePort();
    server = await start();
    admin = { host: "127.0.0.1", port, user: REDIS_ADMIN_USER, password: adminPassword };
  });

  afterAll(async () => {
    for (const connection of open) await connection.close();
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("keeps its directory and files private and the admin password out of them", async () => {
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, REDIS_CONFIG_FILE))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, REDIS_ACL_FILE))).mode & 0o777).toBe(0o600);
    const acl = await readFile(join(dir, REDIS_ACL_FILE), "utf8");
    expect(acl).toContain(`#${redisAclPasswordHash(adminPassword)}`);
    expect(acl).not.toContain(adminPassword);
    expect(await readFile(join(dir, REDIS_CONFIG_FILE), "utf8")).not.toContain(adminPassword);
  });

  it("lets the default user do nothing without authentication", async () => {
    const anonymous = await connectRedis({ host: "127.0.0.1", port });
    open.push(anonymous);
    for (const args of [["PING"], ["GET", "k"], ["SET", "k", "v"], ["KEYS", "*"], ["CONFIG", "GET", "*"]]) {
      expect((await refusal(anonymous, args)).code).toBe("NOAUTH");
    }
    expect((await refusal(anonymous, ["AUTH", "default", "anything"])).code).toBe("WRONGPASS");
    const err = await failure(RedisReplyError, connectRedis({ port, user: "default", password: "" }));
    expect(err.code).toBe("WRONGPASS");
  });

  it("lets a tenant use keys under its prefix only", async () => {
    const a = await tenant();
    const b = await tenant();
    const connA = await connectAs(a.user, a.password);
    const connB = await connectAs(b.user, b.password);
    expect(await connA.command(["SET", `${a.prefix}:greeting`, "hello"])).toBe("OK");
    expect(await connA.command(["GET", `${a.prefix}:greeting`])).toBe("hello");
    expect(await connA.command(["HSET", `${a.prefix}:hash`, "f", "v"])).toBe(1);
    expect(await connB.command(["SET", `${b.prefix}:secret`, "b-data"])).toBe("OK");

    for (const args of [
      ["GET", `${b.prefix}:secret`],
      ["SET", `${b.prefix}:secret`, "overwritten"],
      ["DEL", `${b.prefix}:secret`],
      ["EXISTS", `${b.prefix}:secret`],
      ["GET", "otherprefix:key"],
      ["SET", "otherprefix:key", "v"],
      ["GET", a.prefix],
      ["GET", `${a.prefix}x:key`],
      ["RENAME", `${a.prefix}:greeting`, "otherprefix:stolen"],
      ["COPY", `${b.prefix}:secret`, `${a.prefix}:copy`],
      ["MGET", `${a.prefix}:greeting`, `${b.prefix}:secret`],
    ]) {
      expect((await refusal(connA, args)).code, args.join(" ")).toBe("NOPERM");
    }
    expect(await connB.command(["GET", `${b.prefix}:secret`])).toBe("b-data");
  });

  it("refuses commands that reach the whole keyspace or the server", async () => {
    const a = await tenant();
    const conn = await connectAs(a.user, a.password);
    await conn.command(["SET", `${a.prefix}:k`, "v"]);
    for (const args of [
      ["KEYS", "*"],
      ["KEYS", `${a.prefix}:*`],
      ["SCAN", "0"],
      ["SCAN", "0", "MATCH", `${a.prefix}:*`],
      ["RANDOMKEY"],
      ["DBSIZE"],
      ["FLUSHALL"],
      ["FLUSHDB"],
      ["SWAPDB", "0", "1"],
      ["MOVE", `${a.prefix}:k`, "1"],
      ["SELECT", "1"],
      ["SELECT", "0"],
      ["CONFIG", "GET", "*"],
      ["CONFIG", "SET", "notify-keyspace-events", "KEA"],
      ["EVAL", "return redis.call('keys', '*')", "0"],
      ["FUNCTION", "LIST"],
      ["CLIENT", "LIST"],
      ["CLIENT", "KILL", "USER", REDIS_ADMIN_USER],
      ["SHUTDOWN", "NOSAVE"],
      ["ACL", "LIST"],
      ["ACL", "SETUSER", a.user, "~*"],
      ["INFO"],
      ["MONITOR"],
      ["SLOWLOG", "GET"],
      ["PUBSUB", "CHANNELS"],
      ["MEMORY", "STATS"],
      ["SORT", `${a.prefix}:k`, "BY", "nosort", "GET", "*"],
      ["BGSAVE"],
    ]) {
      expect((await refusal(conn, args)).code, args.join(" ")).toBe("NOPERM");
    }
    // DEBUG is switched off for every connection (enable-debug-command no), which Redis checks before the ACL;
    // the ACL denies it as well, in case the setting is ever turned on.
    const debug = await refusal(conn, ["DEBUG", "SLEEP", "0"]);
    expect(debug.message).toMatch(/DEBUG command not allowed/);
    expect(await (await asAdmin()).command(["ACL", "DRYRUN", a.user, "DEBUG", "SLEEP", "0"])).toMatch(/no permissions/);
    // Still alive and still usable after all that.
    expect(await conn.command(["GET", `${a.prefix}:k`])).toBe("v");
    expect(await conn.command(["MEMORY", "USAGE", `${a.prefix}:k`])).toEqual(expect.any(Number));
  });

  it("confines publish and subscribe to the tenant's channel prefix", async () => {
    const a = await tenant();
    const b = await tenant();
    const subscriber = await connectAs(a.user, a.password);
    const publisher = await connectAs(a.user, a.password);
    const intruder = await connectAs(b.user, b.password);
    const received: string[] = [];
    subscriber.onMessage((message) => received.push(`${message.channel}=${message.message}`));
    expect(await subscriber.command(["SUBSCRIBE", `${a.prefix}:events`])).toEqual([
      "subscribe",
      `${a.prefix}:events`,
      1,
    ]);
    expect(await publisher.command(["PUBLISH", `${a.prefix}:events`, "one"])).toBe(1);

    for (const args of [
      ["PUBLISH", `${a.prefix}:events`, "injected"],
      ["SUBSCRIBE", `${a.prefix}:events`],
      ["PSUBSCRIBE", "*"],
      ["PSUBSCRIBE", `${a.prefix}:*`],
      ["SPUBLISH", `${a.prefix}:events`, "injected"],
    ]) {
      expect((await refusal(intruder, args)).code, args.join(" ")).toBe("NOPERM");
    }
    expect((await refusal(publisher, ["SUBSCRIBE", "otherprefix:events"])).code).toBe("NOPERM");
    expect((await refusal(publisher, ["PUBLISH", `${b.prefix}:events`, "x"])).code).toBe("NOPERM");
    expect((await refusal(publisher, ["SUBSCRIBE", "__keyspace@0__:*"])).code).toBe("NOPERM");

    expect(await publisher.command(["PUBLISH", `${a.prefix}:events`, "two"])).toBe(1);
    await expect.poll(() => received).toEqual([`${a.prefix}:events=one`, `${a.prefix}:events=two`]);
  });

  it("ends up with exactly the intended ACL, and provisioning again changes nothing", async () => {
    const a = await tenant();
    const hash = redisAclPasswordHash(a.password);
    const adminConn = await asAdmin();
    const before = await adminConn.command(["ACL", "GETUSER", a.user]);
    expect(before).toEqual([
      "flags",
      ["on", "sanitize-payload"],
      "passwords",
      [hash],
      "commands",
      expect.any(String),
      "keys",
      `~${a.prefix}:*`,
      "channels",
      `&${a.prefix}:*`,
      "selectors",
      [],
    ]);
    // Redis 7.0 compacts the rules: denials already covered by -@dangerous drop out of the description; the
    // remaining ones must all be there.
    const commands = Array.isArray(before) ? String(before[5]) : "";
    for (const rule of ["+@all", "-@dangerous", "-@scripting", "-select", "-scan", "-randomkey", "-dbsize", "-move"]) {
      expect(commands.split(" ")).toContain(rule);
    }
    for (const rule of ["-client", "-pubsub", "-memory", "+memory|usage"]) {
      expect(commands.split(" ")).toContain(rule);
    }

    const conn = await connectAs(a.user, a.password);
    const subscriber = await connectAs(a.user, a.password);
    await conn.command(["SET", `${a.prefix}:k`, "kept"]);
    await subscriber.command(["SUBSCRIBE", `${a.prefix}:c`]);
    const aclBefore = await readFile(join(dir, REDIS_ACL_FILE), "utf8");

    await provisionTenantRedis(admin, { resourceId: a.resourceId, password: a.password });

    expect(await adminConn.command(["ACL", "GETUSER", a.user])).toEqual(before);
    expect(await readFile(join(dir, REDIS_ACL_FILE), "utf8")).toBe(aclBefore);
    expect(aclBefore).not.toContain(a.password);
    expect(await conn.command(["GET", `${a.prefix}:k`])).toBe("kept");
    expect(await conn.command(["PUBLISH", `${a.prefix}:c`, "m"])).toBe(1);
    expect(subscriber.isClosed).toBe(false);
  });

  it("keeps users, their rights and their keys across a server restart", async () => {
    const a = await tenant();
    const writer = await connectAs(a.user, a.password);
    await writer.command(["SET", `${a.prefix}:durable`, "yes"]);
    await server.stop();
    await writer.closed;
    server = await start();

    expect(await inspectTenantRedis(admin, a.resourceId)).toEqual({ userExists: true });
    const conn = await connectAs(a.user, a.password);
    expect(await conn.command(["GET", `${a.prefix}:durable`])).toBe("yes");
    expect((await refusal(conn, ["KEYS", "*"])).code).toBe("NOPERM");
    expect((await refusal(conn, ["GET", "otherprefix:k"])).code).toBe("NOPERM");
    const anonymous = await connectRedis({ host: "127.0.0.1", port });
    open.push(anonymous);
    expect((await refusal(anonymous, ["PING"])).code).toBe("NOAUTH");
  });

  it("rotates a password: the old one is refused, the new one works, open connections are closed", async () => {
    const a = await tenant();
    const old = await connectAs(a.user, a.password);
    expect(await old.command(["SET", `${a.prefix}:k`, "v"])).toBe("OK");
    const newPassword = tenantPassword();

    const result = await rotateTenantRedisPassword(admin, { resourceId: a.resourceId, password: newPassword });

    expect(result.killedConnections).toBeGreaterThanOrEqual(1);
    expect(await old.closed).not.toBeNull();
    const err = await failure(RedisReplyError, connectRedis({ port, user: a.user, password: a.password }));
    expect(err.code).toBe("WRONGPASS");
    const fresh = await connectAs(a.user, newPassword);
    expect(await fresh.command(["GET", `${a.prefix}:k`])).toBe("v");
    expect((await refusal(fresh, ["SCAN", "0"])).code).toBe("NOPERM");
    const acl = await readFile(join(dir, REDIS_ACL_FILE), "utf8");
    expect(acl).toContain(`#${redisAclPasswordHash(newPassword)}`);
    expect(acl).not.toContain(redisAclPasswordHash(a.password));
  });

  it("does not bring back a deprovisioned user by rotating it", async () => {
    const resourceId = randomUUID();
    const err = await failure(
      TenantRedisError,
      rotateTenantRedisPassword(admin, { resourceId, password: tenantPassword() }),
    );
    expect(err).toMatchObject({ kind: "not_found", operation: "rotate", retryable: false });
    expect(await inspectTenantRedis(admin, resourceId)).toEqual({ userExists: false });
  });

  it("deprovisions the user and its keys, leaves other tenants alone, and is idempotent", async () => {
    const a = await tenant();
    const b = await tenant();
    const connA = await connectAs(a.user, a.password);
    const connB = await connectAs(b.user, b.password);
    for (let i = 0; i < 2_500; i += 500) {
      const args: string[] = ["MSET"];
      for (let j = i; j < i + 500; j++) args.push(`${a.prefix}:key:${j}`, String(j));
      await connA.command(args);
    }
    await connB.command(["SET", `${b.prefix}:keep`, "b"]);

    expect(await deprovisionTenantRedis(admin, { resourceId: a.resourceId })).toEqual({
      userDeleted: true,
      keysDeleted: 2_500,
    });

    expect(await connA.closed).not.toBeNull();
    expect(await inspectTenantRedis(admin, a.resourceId)).toEqual({ userExists: false });
    const err = await failure(RedisReplyError, connectRedis({ port, user: a.user, password: a.password }));
    expect(err.code).toBe("WRONGPASS");
    const adminConn = await asAdmin();
    expect(await adminConn.command(["EXISTS", `${a.prefix}:key:0`, `${a.prefix}:key:2499`])).toBe(0);
    expect(await adminConn.command(["SCAN", "0", "MATCH", `${a.prefix}:*`, "COUNT", "100000"])).toEqual(["0", []]);
    expect(await connB.command(["GET", `${b.prefix}:keep`])).toBe("b");
    expect(await readFile(join(dir, REDIS_ACL_FILE), "utf8")).not.toContain(a.user);

    expect(await deprovisionTenantRedis(admin, { resourceId: a.resourceId })).toEqual({
      userDeleted: false,
      keysDeleted: 0,
    });
  });

  it("reports a wrong admin password as misconfiguration and an absent server as retryable", async () => {
    const resourceId = randomUUID();
    const wrong = await failure(
      TenantRedisError,
      provisionTenantRedis({ ...admin, password: "not-the-admin-password" }, { resourceId, password: PASSWORD }),
    );
    expect(wrong).toMatchObject({ kind: "misconfigured", code: "WRONGPASS", retryable: false });
    expect(wrong.message).not.toContain("not-the-admin-password");

    const absent = await failure(
      TenantRedisError,
      inspectTenantRedis({ ...admin, port: await freePort() }, resourceId),
    );
    expect(absent).toMatchObject({ kind: "unavailable", retryable: true });
    expect(toUserMessage(absent)).toBe("The Redis service is temporarily unavailable. Try again later.");
  });

  it("rejects hostile input with no side effect", async () => {
    const adminConn = await asAdmin();
    const usersBefore = await adminConn.command(["ACL", "USERS"]);
    for (const resourceId of ["x ~* +@all", `${RESOURCE} on nopass`, "*", ""]) {
      const err = await failure(TenantRedisError, provisionTenantRedis(admin, { resourceId, password: PASSWORD }));
      expect(err.kind).toBe("invalid_argument");
    }
    const weak = await failure(TenantRedisError, provisionTenantRedis(admin, { resourceId: RESOURCE, password: "x" }));
    expect(weak.kind).toBe("invalid_argument");
    expect(await adminConn.command(["ACL", "USERS"])).toEqual(usersBefore);
  });

  it("refuses to start a second server on a port that is taken", async () => {
    const other = await mkdtemp(join(tmpdir(), "tussilago-redis-other-"));
    try {
      const err = await failure(
        RedisServerError,
        startRedisServer({ dir: other, port, adminPassword: "another-admin-password", startTimeoutMs: 10_000 }),
      );
      expect(err.kind).toBe("start_failed");
      expect(err.output).toMatch(/address already in use/i);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
    // The running server is untouched.
    expect(await (await asAdmin()).command(["PING"])).toBe("PONG");
  });
});

describe.skipIf(!hasRedis)(`tenant Redis on a server without an ACL file${skipped}`, () => {
  it("refuses to provision users that would vanish on restart", async () => {
    const port = await freePort();
    const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", ""], {
      stdio: "ignore",
    });
    try {
      // The default user of a stock server has no password; AUTH default accepts any.
      const admin = { host: "127.0.0.1", port, user: "default", password: "irrelevant" };
      let err: TenantRedisError | undefined;
      for (let attempt = 0; attempt < 50 && err?.kind !== "misconfigured"; attempt++) {
        err = await failure(
          TenantRedisError,
          provisionTenantRedis(admin, { resourceId: randomUUID(), password: PASSWORD }),
        );
        if (err.kind === "unavailable") await sleep(50);
      }
      expect(err).toMatchObject({ kind: "misconfigured", operation: "provision", retryable: false });
    } finally {
      child.kill("SIGKILL");
    }
  });
});
