import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { toUserMessage } from "./exec";
import { mergeAclFile, REDIS_ADMIN_USER, RedisServerError, renderRedisConfig, startRedisServer } from "./redis-server";
import { failure, HEX } from "./tenant-redis/test-fixtures";

describe("redis-server configuration", () => {
  it("renders a loopback-only config with an ACL file, one database and no RDB snapshots", () => {
    const config = renderRedisConfig({ dir: "/srv/redis", port: 6390, persistence: "aof", maxMemoryBytes: 1 << 30 });
    const lines = config.split("\n");
    for (const line of [
      "bind 127.0.0.1",
      "port 6390",
      "protected-mode yes",
      "daemonize no",
      'dir "/srv/redis"',
      'aclfile "/srv/redis/users.acl"',
      "databases 1",
      'save ""',
      "appendonly yes",
      "appendfsync everysec",
      "enable-debug-command no",
      "maxmemory 1073741824",
      "maxmemory-policy noeviction",
    ]) {
      expect(lines).toContain(line);
    }
    expect(config).not.toMatch(/rename-command|requirepass|^user /m);
    expect(renderRedisConfig({ dir: "/srv/redis", port: 1, persistence: "none" })).toContain("appendonly no\n");
  });

  it("puts the managed users back in their intended state and keeps tenant users", () => {
    const existing = [
      "user default on nopass ~* &* +@all",
      `user ${REDIS_ADMIN_USER} on #${"a".repeat(64)} ~* &* +@all`,
      `user t_${HEX} on #${"b".repeat(64)} ~t_${HEX}:* resetchannels &t_${HEX}:* +@all -@dangerous`,
      "",
    ].join("\n");
    expect(mergeAclFile(existing, "c".repeat(64))).toBe(
      [
        "user default off resetpass resetkeys resetchannels -@all",
        `user ${REDIS_ADMIN_USER} on #${"c".repeat(64)} ~* &* +@all`,
        `user t_${HEX} on #${"b".repeat(64)} ~t_${HEX}:* resetchannels &t_${HEX}:* +@all -@dangerous`,
        "",
      ].join("\n"),
    );
    expect(mergeAclFile("", "c".repeat(64)).split("\n")).toHaveLength(3);
  });

  it("refuses unsafe options before touching the disk", async () => {
    const base = { dir: "/tmp/x", port: 6390, adminPassword: "admin-password-0123456789" };
    for (const override of [
      { dir: "relative" },
      { dir: '/tmp/a"b' },
      { dir: "/tmp/a\nsave 1 1" },
      { port: 0 },
      { port: 70_000 },
      { adminPassword: "short" },
      { maxMemoryBytes: 5 },
    ]) {
      const err = await failure(RedisServerError, startRedisServer({ ...base, ...override }));
      expect(err.kind).toBe("invalid_argument");
    }
  });

  it("says clearly when redis-server is not installed", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tussilago-redis-missing-"));
    try {
      const err = await failure(
        RedisServerError,
        startRedisServer({
          dir,
          port: 6390,
          adminPassword: "admin-password-0123456789",
          redisServerPath: "tussilago-no-such-redis-server",
        }),
      );
      expect(err.kind).toBe("not_installed");
      expect(err.message).toBe(
        "redis-server is not installed; the host setup installs it, or set TENANT_REDIS_ADMIN_URL",
      );
      expect(toUserMessage(err)).toBe("The Redis service is not available on this server.");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
