import { describe, expect, it } from "vitest";
import { redisAclPasswordHash } from "../resp";
import { TenantRedisError, tenantRedisAclRules, tenantRedisConnectionInfo, tenantRedisNames } from "./index";
import { HEX, PASSWORD, RESOURCE, thrown } from "./test-fixtures";

describe("tenantRedisNames", () => {
  it("derives user, key prefix and patterns from the resource UUID", () => {
    expect(tenantRedisNames(RESOURCE)).toEqual({
      user: `t_${HEX}`,
      keyPrefix: `t_${HEX}`,
      keyPattern: `t_${HEX}:*`,
      channelPattern: `t_${HEX}:*`,
    });
  });

  it.each([
    ["empty", ""],
    ["not a v4 UUID", "0f3c2a6e-8b1d-1c7e-9a5f-2d4b6c8e0a1b"],
    ["wrong variant", "0f3c2a6e-8b1d-4c7e-7a5f-2d4b6c8e0a1b"],
    ["uppercase", RESOURCE.toUpperCase()],
    ["ACL rules", `${RESOURCE} ~* +@all`],
    ["glob", "*"],
    ["newline", `${RESOURCE}\n`],
  ])("refuses %s", (_, value) => {
    expect(thrown(TenantRedisError, () => tenantRedisNames(value))).toMatchObject({
      kind: "invalid_argument",
      retryable: false,
      userMessage: "The request contained an invalid value.",
    });
  });
});

describe("tenantRedisAclRules", () => {
  it("confines the user to its prefix and denies whole-keyspace and server commands, with the password hashed", () => {
    const rules = tenantRedisAclRules(tenantRedisNames(RESOURCE), redisAclPasswordHash(PASSWORD));
    expect(rules).toEqual([
      "reset",
      "on",
      `#${redisAclPasswordHash(PASSWORD)}`,
      `~t_${HEX}:*`,
      "resetchannels",
      `&t_${HEX}:*`,
      "+@all",
      "-@admin",
      "-@dangerous",
      "-@scripting",
      "-select",
      "-scan",
      "-keys",
      "-randomkey",
      "-dbsize",
      "-swapdb",
      "-move",
      "-flushall",
      "-flushdb",
      "-client",
      "-pubsub",
      "-memory",
      "+memory|usage",
    ]);
    expect(rules.join(" ")).not.toContain(PASSWORD);
  });
});

describe("tenantRedisConnectionInfo", () => {
  it("builds a URL with encoded credentials and no database number", () => {
    const password = "p@ss:w/rd?#%&= +äöx";
    const info = tenantRedisConnectionInfo({ host: "127.0.0.1", port: 6390, resourceId: RESOURCE, password });
    expect(info).toEqual({
      url: `redis://t_${HEX}:${encodeURIComponent(password)}@127.0.0.1:6390`,
      host: "127.0.0.1",
      port: 6390,
      user: `t_${HEX}`,
      password,
      keyPrefix: `t_${HEX}`,
    });
    const url = new URL(info.url);
    expect(decodeURIComponent(url.username)).toBe(`t_${HEX}`);
    expect(decodeURIComponent(url.password)).toBe(password);
    expect(url.hostname).toBe("127.0.0.1");
    expect(url.port).toBe("6390");
    expect(url.pathname).toBe("");
  });

  it("brackets IPv6 hosts and accepts host names", () => {
    const v6 = tenantRedisConnectionInfo({ host: "::1", port: 6379, resourceId: RESOURCE, password: PASSWORD });
    expect(v6.url).toBe(`redis://t_${HEX}:${PASSWORD}@[::1]:6379`);
    const named = tenantRedisConnectionInfo({
      host: "redis.internal",
      port: 1,
      resourceId: RESOURCE,
      password: PASSWORD,
    });
    expect(new URL(named.url).hostname).toBe("redis.internal");
  });

  it.each([
    ["a host with credentials", { host: "evil@127.0.0.1" }],
    ["a host with a path", { host: "127.0.0.1/x" }],
    ["an empty host", { host: "" }],
    ["port 0", { port: 0 }],
    ["a fractional port", { port: 6379.5 }],
    ["a short password", { password: "short" }],
    ["a password with a newline", { password: `${PASSWORD}\n` }],
    ["a bad resource ID", { resourceId: "nope" }],
  ])("refuses %s", (_, override) => {
    const input = { host: "127.0.0.1", port: 6379, resourceId: RESOURCE, password: PASSWORD, ...override };
    const err = thrown(TenantRedisError, () => tenantRedisConnectionInfo(input));
    expect(err.kind).toBe("invalid_argument");
    expect(err.message).not.toContain(PASSWORD);
  });
});
