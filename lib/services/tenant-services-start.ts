// Starting the tenant services the operator did not configure (the supervisor's side of ./tenant-services.ts): a
// second embedded PostgreSQL cluster in <data dir>/tenant-postgres and a redis-server in <data dir>/tenant-redis,
// each with its own admin password generated once into <data dir>/secrets.
//
// Ports are kept from one start to the next (<data dir>/tenant-services.json): tenant apps carry host and port in
// their DATABASE_URL / REDIS_URL, so a new port at each start would break every running app.
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import type { Logger } from "pino";
import type { z } from "zod";
import { freePort, readOrCreatePassword, startEmbeddedPostgres } from "@/lib/database/embedded";
import type { Env } from "@/lib/env";
import { REDIS_ADMIN_USER, RedisServerError, startRedisServer } from "@/lib/infra/redis-server";
import {
  DEFAULT_PG_PORT,
  hostOf,
  PG_PASSWORD_FILE,
  parseRedisAdminUrl,
  portOf,
  REDIS_PASSWORD_FILE,
  STATE_FILE,
  EMBEDDED_PG_SUPERUSER as SUPERUSER,
  stateSchema,
} from "@/lib/services/tenant-services";
import { type EmbeddedPgBouncer, startPgBouncer } from "@/lib/services/tenant-services-pgbouncer";

export const TENANT_POSTGRES_DIR = "tenant-postgres";
export const TENANT_REDIS_DIR = "tenant-redis";
export const TENANT_PGBOUNCER_DIR = "tenant-pgbouncer";
const HBA_FILE = "tenant-postgres-hba.conf";
const LOOPBACK = "127.0.0.1";

export type TenantServicesHandle = {
  /** Variables for the web server's and the worker's environment. */
  env: Record<string, string>;
  postgres: { adminUrl: string; port: number; embedded: boolean };
  redis: { adminUrl: string; port: number; embedded: boolean } | null;
  /** The embedded PgBouncer, when TENANT_PGBOUNCER=embedded. */
  pgbouncer: { port: number; adminUrl: string; configDir: string } | null;
  stop(): Promise<void>;
};

export type StartTenantServicesOptions = {
  /** Tests point this at a missing binary to see the warning path. */
  redisServerPath?: string;
  pgBouncerPath?: string;
  /** Extra server settings for the embedded PostgreSQL (tests turn durability off). */
  postgresSettings?: Record<string, string>;
};

type State = z.infer<typeof stateSchema>;

