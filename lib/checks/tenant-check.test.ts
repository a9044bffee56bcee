// The tenant services section of `manage check` against real servers: the test run's PostgreSQL (as its superuser,
// as a CREATEROLE CREATEDB role, as a role that can do neither), a real redis-server, a PgBouncer address that does
// or does not accept connections, and embedded servers that are configured in the data directory but not running.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { CheckResult } from "@/lib/checks/check";
import { tenantServicesSection } from "@/lib/checks/tenant-check";
import { freePort } from "@/lib/database/embedded";
import { parseEnv } from "@/lib/env";
import { REDIS_ADMIN_USER, type RedisServer, startRedisServer } from "@/lib/infra/redis-server";

const { adminUrl } = inject("testDatabase");
const hasRedis = spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;

let dataDir: string;
const roles: string[] = [];

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-tenant-check-"));
});

afterAll(async () => {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  for (const role of roles) {
    await client.query(`DROP OWNED BY ${pg.escapeIdentifier(role)}`);
    await client.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(role)}`);
  }
  await client.end();
  await fs.rm(dataDir, { recursive: true, force: true });
});

function env(vars: Record<string, string> = {}) {
  return parseEnv({ TUSSILAGO_SECRET_KEY: "k".repeat(40), TUSSILAGO_DATA_DIR: dataDir, ...vars });
}

async function section(vars: Record<string, string>, source: Record<string, string> = {}) {
  const result = await tenantServicesSection(env(vars), { source: { TUSSILAGO_HOST_CONFIG: "none", ...source } });
  expect(result.name).toBe("tenant services");
  return Object.fromEntries(result.checks.map((check) => [check.name, check])) as Record<string, CheckResult>;
}

/** A login role on the test cluster with the given attributes; its URL. */
async function roleUrl(attributes: string): Promise<string> {
  const role = `check_${randomBytes(4).toString("hex")}`;
  const password = randomBytes(16).toString("hex");
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`CREATE ROLE ${role} LOGIN ${attributes} PASSWORD '${password}'`);
  // Tenant provisioning in other test files revokes PUBLIC's CONNECT on postgres, as a real host setup does; the
  // admin role then gets its own (lib/infra/tenant-postgres/index.ts, "Privileges of the admin role").
  await client.query(`GRANT CONNECT ON DATABASE postgres TO ${role}`);
  await client.end();
  roles.push(role);
  const url = new URL(adminUrl);
  url.username = role;
  url.password = password;
  return url.toString();
}

describe("tenant services check", () => {
  it("warns about a superuser admin and reports the server and PUBLIC's access", async () => {
    const checks = await section({ TENANT_PG_ADMIN_URL: adminUrl });
    expect(checks["tenant PostgreSQL"]).toMatchObject({
      status: "ok",
      message: expect.stringMatching(/^PostgreSQL \d+/),
    });
    expect(checks["tenant admin role"]).toMatchObject({
      status: "warn",
      message: expect.stringContaining("superuser"),
    });
    expect(["ok", "warn"]).toContain(checks["tenant PUBLIC access"]?.status);
    // No Redis configured and none embedded here: a warning, not an error.
    expect(checks["tenant Redis"]?.status).toBe("warn");
  });

  it("accepts a CREATEROLE CREATEDB role on PostgreSQL 16+, and refuses a role that is neither", async () => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    const version = Number((await client.query("SHOW server_version_num")).rows[0].server_version_num);
    await client.end();
    const delegated = await section({ TENANT_PG_ADMIN_URL: await roleUrl("CREATEROLE CREATEDB") });
    expect(delegated["tenant admin role"]?.status).toBe(version >= 160_000 ? "ok" : "error");
    const plain = await section({ TENANT_PG_ADMIN_URL: await roleUrl("") });
    expect(plain["tenant admin role"]).toMatchObject({ status: "error" });
  });

  it("is an error when a configured server does not answer, a warning when the embedded one is not running", async () => {
    const closed = await freePort();
    const external = await section({ TENANT_PG_ADMIN_URL: `postgresql://admin:pw@127.0.0.1:${closed}/postgres` });
    expect(external["tenant PostgreSQL"]).toMatchObject({
      status: "error",
      message: expect.stringMatching(/^cannot connect/),
    });
    expect(external["tenant PostgreSQL"]?.message).not.toContain("pw@");

    // What an earlier `npm start` left in the data directory, with the servers now stopped.
    await fs.mkdir(path.join(dataDir, "secrets"), { recursive: true });
    await fs.writeFile(path.join(dataDir, "secrets", "tenant-postgres-password"), "pg-secret\n");
    await fs.writeFile(path.join(dataDir, "secrets", "tenant-redis-password"), "redis-secret-0123456789\n");
    await fs.writeFile(
      path.join(dataDir, "tenant-services.json"),
      JSON.stringify({ postgresPort: closed, redisPort: await freePort() }),
    );
    const embedded = await section({});
    expect(embedded["tenant PostgreSQL"]).toMatchObject({
      status: "warn",
      message: expect.stringContaining("embedded"),
    });
    expect(embedded["tenant Redis"]).toMatchObject({ status: "warn", message: expect.stringContaining("embedded") });
    await fs.rm(path.join(dataDir, "tenant-services.json"));
  });

  it("checks PgBouncer's address when one is configured", async () => {
    const server = net.createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const up = await section({
        TENANT_PG_ADMIN_URL: adminUrl,
        TENANT_PGBOUNCER_URL: `postgresql://127.0.0.1:${port}`,
      });
      expect(up.PgBouncer?.status).toBe("ok");
      // The embedded one, found through the data directory as `npm start` left it.
      await fs.writeFile(path.join(dataDir, "tenant-services.json"), JSON.stringify({ pgBouncerPort: port }));
      const embedded = await section({ TENANT_PG_ADMIN_URL: adminUrl, TENANT_PGBOUNCER: "embedded" });
      expect(embedded.PgBouncer).toMatchObject({ status: "ok", message: expect.stringContaining("embedded") });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    const down = await section({
      TENANT_PG_ADMIN_URL: adminUrl,
      TENANT_PGBOUNCER_URL: `postgresql://127.0.0.1:${await freePort()}`,
    });
    expect(down.PgBouncer?.status).toBe("error");
    const stopped = await section({ TENANT_PG_ADMIN_URL: adminUrl, TENANT_PGBOUNCER: "embedded" });
    expect(stopped.PgBouncer?.status).toBe("warn");
    await fs.rm(path.join(dataDir, "tenant-services.json"));
    expect((await section({ TENANT_PG_ADMIN_URL: adminUrl })).PgBouncer).toBeUndefined();
  });

  it("warns when the host configuration file holding admin URLs is world-readable", async () => {
    const file = path.join(dataDir, "host.env");
    await fs.writeFile(file, `TENANT_PG_ADMIN_URL=${adminUrl}\n`, { mode: 0o644 });
    await fs.chmod(file, 0o644);
    const open = await section({ TENANT_PG_ADMIN_URL: adminUrl }, { TUSSILAGO_HOST_CONFIG: file });
    expect(open["tenant admin credentials"]?.status).toBe("warn");
    await fs.chmod(file, 0o640);
    const closed = await section({ TENANT_PG_ADMIN_URL: adminUrl }, { TUSSILAGO_HOST_CONFIG: file });
    expect(closed["tenant admin credentials"]).toBeUndefined();
  });

  describe.skipIf(!hasRedis)("with a real redis-server", () => {
    let dir: string;
    let server: RedisServer;
    let url: string;

    beforeAll(async () => {
      dir = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-tenant-check-redis-"));
      const port = await freePort();
      const password = randomBytes(24).toString("base64url");
      server = await startRedisServer({ dir, port, adminPassword: password, persistence: "none" });
      url = `redis://${REDIS_ADMIN_USER}:${password}@127.0.0.1:${port}`;
    });

    afterAll(async () => {
      await server?.stop();
      if (dir) await fs.rm(dir, { recursive: true, force: true });
    });

    it("reports it reachable, its ACL file writable and the default user closed; a read-only ACL file fails", async () => {
      const checks = await section({ TENANT_PG_ADMIN_URL: adminUrl, TENANT_REDIS_ADMIN_URL: url });
      expect(checks["tenant Redis"]?.status).toBe("ok");
      expect(checks["tenant Redis ACL file"]?.status).toBe("ok");
      expect(checks["tenant Redis default user"]?.status).toBe("ok");

      // Root ignores file modes: make the directory unwritable for redis-server's rename instead, where that works.
      if (process.getuid?.() !== 0) {
        await fs.chmod(dir, 0o500);
        try {
          const broken = await section({ TENANT_PG_ADMIN_URL: adminUrl, TENANT_REDIS_ADMIN_URL: url });
          expect(broken["tenant Redis ACL file"]?.status).toBe("error");
        } finally {
          await fs.chmod(dir, 0o700);
        }
      }
    });
  });
});
