// The one place that reads process.env. Everything else asks getEnv() for a parsed, typed configuration.
import { hkdfSync } from "node:crypto";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import envPaths from "env-paths";
import { z } from "zod";
import { backupsDir } from "@/lib/data-paths";
import { envSchema, SECRET_HELP } from "@/lib/env-schema";
import type { BackupStoreConfig } from "@/lib/infra/backup-store/types";

/** The instance-wide quota defaults from the environment (the shape of Quotas in lib/domain/quotas.ts). */
export type QuotaDefaults = {
  apps: number;
  databases: number;
  redis: number;
  /** The sum of the connection limits of a team's databases. */
  dbConnections: number;
  /** Bytes of unexpired upload tarballs a team holds at once. */
  uploadBytes: number;
  /** Builds of one team running at once (graphile-worker queues, jobs/queues.ts). */
  concurrentBuilds: number;
  redisMemoryMb: number;
  statementTimeoutS: number;
  /** Teams a user may own. */
  teamsPerUser: number;
  /** Custom domains a team holds (on all its apps). */
  domains: number;
  /** Cron jobs a team holds (on all its apps). */
  cronJobs: number;
  /** One-off and cron runs of a team queued or running at once. */
  concurrentRuns: number;
  /** Desired containers of every process type (web, workers...) over all a team's apps. */
  processes: number;
  /** Kept manual backups of a team (scheduled ones are bounded by each database's retention). */
  backups: number;
  /** Notification channels a team holds (#17). */
  notificationChannels: number;
};

