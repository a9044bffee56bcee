// Where the tenant servers are: configuration from lib/env, and the embedded ones the supervisor starts (a second
// PostgreSQL cluster and a redis-server in the data directory, kept on the same ports across restarts).
import { spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "@/lib/database/embedded";
import { parseEnv } from "@/lib/env";
import { REDIS_ADMIN_USER } from "@/lib/infra/redis-server";
import { connectRedis } from "@/lib/infra/resp";
import { parseRedisAdminUrl, tenantPostgresConfig, tenantRedisConfig } from "@/lib/services/tenant-services";
import { renderTenantHba, startTenantServices } from "@/lib/services/tenant-services-start";

const KEY = { TUSSILAGO_SECRET_KEY: "k".repeat(40) };

describe("tenant service configuration", () => {
  it("is unavailable without admin URLs", () => {
    const env = parseEnv(KEY);
    expect(tenantPostgresConfig(env)).toBeNull();
    expect(tenantRedisConfig(env)).toBeNull();
  });

  it("takes the public host from the admin URL unless TENANT_PG_PUBLIC_HOST says otherwise", () => {
    const base = {
      ...KEY,
      DATABASE_URL: "postgresql://tussilago:x@127.0.0.1:5432/tussilago",
      TENANT_PG_ADMIN_URL: "postgresql://admin:secret@db.internal:6543/postgres",
    };
    expect(tenantPostgresConfig(parseEnv(base))).toEqual({
      adminUrl: base.TENANT_PG_ADMIN_URL,
      publicHost: "db.internal",
      publicPort: 6543,
      protectDatabases: ["tussilago", "postgres"],
    });
    const local = tenantPostgresConfig(
      parseEnv({
        ...base,
        TENANT_PG_ADMIN_URL: "postgresql://a:b@127.0.0.1/postgres",
        TENANT_PG_PUBLIC_HOST: "10.88.0.1",
      }),
    );
    expect(local).toMatchObject({ publicHost: "10.88.0.1", publicPort: 5432 });
  });

  it("sends apps through PgBouncer when TENANT_PGBOUNCER_URL is set, and the admin directly", () => {
    const config = tenantPostgresConfig(
      parseEnv({
        ...KEY,
        TENANT_PG_ADMIN_URL: "postgresql://admin:secret@127.0.0.1:5432/postgres",
        TENANT_PGBOUNCER_URL: "postgresql://pgbouncer.internal:6432",
      }),
    );
    expect(config).toMatchObject({
      adminUrl: "postgresql://admin:secret@127.0.0.1:5432/postgres",
      publicHost: "pgbouncer.internal",
      publicPort: 6432,
    });
  });

  it("leaves database names it cannot quote out of protectDatabases", () => {
    const config = tenantPostgresConfig(
      parseEnv({
        ...KEY,
        DATABASE_URL: "postgresql://u:p@127.0.0.1/Platform-DB",
        TENANT_PG_ADMIN_URL: "postgresql://a:b@127.0.0.1/postgres",
      }),
    );
    expect(config?.protectDatabases).toEqual(["postgres"]);
  });

  it("reads the Redis admin from redis://user:password@host:port, the public host defaulting to the PG one", () => {
    expect(parseRedisAdminUrl("redis://tussilago-admin:p%40ss@127.0.0.1:6390")).toEqual({
      host: "127.0.0.1",
      port: 6390,
      user: "tussilago-admin",
      password: "p@ss",
    });
    const config = tenantRedisConfig(
      parseEnv({ ...KEY, TENANT_REDIS_ADMIN_URL: "redis://u:p@127.0.0.1:6390", TENANT_PG_PUBLIC_HOST: "10.88.0.1" }),
    );
    expect(config).toMatchObject({ publicHost: "10.88.0.1", publicPort: 6390 });
  });

  it.each([
    ["TENANT_REDIS_ADMIN_URL", "redis://127.0.0.1:6379"],
    ["TENANT_REDIS_ADMIN_URL", "http://u:p@127.0.0.1:6379"],
    ["TENANT_PG_ADMIN_URL", "mysql://x"],
    ["TENANT_PG_PUBLIC_HOST", "http://10.0.0.1/"],
    ["TENANT_PG_PUBLIC_HOST", "host name"],
  ])("refuses %s=%s with the variable's name", (key, value) => {
    expect(() => parseEnv({ ...KEY, [key]: value })).toThrow(key);
  });

  it("lets the superuser in over loopback only, and tenants from attached networks only with a public address", () => {
    expect(renderTenantHba({ superuser: "tussilago", remote: false })).not.toContain("samenet");
    const remote = renderTenantHba({ superuser: "tussilago", remote: true }).split("\n");
    expect(remote.indexOf("host all tussilago all reject")).toBeLessThan(
      remote.indexOf("host all all samenet scram-sha-256"),
    );
  });
});

const hasRedis = spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;

describe("startTenantServices", () => {
  let dataDir: string;
  const lines: string[] = [];
  const log = pino(
    { level: "info" },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString("utf8"));
        done();
      },
    }),
  );

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-tenant-services-"));
    // The embedded PostgreSQL runs as the postgres user when root runs the tests: it must pass through.
    await fs.chmod(dataDir, 0o711);
  });

  afterAll(async () => {
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  const fast = { fsync: "off", synchronous_commit: "off", full_page_writes: "off" };

  it("starts a second PostgreSQL and a redis-server with their own passwords, on the same ports next time", async () => {
    const env = parseEnv({ ...KEY, TUSSILAGO_DATA_DIR: dataDir });
    const first = await startTenantServices(env, log, { postgresSettings: fast });
    let ports: number[];
    try {
      expect(first.postgres.embedded).toBe(true);
      expect(Object.keys(first.env).sort()).toEqual(
        hasRedis ? ["TENANT_PG_ADMIN_URL", "TENANT_REDIS_ADMIN_URL"] : ["TENANT_PG_ADMIN_URL"],
      );
      const client = new pg.Client({ connectionString: first.env.TENANT_PG_ADMIN_URL });
      await client.connect();
      const row = await client.query<{ db: string; superuser: boolean }>(
        "SELECT current_database() AS db, rolsuper AS superuser FROM pg_roles WHERE rolname = current_user",
      );
      await client.end();
      expect(row.rows[0]).toEqual({ db: "postgres", superuser: true });
      const secrets = await fs.readdir(path.join(dataDir, "secrets"));
      expect(secrets).toContain("tenant-postgres-password");
      expect((await fs.stat(path.join(dataDir, "secrets", "tenant-postgres-password"))).mode & 0o077).toBe(0);
      await fs.stat(path.join(dataDir, "tenant-postgres", "PG_VERSION"));

      if (hasRedis) {
        const admin = parseRedisAdminUrl(first.env.TENANT_REDIS_ADMIN_URL ?? "");
        expect(admin.user).toBe(REDIS_ADMIN_USER);
        const connection = await connectRedis(admin);
        expect(await connection.command(["PING"])).toBe("PONG");
        await connection.close();
        expect(secrets).toContain("tenant-redis-password");
      }
      ports = [first.postgres.port, first.redis?.port ?? 0];
    } finally {
      await first.stop();
    }

    const second = await startTenantServices(env, log, { postgresSettings: fast });
    try {
      expect([second.postgres.port, second.redis?.port ?? 0]).toEqual(ports);
      expect(second.env).toEqual(first.env);
    } finally {
      await second.stop();
    }
  });

  it("warns instead of failing when redis-server is missing, and then offers no Redis", async () => {
    const env = parseEnv({ ...KEY, TUSSILAGO_DATA_DIR: dataDir });
    lines.length = 0;
    const services = await startTenantServices(env, log, {
      postgresSettings: fast,
      redisServerPath: "tussilago-no-such-redis-server",
    });
    try {
      expect(services.redis).toBeNull();
      expect(services.env.TENANT_REDIS_ADMIN_URL).toBeUndefined();
      expect(lines.join("")).toContain("redis-server is not installed: tenant Redis is unavailable");
    } finally {
      await services.stop();
    }
  });

  it("uses the ports the operator fixed (the host firewall opens only those to tenant networks)", async () => {
    const [pgPort, redisPort] = [await freePort(), await freePort()];
    const env = parseEnv({
      ...KEY,
      TUSSILAGO_DATA_DIR: dataDir,
      TENANT_PG_PORT: String(pgPort),
      TENANT_REDIS_PORT: String(redisPort),
    });
    const services = await startTenantServices(env, log, { postgresSettings: fast });
    try {
      expect(services.postgres.port).toBe(pgPort);
      expect(new URL(services.env.TENANT_PG_ADMIN_URL ?? "").port).toBe(String(pgPort));
      if (hasRedis) expect(services.redis?.port).toBe(redisPort);
    } finally {
      await services.stop();
    }
  });

  it("starts nothing for services the operator configured", async () => {
    const env = parseEnv({
      ...KEY,
      TUSSILAGO_DATA_DIR: dataDir,
      TENANT_PG_ADMIN_URL: "postgresql://admin:secret@db.internal:5432/postgres",
      TENANT_REDIS_ADMIN_URL: "redis://admin:secret@redis.internal:6379",
    });
    const services = await startTenantServices(env, log);
    expect(services.postgres).toEqual({
      adminUrl: "postgresql://admin:secret@db.internal:5432/postgres",
      port: 5432,
      embedded: false,
    });
    expect(services.redis).toMatchObject({ embedded: false, port: 6379 });
    expect(services.env).toEqual({
      TENANT_PG_ADMIN_URL: "postgresql://admin:secret@db.internal:5432/postgres",
      TENANT_REDIS_ADMIN_URL: "redis://admin:secret@redis.internal:6379",
    });
    await services.stop();
  });

  it.skipIf(spawnSync("pgbouncer", ["--version"], { stdio: "ignore" }).status !== 0)(
    "starts PgBouncer in front of the tenant PostgreSQL with TENANT_PGBOUNCER=embedded; apps' address is its own",
    async () => {
      const bouncerDir = path.join(dataDir, "with-pgbouncer");
      await fs.mkdir(bouncerDir, { mode: 0o711 });
      await fs.chmod(bouncerDir, 0o711);
      const env = parseEnv({ ...KEY, TUSSILAGO_DATA_DIR: bouncerDir, TENANT_PGBOUNCER: "embedded" });
      const services = await startTenantServices(env, log, { postgresSettings: fast });
      try {
        expect(services.pgbouncer).not.toBeNull();
        const port = services.pgbouncer?.port ?? 0;
        expect(services.env).toMatchObject({
          TENANT_PGBOUNCER_URL: `postgresql://127.0.0.1:${port}`,
          TENANT_PGBOUNCER_CONFIG_DIR: path.join(bouncerDir, "tenant-pgbouncer"),
        });
        // What the web server and the worker see: apps get PgBouncer's port, the worker may manage it.
        const child = parseEnv({ ...KEY, TUSSILAGO_DATA_DIR: bouncerDir, ...services.env });
        expect(tenantPostgresConfig(child)).toMatchObject({ publicHost: "127.0.0.1", publicPort: port });
        expect(child.tenantServices.pgBouncerAdmin?.adminUrl).toMatch(/\/pgbouncer$/);
        const adminConsole = new pg.Client({ connectionString: services.env.TENANT_PGBOUNCER_ADMIN_URL });
        await adminConsole.connect();
        expect((await adminConsole.query("SHOW VERSION")).rows[0]).toBeDefined();
        await adminConsole.end();
      } finally {
        await services.stop();
      }
    },
  );
});
