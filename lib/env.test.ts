import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, deriveKey, KEY_LABELS, parseEnv, readHostConfig } from "@/lib/env";

describe("parseEnv", () => {
  it("refuses to run without TUSSILAGO_SECRET_KEY and says how to set one", () => {
    for (const source of [{}, { TUSSILAGO_SECRET_KEY: "" }]) {
      expect(() => parseEnv(source)).toThrow(ConfigError);
      expect(() => parseEnv(source)).toThrow(/TUSSILAGO_SECRET_KEY is not set[\s\S]*export TUSSILAGO_SECRET_KEY=/);
    }
  });

  it("applies defaults", () => {
    const env = parseEnv({ TUSSILAGO_SECRET_KEY: "k" });
    expect(env.port).toBe(3000);
    expect(env.bindAddress).toBe("127.0.0.1");
    expect(env.databaseUrl).toBeUndefined();
    expect(env.publicUrl).toBe("http://localhost:3000");
    expect(path.isAbsolute(env.dataDir)).toBe(true);
  });

  it("takes the data directory, port and URLs from the environment", () => {
    const env = parseEnv({
      TUSSILAGO_SECRET_KEY: "k",
      TUSSILAGO_DATA_DIR: "relative/data",
      PORT: "8080",
      DATABASE_URL: "postgresql://u:p@db:6432/app",
      TUSSILAGO_PUBLIC_URL: "https://paas.example.org/",
    });
    expect(env.dataDir).toBe(path.resolve("relative/data"));
    expect(env.port).toBe(8080);
    expect(env.databaseUrl).toBe("postgresql://u:p@db:6432/app");
    expect(env.databaseDirectUrl).toBe("postgresql://u:p@db:6432/app");
    expect(env.publicUrl).toBe("https://paas.example.org");
  });

  it("uses DATABASE_DIRECT_URL for the worker when given (PgBouncer in front of DATABASE_URL)", () => {
    const env = parseEnv({
      TUSSILAGO_SECRET_KEY: "k",
      DATABASE_URL: "postgresql://u:p@pgbouncer:6432/app",
      DATABASE_DIRECT_URL: "postgresql://u:p@db:5432/app",
    });
    expect(env.databaseDirectUrl).toBe("postgresql://u:p@db:5432/app");
  });

  it("accepts https OIDC issuers anywhere and plain http ones on the loopback interface only", () => {
    for (const issuer of ["https://idp.example.org/realms/x", "http://localhost:9000", "http://127.0.0.1:4444/"]) {
      const env = parseEnv({
        TUSSILAGO_SECRET_KEY: "k",
        OIDC_ISSUER: issuer,
        OIDC_CLIENT_ID: "c",
        OIDC_CLIENT_SECRET: "s",
      });
      expect(env.oidc?.issuer).toBe(issuer);
    }
  });

  it("runs build steps under the app runtime unless a build runtime is configured", () => {
    const plain = parseEnv({ TUSSILAGO_SECRET_KEY: "k", TUSSILAGO_OCI_RUNTIME: "runsc-hostnet" });
    expect(plain.infra.buildRuntime).toBe("runsc-hostnet");
    const wrapped = parseEnv({
      TUSSILAGO_SECRET_KEY: "k",
      TUSSILAGO_OCI_RUNTIME: "runsc-hostnet",
      TUSSILAGO_BUILD_RUNTIME: "runsc-build",
    });
    expect(wrapped.infra.ociRuntime).toBe("runsc-hostnet");
    expect(wrapped.infra.buildRuntime).toBe("runsc-build");
    expect(() => parseEnv({ TUSSILAGO_SECRET_KEY: "k", TUSSILAGO_BUILD_RUNTIME: "runsc; rm" })).toThrow(
      /TUSSILAGO_BUILD_RUNTIME/,
    );
  });

  it("reads when the supervisor gives up restarting a crashing child", () => {
    expect(parseEnv({ TUSSILAGO_SECRET_KEY: "k" }).supervisor).toEqual({
      restartMaxCrashes: 5,
      restartWindowMs: 120_000,
    });
    const custom = parseEnv({
      TUSSILAGO_SECRET_KEY: "k",
      TUSSILAGO_RESTART_MAX_CRASHES: "10",
      TUSSILAGO_RESTART_WINDOW_S: "600",
    });
    expect(custom.supervisor).toEqual({ restartMaxCrashes: 10, restartWindowMs: 600_000 });
    expect(() => parseEnv({ TUSSILAGO_SECRET_KEY: "k", TUSSILAGO_RESTART_MAX_CRASHES: "0" })).toThrow(
      /TUSSILAGO_RESTART_MAX_CRASHES/,
    );
  });

  it.each([
    [{ PORT: "0" }, /PORT/],
    [{ PORT: "http" }, /PORT/],
    [{ DATABASE_URL: "mysql://x" }, /DATABASE_URL: must be a postgres/],
    [{ LOG_LEVEL: "loud" }, /LOG_LEVEL/],
    [{ TUSSILAGO_PUBLIC_URL: "ftp://x" }, /TUSSILAGO_PUBLIC_URL/],
    [
      { OIDC_ISSUER: "http://idp.example.org", OIDC_CLIENT_ID: "c", OIDC_CLIENT_SECRET: "s" },
      /OIDC_ISSUER: must be an https/,
    ],
    [{ OIDC_ISSUER: "http://localhost.evil.example", OIDC_CLIENT_ID: "c", OIDC_CLIENT_SECRET: "s" }, /OIDC_ISSUER/],
  ])("names the invalid variable %o", (extra, message) => {
    expect(() => parseEnv({ TUSSILAGO_SECRET_KEY: "k", ...extra })).toThrow(message);
  });
});