export type Env = {
  nodeEnv: "development" | "production" | "test";
  secretKey: string;
  dataDir: string;
  /** Set when the operator points the platform at an external PostgreSQL; otherwise an embedded one runs. */
  databaseUrl: string | undefined;
  /** A direct (non-pooled) connection for LISTEN/NOTIFY and migrations; defaults to databaseUrl. */
  databaseDirectUrl: string | undefined;
  port: number;
  bindAddress: string;
  publicUrl: string;
  logLevel: z.infer<typeof envSchema>["LOG_LEVEL"];
  workerConcurrency: number;
  /** After how long without a heartbeat a worker's locked jobs and queues are released (jobs/unlock-stale.ts). */
  workerStaleAfterMs: number;
  /** On SIGTERM, how long running jobs may finish before the worker hands them back to the queue. */
  workerDrainMs: number;
  dbPoolSize: number;
  /** When the supervisor (scripts/start.ts) stops restarting a crashing child and exits (restart-policy.ts). */
  supervisor: { restartMaxCrashes: number; restartWindowMs: number };
  /** Outgoing mail (sign-in links, password resets, invitations); features that need it are off without it. */
  smtp: { url: string; from: string } | null;
  quotaDefaults: QuotaDefaults;
  /** One-off and cron runs (lib/engine/runs.ts): the time limit when none is given, and the most one may ask. */
  runs: { defaultTimeoutS: number; maxTimeoutS: number };
  oidc: { issuer: string; clientId: string; clientSecret: string; name: string } | null;
  /**
   * Reverse proxies in front of the web server whose X-Forwarded-For entries are trusted. Defaults to 1 when Caddy
   * serves the portal (TLS on, an https public URL) and the web server listens on loopback only, so no client can
   * reach it without Caddy, which replaces X-Forwarded-For with the address it saw; otherwise 0.
   */
  trustedProxies: number;
  /** HTTPS through Caddy (lib/engine/routing.ts): on-demand certificates from an ACME CA. */
  tls: {
    enabled: boolean;
    /** The ACME directory URL. */
    acmeCa: string;
    acmeEmail: string | null;
    /** A PEM file Caddy trusts for the CA's own HTTPS (trusted_roots_pem_files of the acme issuer). */
    acmeCaRoot: string | null;
  };
  /** Multiplies the per-address limits of sign-in, sign-up and email requests (many people behind one address). */
  perIpRateLimitScale: number;
  appsDomain: string;
  /** Custom domains: DNS servers for ownership checks (empty: the system's), and this installation's public IPs. */
  domains: { dnsResolvers: string[]; publicIps: string[] };
  /** Caddy's on-demand TLS `ask` listener (loopback); port 0 means a free one, whose URL the listener reports. */
  tlsAskPort: number;
  /** The URL Caddy's `on_demand_tls.ask` calls; null with port 0 (only the started listener knows its port). */
  tlsAskUrl: string | null;
  /** The router and the release pipeline (lib/engine/routing.ts, lib/engine/release). */
  release: {
    /** Where the worker reaches Caddy's admin API: "unix:/path" or "http://127.0.0.1:2019". */
    caddyAdmin: string;
    /** Caddy's public HTTP listen addresses, e.g. [":80"]. */
    caddyListen: string[];
    /** Caddy's public HTTPS listen addresses, e.g. [":443"] (used when TLS is on). */
    caddyHttpsListen: string[];
    drainMs: number;
    healthTimeoutMs: number;
    releaseCommandTimeoutMs: number;
    /** Images kept per app besides the current release's: its last N successful deployments (rollback targets). */
    keepImages: number;
  };
  infra: {
    podmanPath: string;
    gitPath: string;
    ociRuntime: string;
    ociRuntimeFlags: string[];
    /** The runtime for RUN steps of builds: gVisor like the app, possibly under another registered name. */
    buildRuntime: string;
    /** With a `{version}` placeholder for the Python version. */
    pythonImage: string;
    buildTimeoutMs: number;
    buildMemoryMb: number;
    buildCpus: number;
    buildPids: number;
    /** Where the worker makes each build's pids cgroup (lib/infra/build-cgroup.ts); null: none (rlimit only). */
    cgroupRoot: string | null;
    uploadMaxBytes: number;
    sourceMaxBytes: number;
    gitAllowPrivateHosts: boolean;
    /** TUSSILAGO_WEBHOOK_ALLOW_PRIVATE_HOSTS: notification webhooks may reach loopback/private hosts over http. */
    webhookAllowPrivateHosts: boolean;
    /** TUSSILAGO_GIT_CA_FILE, or null. */
    gitCaFile: string | null;
    /** Where pg_dump and pg_restore live (TUSSILAGO_PG_BIN_DIR); null: found by lib/infra/pg-backup. */
    pgBinDir: string | null;
    /** The iptables chain host setup installs ("none" when it ran with --no-firewall). */
    firewallChain: string;
  };
  /** Where backups are stored: the bucket (TUSSILAGO_BACKUP_S3_*), or null for `<data dir>/backups`. */
  backupS3: {
    bucket: string;
    prefix: string;
    region: string;
    endpoint: string | undefined;
    forcePathStyle: boolean;
    accessKeyId: string;
    secretAccessKey: string;
  } | null;
  /**
   * Tenant data services (lib/services/tenant-services.ts). The admin URLs are unset when neither the operator nor
   * the supervisor (which starts embedded ones) provided them: the features then answer "unavailable".
   */
  tenantServices: {
    pgAdminUrl: string | undefined;
    /**
     * The address tenant apps use to reach the tenant PostgreSQL (default: the host of the PgBouncer or admin URL,
     * 127.0.0.1 for the embedded server); apps in containers need an address of the host that their network reaches.
     */
    pgPublicHost: string | undefined;
    /** When set, apps connect through this PgBouncer (its host and port) instead of the server itself. */
    pgBouncerUrl: string | undefined;
    /** "embedded": the supervisor starts a PgBouncer in front of the tenant PostgreSQL (and sets pgBouncerUrl). */
    pgBouncerMode: "embedded" | "off";
    pgBouncerPort: number | undefined;
    /**
     * The embedded PgBouncer as the worker manages it: its admin console, and the directory of its configuration,
     * whose users and auth files the worker rewrites from the databases. Both or neither; the supervisor sets them.
     */
    pgBouncerAdmin: { adminUrl: string; configDir: string } | null;
    redisAdminUrl: string | undefined;
    /** Like pgPublicHost, for Redis; defaults to TENANT_PG_PUBLIC_HOST, then to the admin URL's host. */
    redisPublicHost: string | undefined;
    /**
     * Fixed ports for the embedded servers (the host firewall opens only listed ports to tenant networks); without
     * them a free port is chosen once and kept.
     */
    pgPort: number | undefined;
    redisPort: number | undefined;
    /** The tenant Redis's maxmemory (set by the watchdog with CONFIG SET, for embedded and external servers). */
    redisMaxMemoryBytes: number;
    /**
     * What tenants' Redis quotas may add up to: maxmemory minus the headroom that absorbs writes between two
     * watchdog sweeps, client buffers and Redis's own overhead. Admission control checks new instances against it.
     */
    redisQuotaBudgetBytes: number;
    /** Largest single Redis value (proto-max-bulk-len). */
    redisMaxValueBytes: number;
    /** The watchdog's period (tenant statement and idle-in-transaction limits, Redis quotas). */
    watchdogIntervalMs: number;
    /** The tenant server's max_connections: the embedded cluster is started with it; set it to an external one's. */
    pgMaxConnections: number;
    /** Connections the sum of all tenant databases' connection limits leaves free for the platform. */
    pgReservedConnections: number;
  };
};

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Where platform data lives when TUSSILAGO_DATA_DIR is not set. */
export function defaultDataDir(): string {
  // The embedded PostgreSQL runs as the `postgres` user when started by root, and that user cannot enter /root:
  // root gets the conventional system location instead of its home directory.
  if (typeof process.getuid === "function" && process.getuid() === 0) return "/var/lib/tussilago";
  return envPaths("tussilago", { suffix: "" }).data;
}