async function readState(dataDir: string): Promise<State> {
  try {
    const parsed = stateSchema.safeParse(JSON.parse(await fs.readFile(path.join(dataDir, STATE_FILE), "utf8")));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

async function writeState(dataDir: string, state: State): Promise<void> {
  await fs.writeFile(path.join(dataDir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, LOOPBACK, () => server.close(() => resolve(true)));
  });
}

/**
 * The configured port; else the one used last time when it is still free; else a new one, with a warning when it
 * changed (attached apps need a restart to pick it up).
 */
async function stablePort(
  configured: number | undefined,
  previous: number | undefined,
  what: string,
  log: Logger,
): Promise<number> {
  // A configured port is used as is: if it is taken, the server's start fails and says so.
  if (configured !== undefined) return configured;
  if (previous !== undefined && (await portIsFree(previous))) return previous;
  const port = await freePort();
  if (previous !== undefined) {
    log.warn(
      { previousPort: previous, port },
      `the ${what} port is taken by another process; using a new one (restart attached apps to pick it up)`,
    );
  }
  return port;
}

/**
 * The extra addresses the embedded servers listen on: an IP literal in TENANT_*_PUBLIC_HOST other than loopback
 * (the host address that tenant containers reach). A host name cannot be listened on; it is only reported.
 */
function extraListenAddress(publicHost: string | undefined, what: string, log: Logger): string | null {
  if (publicHost === undefined || publicHost === LOOPBACK || publicHost === "localhost" || publicHost === "::1") {
    return null;
  }
  if (net.isIP(publicHost) === 0) {
    log.warn(
      { publicHost },
      `the embedded ${what} listens on loopback and on IP addresses only; set the public host to an IP address ` +
        "of this machine for it to listen there",
    );
    return null;
  }
  return publicHost;
}

/**
 * pg_hba rules of the embedded tenant cluster, rewritten at every start. Loopback for everyone (the admin and apps
 * on the host); with a public address, tenants from directly attached networks (the container bridges), never the
 * superuser, which only ever connects over loopback.
 */
export function renderTenantHba(options: { superuser: string; remote: boolean }): string {
  const lines = [
    "# Written by tussilago at every start of the tenant PostgreSQL; edits are lost.",
    "host all all 127.0.0.1/32 scram-sha-256",
    "host all all ::1/128 scram-sha-256",
  ];
  if (options.remote) {
    lines.push(`host all ${options.superuser} all reject`, "host all all samenet scram-sha-256");
  }
  return `${lines.join("\n")}\n`;
}

async function startEmbeddedTenantPostgres(
  env: Env,
  log: Logger,
  state: State,
  options: StartTenantServicesOptions,
): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  const pgLog = log.child({ component: "tenant-postgres" });
  const extra = extraListenAddress(env.tenantServices.pgPublicHost, "tenant PostgreSQL", pgLog);
  // Readable by the postgres OS user (the server runs as it when root starts the platform); holds no secret.
  const hbaFile = path.join(env.dataDir, HBA_FILE);
  await fs.writeFile(hbaFile, renderTenantHba({ superuser: SUPERUSER, remote: extra !== null }), { mode: 0o644 });
  await fs.chmod(hbaFile, 0o644);
  const port = await stablePort(env.tenantServices.pgPort, state.postgresPort, "tenant PostgreSQL", pgLog);
  const handle = await startEmbeddedPostgres({
    dataDir: env.dataDir,
    directory: path.join(env.dataDir, TENANT_POSTGRES_DIR),
    passwordFile: PG_PASSWORD_FILE,
    database: "postgres",
    port,
    log: pgLog,
    settings: {
      listen_addresses: extra ? `${LOOPBACK},${extra}` : LOOPBACK,
      hba_file: hbaFile,
      // Tenants' sessions count against this; CONNECTION LIMIT per role keeps one tenant from taking them all, and
      // the sum of all roles' limits stays under it minus TENANT_PG_RESERVED_CONNECTIONS (lib/domain/quotas.ts).
      max_connections: String(env.tenantServices.pgMaxConnections),
      ...options.postgresSettings,
    },
  });
  state.postgresPort = port;
  return { url: handle.url, port, stop: () => handle.stop() };
}

async function startEmbeddedTenantRedis(
  env: Env,
  log: Logger,
  state: State,
  options: StartTenantServicesOptions,
): Promise<{ url: string; port: number; stop(): Promise<void> } | null> {
  const redisLog = log.child({ component: "tenant-redis" });
  const extra = extraListenAddress(env.tenantServices.redisPublicHost, "tenant Redis", redisLog);
  const password = await readOrCreatePassword(env.dataDir, REDIS_PASSWORD_FILE);
  const port = await stablePort(env.tenantServices.redisPort, state.redisPort, "tenant Redis", redisLog);
  try {
    const server = await startRedisServer({
      dir: path.join(env.dataDir, TENANT_REDIS_DIR),
      port,
      bind: extra ? [LOOPBACK, extra] : [LOOPBACK],
      adminPassword: password,
      log: redisLog,
      ...(options.redisServerPath ? { redisServerPath: options.redisServerPath } : {}),
    });
    state.redisPort = port;
    const url = `redis://${encodeURIComponent(REDIS_ADMIN_USER)}:${encodeURIComponent(password)}@${LOOPBACK}:${port}`;
    return { url, port, stop: () => server.stop() };
  } catch (error) {
    // Redis is an optional feature: the platform runs without it, and the Redis endpoints answer 503.
    if (error instanceof RedisServerError) {
      redisLog.warn(
        { err: error.toLog() },
        error.kind === "not_installed"
          ? "redis-server is not installed: tenant Redis is unavailable (install redis-server or set TENANT_REDIS_ADMIN_URL)"
          : "the tenant redis-server did not start: tenant Redis is unavailable",
      );
      return null;
    }
    throw error;
  }
}