describe("deriveKey", () => {
  it("derives distinct 32-byte keys per label, stable for one secret and different for another", () => {
    const labels = Object.keys(KEY_LABELS) as (keyof typeof KEY_LABELS)[];
    const keys = labels.map((label) => deriveKey(label, "secret-one").toString("hex"));
    expect(new Set(keys).size).toBe(labels.length);
    for (const label of labels) {
      expect(deriveKey(label, "secret-one")).toHaveLength(32);
      expect(deriveKey(label, "secret-one").equals(deriveKey(label, "secret-one"))).toBe(true);
      expect(deriveKey(label, "secret-one").equals(deriveKey(label, "secret-two"))).toBe(false);
    }
  });
});

describe("readHostConfig", () => {
  it("takes TUSSILAGO_* settings from the host file, never the secret key, and honours none", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tussilago-host-"));
    const file = path.join(dir, "host.env");
    fs.writeFileSync(
      file,
      "# comment\nTUSSILAGO_OCI_RUNTIME=runsc-hostnet\nTUSSILAGO_SECRET_KEY=leaked\nPATH=/evil\nTUSSILAGO_APPS_DOMAIN=apps.example.org\n",
    );
    try {
      expect(readHostConfig({ TUSSILAGO_HOST_CONFIG: file })).toEqual({
        TUSSILAGO_OCI_RUNTIME: "runsc-hostnet",
        TUSSILAGO_APPS_DOMAIN: "apps.example.org",
      });
      expect(readHostConfig({ TUSSILAGO_HOST_CONFIG: "none" })).toEqual({});
      expect(readHostConfig({ TUSSILAGO_HOST_CONFIG: path.join(dir, "missing") })).toEqual({});
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("takes the tenant servers' TENANT_* settings from the host file; the environment overrides them", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tussilago-host-"));
    const file = path.join(dir, "host.env");
    fs.writeFileSync(
      file,
      [
        "TENANT_PG_ADMIN_URL=postgresql://admin:pw@db.internal:5432/postgres",
        "TENANT_PGBOUNCER_URL=postgresql://db.internal:6432",
        "TENANT_PG_PUBLIC_HOST=10.88.0.1",
        "TENANT_REDIS_ADMIN_URL=redis://admin:pw@redis.internal:6379",
        "TENANT_REDIS_PORT=6390",
        "",
      ].join("\n"),
    );
    try {
      const fromFile = readHostConfig({ TUSSILAGO_HOST_CONFIG: file });
      expect(fromFile).toEqual({
        TENANT_PG_ADMIN_URL: "postgresql://admin:pw@db.internal:5432/postgres",
        TENANT_PGBOUNCER_URL: "postgresql://db.internal:6432",
        TENANT_PG_PUBLIC_HOST: "10.88.0.1",
        TENANT_REDIS_ADMIN_URL: "redis://admin:pw@redis.internal:6379",
        TENANT_REDIS_PORT: "6390",
      });
      // What getEnv() parses: the host file first, the process environment over it.
      const env = parseEnv({
        ...fromFile,
        TUSSILAGO_SECRET_KEY: "k".repeat(32),
        TENANT_PG_PUBLIC_HOST: "10.99.0.1",
      });
      expect(env.tenantServices).toMatchObject({
        pgAdminUrl: "postgresql://admin:pw@db.internal:5432/postgres",
        pgBouncerUrl: "postgresql://db.internal:6432",
        pgPublicHost: "10.99.0.1",
        redisAdminUrl: "redis://admin:pw@redis.internal:6379",
        redisPort: 6390,
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