function commaList(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/** Where the `ask` listener answers, on loopback only: Caddy runs on the same host. */
export function tlsAskUrlFor(port: number): string {
  return `http://127.0.0.1:${port}/tls/ask`;
}

export const LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";

// No public CA issues certificates for these, so TLS defaults to off for them.
function isLocalhostDomain(domain: string): boolean {
  return domain === "localhost" || domain.endsWith(".localhost");
}

function isLoopbackBind(bind: string): boolean {
  return bind === "localhost" || bind === "::1" || bind.startsWith("127.");
}

function backupS3Of(raw: z.infer<typeof envSchema>): Env["backupS3"] {
  const url = raw.TUSSILAGO_BACKUP_S3_URL;
  if (url === undefined) return null;
  const accessKeyId = raw.TUSSILAGO_BACKUP_S3_ACCESS_KEY_ID;
  const secretAccessKey = raw.TUSSILAGO_BACKUP_S3_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new ConfigError(
      "TUSSILAGO_BACKUP_S3_URL is set without credentials: set TUSSILAGO_BACKUP_S3_ACCESS_KEY_ID and TUSSILAGO_BACKUP_S3_SECRET_ACCESS_KEY, or unset it to keep backups in the data directory.",
    );
  }
  const [, bucket = "", prefix = ""] = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url) ?? [];
  const endpoint = raw.TUSSILAGO_BACKUP_S3_ENDPOINT?.replace(/\/+$/, "");
  const pathStyle = raw.TUSSILAGO_BACKUP_S3_FORCE_PATH_STYLE;
  return {
    bucket,
    prefix: prefix.replace(/^\/+|\/+$/g, ""),
    region: raw.TUSSILAGO_BACKUP_S3_REGION,
    endpoint,
    forcePathStyle: pathStyle === "" ? endpoint !== undefined : pathStyle === "1" || pathStyle === "true",
    accessKeyId,
    secretAccessKey,
  };
}

/** The backup store's configuration (lib/infra/backup-store), for the jobs and checks that build the store. */
export function backupStoreConfig(env: Env = getEnv()): BackupStoreConfig {
  if (env.backupS3 === null) return { kind: "local", dir: backupsDir(env.dataDir) };
  const { endpoint, ...rest } = env.backupS3;
  return { kind: "s3", ...rest, ...(endpoint ? { endpoint } : {}) };
}