/**
 * PgBouncer in front of the tenant PostgreSQL (TENANT_PGBOUNCER=embedded). The worker fills in the tenant roles:
 * their SCRAM verifiers come from pg_authid, which needs a superuser admin, as the embedded cluster's is.
 */
async function startEmbeddedPgBouncer(
  env: Env,
  log: Logger,
  state: State,
  adminUrl: string,
  options: StartTenantServicesOptions,
): Promise<EmbeddedPgBouncer> {
  const bouncerLog = log.child({ component: "tenant-pgbouncer" });
  const extra = extraListenAddress(env.tenantServices.pgPublicHost, "PgBouncer", bouncerLog);
  const port = await stablePort(env.tenantServices.pgBouncerPort, state.pgBouncerPort, "PgBouncer", bouncerLog);
  const admin = new URL(adminUrl);
  const started = await startPgBouncer({
    dir: path.join(env.dataDir, TENANT_PGBOUNCER_DIR),
    port,
    listen: extra ? [LOOPBACK, extra] : [LOOPBACK],
    backend: { host: hostOf(admin), port: portOf(admin, DEFAULT_PG_PORT) },
    // PgBouncer refuses to run as root; the embedded PostgreSQL's user exists by then (lib/database/embedded.ts).
    ...(typeof process.getuid === "function" && process.getuid() === 0 ? { runAs: "postgres" } : {}),
    ...(options.pgBouncerPath ? { binary: options.pgBouncerPath } : {}),
    log: bouncerLog,
  });
  state.pgBouncerPort = port;
  return started;
}

/** Starts what the operator did not configure. Call before the web server and the worker; stop after them. */
export async function startTenantServices(
  env: Env,
  log: Logger,
  options: StartTenantServicesOptions = {},
): Promise<TenantServicesHandle> {
  const state = await readState(env.dataDir);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) {
      await stop().catch((error: unknown) => log.error({ err: error }, "a tenant service did not stop cleanly"));
    }
  };
  try {
    let postgres: TenantServicesHandle["postgres"];
    if (env.tenantServices.pgAdminUrl) {
      const url = new URL(env.tenantServices.pgAdminUrl);
      postgres = { adminUrl: env.tenantServices.pgAdminUrl, port: portOf(url, DEFAULT_PG_PORT), embedded: false };
    } else {
      const started = await startEmbeddedTenantPostgres(env, log, state, options);
      stops.push(started.stop);
      postgres = { adminUrl: started.url, port: started.port, embedded: true };
    }

    let redis: TenantServicesHandle["redis"];
    if (env.tenantServices.redisAdminUrl) {
      const admin = parseRedisAdminUrl(env.tenantServices.redisAdminUrl);
      redis = { adminUrl: env.tenantServices.redisAdminUrl, port: admin.port, embedded: false };
    } else {
      const started = await startEmbeddedTenantRedis(env, log, state, options);
      if (started) stops.push(started.stop);
      redis = started ? { adminUrl: started.url, port: started.port, embedded: true } : null;
    }
    let pgbouncer: TenantServicesHandle["pgbouncer"] = null;
    if (env.tenantServices.pgBouncerMode === "embedded" && !env.tenantServices.pgBouncerUrl) {
      const started = await startEmbeddedPgBouncer(env, log, state, postgres.adminUrl, options);
      stops.push(started.stop);
      pgbouncer = { port: started.port, adminUrl: started.adminUrl, configDir: started.configDir };
    }
    await writeState(env.dataDir, state);

    const childEnv: Record<string, string> = { TENANT_PG_ADMIN_URL: postgres.adminUrl };
    if (redis) childEnv.TENANT_REDIS_ADMIN_URL = redis.adminUrl;
    if (pgbouncer) {
      // Apps connect through it (its host and port); the worker keeps its per-user limits in step.
      childEnv.TENANT_PGBOUNCER_URL = `postgresql://${LOOPBACK}:${pgbouncer.port}`;
      childEnv.TENANT_PGBOUNCER_ADMIN_URL = pgbouncer.adminUrl;
      childEnv.TENANT_PGBOUNCER_CONFIG_DIR = pgbouncer.configDir;
    }
    return { env: childEnv, postgres, redis, pgbouncer, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