export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    const secretIssue = result.error.issues.find((issue) => issue.path[0] === "TUSSILAGO_SECRET_KEY");
    if (secretIssue) throw new ConfigError(SECRET_HELP);
    const lines = result.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const raw = result.data;
  const oidcParts = [raw.OIDC_ISSUER, raw.OIDC_CLIENT_ID, raw.OIDC_CLIENT_SECRET].filter(Boolean).length;
  if (oidcParts !== 0 && oidcParts !== 3) {
    throw new ConfigError("OIDC sign-in needs all of OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET, or none.");
  }
  if (raw.TENANT_REDIS_HEADROOM_MB >= raw.TENANT_REDIS_MAXMEMORY_MB) {
    throw new ConfigError("TENANT_REDIS_HEADROOM_MB must be smaller than TENANT_REDIS_MAXMEMORY_MB.");
  }
  const dataDir = path.resolve(/*turbopackIgnore: true*/ raw.TUSSILAGO_DATA_DIR ?? defaultDataDir());
  const backupS3 = backupS3Of(raw);
  const publicHost = raw.TUSSILAGO_BIND === "0.0.0.0" || raw.TUSSILAGO_BIND === "::" ? os.hostname() : "localhost";
  const tlsEnabled =
    raw.TUSSILAGO_TLS === "" ? !isLocalhostDomain(raw.TUSSILAGO_APPS_DOMAIN) : raw.TUSSILAGO_TLS === "on";
  const portalBehindCaddy = tlsEnabled && (raw.TUSSILAGO_PUBLIC_URL ?? "").startsWith("https://");
  return {
    nodeEnv: raw.NODE_ENV,
    secretKey: raw.TUSSILAGO_SECRET_KEY,
    dataDir,
    databaseUrl: raw.DATABASE_URL,
    databaseDirectUrl: raw.DATABASE_DIRECT_URL ?? raw.DATABASE_URL,
    port: raw.PORT,
    bindAddress: raw.TUSSILAGO_BIND,
    publicUrl: (raw.TUSSILAGO_PUBLIC_URL ?? `http://${publicHost}:${raw.PORT}`).replace(/\/+$/, ""),
    logLevel: raw.LOG_LEVEL,
    workerConcurrency: raw.TUSSILAGO_WORKER_CONCURRENCY,
    workerStaleAfterMs: raw.TUSSILAGO_WORKER_STALE_AFTER_S * 1000,
    workerDrainMs: raw.TUSSILAGO_WORKER_DRAIN_S * 1000,
    dbPoolSize: raw.TUSSILAGO_DB_POOL_SIZE,
    supervisor: {
      restartMaxCrashes: raw.TUSSILAGO_RESTART_MAX_CRASHES,
      restartWindowMs: raw.TUSSILAGO_RESTART_WINDOW_S * 1000,
    },
    trustedProxies: raw.TUSSILAGO_TRUSTED_PROXIES ?? (portalBehindCaddy && isLoopbackBind(raw.TUSSILAGO_BIND) ? 1 : 0),
    tls: {
      enabled: tlsEnabled,
      acmeCa: raw.TUSSILAGO_ACME_CA ?? LETS_ENCRYPT_DIRECTORY,
      acmeEmail: raw.TUSSILAGO_ACME_EMAIL ?? null,
      acmeCaRoot: raw.TUSSILAGO_ACME_CA_ROOT ?? null,
    },
    perIpRateLimitScale: raw.TUSSILAGO_PER_IP_RATE_LIMIT_SCALE,
    appsDomain: raw.TUSSILAGO_APPS_DOMAIN,
    domains: { dnsResolvers: commaList(raw.TUSSILAGO_DNS_RESOLVERS), publicIps: commaList(raw.TUSSILAGO_PUBLIC_IPS) },
    tlsAskPort: raw.TUSSILAGO_TLS_ASK_PORT,
    tlsAskUrl: raw.TUSSILAGO_TLS_ASK_PORT === 0 ? null : tlsAskUrlFor(raw.TUSSILAGO_TLS_ASK_PORT),
    release: {
      caddyAdmin: raw.TUSSILAGO_CADDY_ADMIN.replace(/\/$/, ""),
      caddyListen: raw.TUSSILAGO_CADDY_LISTEN.split(/[\s,]+/).filter(Boolean),
      caddyHttpsListen: raw.TUSSILAGO_CADDY_HTTPS_LISTEN.split(/[\s,]+/).filter(Boolean),
      drainMs: raw.TUSSILAGO_DRAIN_SECONDS * 1000,
      healthTimeoutMs: raw.TUSSILAGO_HEALTH_TIMEOUT_S * 1000,
      releaseCommandTimeoutMs: raw.TUSSILAGO_RELEASE_TIMEOUT_S * 1000,
      keepImages: raw.TUSSILAGO_KEEP_IMAGES,
    },
    infra: {
      podmanPath: raw.TUSSILAGO_PODMAN_PATH,
      gitPath: raw.TUSSILAGO_GIT_PATH,
      ociRuntime: raw.TUSSILAGO_OCI_RUNTIME,
      ociRuntimeFlags: raw.TUSSILAGO_OCI_RUNTIME_FLAGS.split(/\s+/).filter(Boolean),
      buildRuntime: raw.TUSSILAGO_BUILD_RUNTIME ?? raw.TUSSILAGO_OCI_RUNTIME,
      pythonImage: raw.TUSSILAGO_PYTHON_IMAGE,
      buildTimeoutMs: raw.TUSSILAGO_BUILD_TIMEOUT_S * 1000,
      buildMemoryMb: raw.TUSSILAGO_BUILD_MEMORY_MB,
      buildCpus: raw.TUSSILAGO_BUILD_CPUS,
      buildPids: raw.TUSSILAGO_BUILD_PIDS,
      cgroupRoot: raw.TUSSILAGO_CGROUP_ROOT === "none" ? null : raw.TUSSILAGO_CGROUP_ROOT,
      uploadMaxBytes: raw.TUSSILAGO_UPLOAD_MAX_MB * 1024 * 1024,
      sourceMaxBytes: raw.TUSSILAGO_SOURCE_MAX_MB * 1024 * 1024,
      firewallChain: raw.TUSSILAGO_FIREWALL_CHAIN,
      gitAllowPrivateHosts:
        raw.TUSSILAGO_GIT_ALLOW_PRIVATE_HOSTS === "1" || raw.TUSSILAGO_GIT_ALLOW_PRIVATE_HOSTS === "true",
      webhookAllowPrivateHosts:
        raw.TUSSILAGO_WEBHOOK_ALLOW_PRIVATE_HOSTS === "1" || raw.TUSSILAGO_WEBHOOK_ALLOW_PRIVATE_HOSTS === "true",
      gitCaFile: raw.TUSSILAGO_GIT_CA_FILE ?? null,
      pgBinDir: raw.TUSSILAGO_PG_BIN_DIR ?? null,
    },
    tenantServices: {
      pgAdminUrl: raw.TENANT_PG_ADMIN_URL,
      pgPublicHost: raw.TENANT_PG_PUBLIC_HOST,
      pgBouncerUrl: raw.TENANT_PGBOUNCER_URL,
      pgBouncerMode: raw.TENANT_PGBOUNCER === "embedded" ? "embedded" : "off",
      pgBouncerPort: raw.TENANT_PGBOUNCER_PORT,
      pgBouncerAdmin:
        raw.TENANT_PGBOUNCER_ADMIN_URL && raw.TENANT_PGBOUNCER_CONFIG_DIR
          ? { adminUrl: raw.TENANT_PGBOUNCER_ADMIN_URL, configDir: raw.TENANT_PGBOUNCER_CONFIG_DIR }
          : null,
      redisAdminUrl: raw.TENANT_REDIS_ADMIN_URL,
      redisPublicHost: raw.TENANT_REDIS_PUBLIC_HOST ?? raw.TENANT_PG_PUBLIC_HOST,
      pgPort: raw.TENANT_PG_PORT,
      redisPort: raw.TENANT_REDIS_PORT,
      redisMaxMemoryBytes: raw.TENANT_REDIS_MAXMEMORY_MB * 1024 * 1024,
      redisQuotaBudgetBytes: (raw.TENANT_REDIS_MAXMEMORY_MB - raw.TENANT_REDIS_HEADROOM_MB) * 1024 * 1024,
      redisMaxValueBytes: raw.TENANT_REDIS_MAX_VALUE_MB * 1024 * 1024,
      watchdogIntervalMs: raw.TUSSILAGO_WATCHDOG_INTERVAL_S * 1000,
      pgMaxConnections: raw.TENANT_PG_MAX_CONNECTIONS,
      pgReservedConnections: raw.TENANT_PG_RESERVED_CONNECTIONS,
    },
    // The default never exceeds the maximum: a run without a timeout must be one a request could have asked for.
    runs: {
      defaultTimeoutS: Math.min(raw.TUSSILAGO_RUN_TIMEOUT_S, raw.TUSSILAGO_RUN_TIMEOUT_MAX_S),
      maxTimeoutS: raw.TUSSILAGO_RUN_TIMEOUT_MAX_S,
    },
    quotaDefaults: {
      apps: raw.TUSSILAGO_QUOTA_APPS,
      databases: raw.TUSSILAGO_QUOTA_DATABASES,
      redis: raw.TUSSILAGO_QUOTA_REDIS,
      dbConnections: raw.TUSSILAGO_QUOTA_DB_CONNECTIONS,
      uploadBytes: raw.TUSSILAGO_QUOTA_UPLOAD_MB * 1024 * 1024,
      concurrentBuilds: raw.TUSSILAGO_QUOTA_CONCURRENT_BUILDS,
      redisMemoryMb: raw.TUSSILAGO_QUOTA_REDIS_MEMORY_MB,
      statementTimeoutS: raw.TUSSILAGO_QUOTA_STATEMENT_TIMEOUT_S,
      teamsPerUser: raw.TUSSILAGO_QUOTA_TEAMS_PER_USER,
      domains: raw.TUSSILAGO_QUOTA_DOMAINS,
      cronJobs: raw.TUSSILAGO_QUOTA_CRON_JOBS,
      concurrentRuns: raw.TUSSILAGO_QUOTA_CONCURRENT_RUNS,
      processes: raw.TUSSILAGO_QUOTA_PROCESSES,
      backups: raw.TUSSILAGO_QUOTA_BACKUPS,
      notificationChannels: raw.TUSSILAGO_QUOTA_NOTIFICATION_CHANNELS,
    },
    backupS3,
    smtp: raw.SMTP_URL ? { url: raw.SMTP_URL, from: raw.SMTP_FROM } : null,
    oidc:
      raw.OIDC_ISSUER && raw.OIDC_CLIENT_ID && raw.OIDC_CLIENT_SECRET
        ? {
            issuer: raw.OIDC_ISSUER,
            clientId: raw.OIDC_CLIENT_ID,
            clientSecret: raw.OIDC_CLIENT_SECRET,
            name: raw.OIDC_NAME,
          }
        : null,
  };
}

export const DEFAULT_HOST_CONFIG = "/etc/tussilago/host.env";

/**
 * What `scripts/host-setup.sh` recorded about this host (runtime, Caddy admin endpoint, base image...), as
 * KEY=VALUE lines. Only TUSSILAGO_* and TENANT_* settings (the tenant servers: TENANT_PG_ADMIN_URL, TENANT_PGBOUNCER_URL,
 * TENANT_REDIS_ADMIN_URL, public hosts, ports) are taken from it, never the secret key; the environment overrides it.
 * TUSSILAGO_HOST_CONFIG names another file, or `none` (the test suites use that to stay hermetic).
 */
export function readHostConfig(source: Record<string, string | undefined>): Record<string, string> {
  const file = source.TUSSILAGO_HOST_CONFIG ?? DEFAULT_HOST_CONFIG;
  if (file === "none") return {};
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return {};
  }
  const settings: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^\s*((?:TUSSILAGO|TENANT)_[A-Z0-9_]+)=(.*)$/.exec(line);
    if (!match?.[1] || match[1] === "TUSSILAGO_SECRET_KEY") continue;
    settings[match[1]] = (match[2] ?? "").trim();
  }
  return settings;
}

/** The host configuration file, overridden by the process environment. */
function rawEnvironment(): Record<string, string | undefined> {
  return { ...readHostConfig(process.env), ...process.env };
}

let cached: Env | undefined;

/** The parsed configuration; parsed on first use so that `next build` can import modules without a secret. */
export function getEnv(): Env {
  cached ??= parseEnv(rawEnvironment());
  return cached;
}

/** For entry points (supervisor, worker, CLI): print the problem and exit 1 instead of throwing. */
export function loadEnvOrExit(): Env {
  try {
    return getEnv();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

/** Labels for derived keys. Each purpose gets its own label so that one leaked key does not reveal another. */
export const KEY_LABELS = {
  authSecret: "tussilago/v1/next-auth",
  secretsAtRest: "tussilago/v1/secrets-at-rest-aes-256-gcm",
  pageCursor: "tussilago/v1/page-cursor-hmac-sha256",
} as const;

export type KeyLabel = keyof typeof KEY_LABELS;

/** A 32-byte key derived from TUSSILAGO_SECRET_KEY with HKDF-SHA256 and a purpose label. */
export function deriveKey(label: KeyLabel, secretKey: string = getEnv().secretKey): Buffer {
  return Buffer.from(hkdfSync("sha256", secretKey, "tussilago", KEY_LABELS[label], 32));
}

const pythonVersion = z.string().regex(/^3\.\d{1,2}$/, "must look like 3.12");

/**
 * The Python version used when a project does not pin one. Readable without the secret key, because pure tools
 * such as `manage plan` need it too.
 */
export function defaultPythonVersion(source: Record<string, string | undefined> = rawEnvironment()): string {
  const parsed = pythonVersion.safeParse(source.TUSSILAGO_PYTHON_VERSION ?? "3.12");
  if (!parsed.success) throw new ConfigError(`TUSSILAGO_PYTHON_VERSION ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** Only for tests: forget the parsed configuration so a test can change process.env. */
export function resetEnvForTests(): void {
  cached = undefined;
}
