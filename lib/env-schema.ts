// The raw environment's schema: every variable the platform reads, with its syntax and default. lib/env.ts turns
// the parsed values into the typed Env the rest of the code uses; docs/configuration.md documents each variable.
import { isIP } from "node:net";
import { z } from "zod";

/** What to do when TUSSILAGO_SECRET_KEY is missing: the platform prints this and exits with code 1. */
export const SECRET_HELP = [
  "TUSSILAGO_SECRET_KEY is not set.",
  "Every secret of the platform (sessions, secrets at rest) is derived from it, so it must be set and kept.",
  "Generate one and start again, for example:",
  "",
  "  export TUSSILAGO_SECRET_KEY=\"$(node -e \"console.log(require('node:crypto').randomBytes(32).toString('base64url'))\")\"",
  "  npm start",
  "",
  "Store it somewhere safe: changing it makes stored secrets unreadable.",
].join("\n");

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === "" ? undefined : value.trim()));

const postgresUrl = optionalString.refine(
  (value) => value === undefined || /^postgres(ql)?:\/\//.test(value),
  "must be a postgres:// or postgresql:// URL",
);

const redisUrl = optionalString.refine(
  (value) => value === undefined || /^redis:\/\/[^@/\s]+:[^@/\s]+@[^/\s]+$/.test(value),
  "must look like redis://user:password@host:port",
);

// A host name or an IP literal (no scheme, port or path): what tenant apps put in their connection strings.
const HOST_NAME =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|[0-9a-fA-F:.]+)$/;
const hostName = optionalString.refine(
  (value) => value === undefined || HOST_NAME.test(value),
  "must be a host name or an IP address",
);

// A DNS server as node:dns's Resolver.setServers takes it: an IPv4 address or [IPv6], with an optional port.
const HOST_PORT = /^(?:[0-9.]+|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?$/;

export const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("production"),
  TUSSILAGO_SECRET_KEY: z.string({ error: SECRET_HELP }).min(1, SECRET_HELP),
  TUSSILAGO_DATA_DIR: optionalString,
  DATABASE_URL: postgresUrl,
  DATABASE_DIRECT_URL: postgresUrl,
  PORT: z.coerce.number().int().min(1).max(65_535).default(3000),
  TUSSILAGO_BIND: z.string().default("127.0.0.1"),
  TUSSILAGO_PUBLIC_URL: optionalString.refine(
    (value) => value === undefined || /^https?:\/\//.test(value),
    "must be an http:// or https:// URL",
  ),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  TUSSILAGO_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  // A worker silent this long is dead and its jobs and queues are released (jobs/unlock-stale.ts); beats every 5 s.
  TUSSILAGO_WORKER_STALE_AFTER_S: z.coerce.number().int().min(15).max(14_400).default(30),
  TUSSILAGO_WORKER_DRAIN_S: z.coerce.number().int().min(0).max(3600).default(30),
  TUSSILAGO_DB_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  SMTP_URL: optionalString.refine(
    (value) => value === undefined || /^smtps?:\/\//.test(value),
    "must be an smtp:// or smtps:// URL",
  ),
  SMTP_FROM: z.string().default("Tussilago <no-reply@localhost>"),
  // The issuer signs who users are: plain http only on the loopback interface (a local identity provider, tests).
  OIDC_ISSUER: optionalString.refine(
    (value) =>
      value === undefined ||
      /^https:\/\/[^/]/.test(value) ||
      /^http:\/\/(?:localhost|127\.0\.0\.1|\[::1\])(?::\d+)?(?:\/|$)/.test(value),
    "must be an https:// URL (plain http only on localhost)",
  ),
  OIDC_CLIENT_ID: optionalString,
  OIDC_CLIENT_SECRET: optionalString,
  OIDC_NAME: z.string().default("Single sign-on"),
  // Unset: 1 when Caddy serves the portal over HTTPS in front of a loopback-bound web server, else 0 (trustedProxies).
  TUSSILAGO_TRUSTED_PROXIES: z.coerce.number().int().min(0).max(5).optional(),
  TUSSILAGO_PER_IP_RATE_LIMIT_SCALE: z.coerce.number().int().min(1).max(10_000).default(1),
  TUSSILAGO_APPS_DOMAIN: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9.-]{0,200}[a-z0-9])?$/, "must be a lower-case DNS name")
    .default("localhost"),
  TUSSILAGO_PODMAN_PATH: z.string().default("podman"),
  TUSSILAGO_GIT_PATH: z.string().default("git"),
  // The directory of pg_dump and pg_restore (backups); unset: the newest /usr/lib/postgresql/<N>/bin that has pg_dump,
  // else PATH (lib/infra/pg-backup/tools.ts).
  TUSSILAGO_PG_BIN_DIR: optionalString,
  // Where backups are stored (lib/infra/backup-store): an S3-compatible bucket, s3://bucket/prefix; unset: the data
  // directory's backups/. Credentials are required with it (parseEnv).
  TUSSILAGO_BACKUP_S3_URL: optionalString.refine(
    (value) => value === undefined || /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](?:\/[a-z0-9/_.-]*)?$/.test(value),
    "must look like s3://bucket/prefix (lower-case bucket; prefix of a-z 0-9 / _ . -)",
  ),
  TUSSILAGO_BACKUP_S3_ENDPOINT: optionalString.refine(
    (value) => value === undefined || /^https?:\/\/[A-Za-z0-9.[\]:-]+(?::[0-9]{1,5})?\/?$/.test(value),
    "must be an http:// or https:// URL without a path (MinIO, Garage, R2)",
  ),
  TUSSILAGO_BACKUP_S3_REGION: z
    .string()
    .regex(/^[a-z0-9-]{1,64}$/, "must be a region name such as us-east-1")
    .default("us-east-1"),
  TUSSILAGO_BACKUP_S3_ACCESS_KEY_ID: optionalString,
  TUSSILAGO_BACKUP_S3_SECRET_ACCESS_KEY: optionalString,
  // Unset: on when an endpoint is set (most S3-compatible servers want path-style), off for AWS.
  TUSSILAGO_BACKUP_S3_FORCE_PATH_STYLE: z.enum(["0", "1", "true", "false", ""]).default(""),
  TUSSILAGO_OCI_RUNTIME: z
    .string()
    .regex(/^[A-Za-z0-9_./-]+$/, "must be a runtime name or path")
    .default("runsc"),
  TUSSILAGO_OCI_RUNTIME_FLAGS: z.string().default(""),
  // The runtime for the RUN steps of builds (host setup installs `runsc-build`: gVisor, tolerant of buildah's delete);
  // unset: the app runtime.
  TUSSILAGO_BUILD_RUNTIME: z
    .string()
    .regex(/^[A-Za-z0-9_./-]+$/, "must be a runtime name or path")
    .optional(),
  TUSSILAGO_CADDY_ADMIN: z
    .string()
    .regex(
      /^(?:unix:\/[A-Za-z0-9._/-]+|http:\/\/(?:127\.0\.0\.1|localhost|\[::1\]):[0-9]{1,5}\/?)$/,
      "must be unix:/path/to/admin.sock or http://127.0.0.1:<port> (the admin API must stay on the host)",
    )
    .default("http://127.0.0.1:2019"),
  TUSSILAGO_CADDY_LISTEN: z
    .string()
    .regex(/^[A-Za-z0-9.:[\], ]+$/, "must be listen addresses such as :80 or 0.0.0.0:80, separated by spaces")
    .default(":80"),
  // Caddy's HTTPS listen addresses, used only when TUSSILAGO_TLS is on.
  TUSSILAGO_CADDY_HTTPS_LISTEN: z
    .string()
    .regex(/^[A-Za-z0-9.:[\], ]+$/, "must be listen addresses such as :443 or 0.0.0.0:443, separated by spaces")
    .default(":443"),
  // HTTPS through Caddy's on-demand TLS (lib/engine/routing.ts); unset: off for a localhost apps domain, else on.
  TUSSILAGO_TLS: z.enum(["on", "off", ""]).default(""),
  TUSSILAGO_ACME_CA: optionalString.refine(
    (value) => value === undefined || /^https:\/\/[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:\/[A-Za-z0-9._~/-]*)?$/.test(value),
    "must be the https:// URL of an ACME directory",
  ),
  TUSSILAGO_ACME_EMAIL: optionalString.refine(
    (value) => value === undefined || /^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}$/.test(value),
    "must be an email address",
  ),
  // A PEM file Caddy trusts for the ACME CA's own HTTPS (a test or internal CA); absolute path.
  TUSSILAGO_ACME_CA_ROOT: optionalString.refine(
    (value) => value === undefined || /^\/[A-Za-z0-9._/-]{1,1000}$/.test(value),
    "must be an absolute path to a PEM file",
  ),
  TUSSILAGO_DRAIN_SECONDS: z.coerce.number().int().min(0).max(600).default(10),
  TUSSILAGO_HEALTH_TIMEOUT_S: z.coerce.number().int().min(1).max(3600).default(60),
  TUSSILAGO_RELEASE_TIMEOUT_S: z.coerce.number().int().min(10).max(7200).default(600),
  TUSSILAGO_KEEP_IMAGES: z.coerce.number().int().min(1).max(100).default(5),
  TUSSILAGO_PYTHON_IMAGE: z.string().default("docker.io/library/python:{version}-slim"),
  TUSSILAGO_BUILD_TIMEOUT_S: z.coerce.number().int().min(30).max(7200).default(900),
  TUSSILAGO_BUILD_MEMORY_MB: z.coerce.number().int().min(256).max(65_536).default(2048),
  TUSSILAGO_BUILD_CPUS: z.coerce.number().min(0.25).max(64).default(1),
  // RLIMIT_NPROC of build steps (podman 4.3 build has no --pids-limit). gVisor's own threads count too: >= 2048.
  TUSSILAGO_BUILD_PIDS: z.coerce.number().int().min(2048).max(1_048_576).default(4096),
  TUSSILAGO_CGROUP_ROOT: z
    .string()
    .regex(/^(none|\/[^\0]*)$/, "an absolute path or none")
    .default("/sys/fs/cgroup"),
  TUSSILAGO_UPLOAD_MAX_MB: z.coerce.number().int().min(1).max(2048).default(100),
  TUSSILAGO_SOURCE_MAX_MB: z.coerce.number().int().min(1).max(8192).default(500),
  TUSSILAGO_GIT_ALLOW_PRIVATE_HOSTS: z.enum(["0", "1", "true", "false"]).default("0"),
  // Notification webhooks to loopback/private addresses and over plain http (internal receivers, tests).
  TUSSILAGO_WEBHOOK_ALLOW_PRIVATE_HOSTS: z.enum(["0", "1", "true", "false"]).default("0"),
  // A PEM bundle git trusts for HTTPS in addition to the system's CAs (internal forges with their own CA).
  TUSSILAGO_GIT_CA_FILE: z
    .string()
    .regex(/^\/[^\0]*$/, "an absolute path")
    .optional(),
  TUSSILAGO_FIREWALL_CHAIN: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,28}$/)
    .default("TUSSILAGO-ISOLATION"),
  TENANT_PG_ADMIN_URL: postgresUrl,
  TENANT_PG_PUBLIC_HOST: hostName,
  TENANT_PGBOUNCER_URL: postgresUrl,
  TENANT_REDIS_ADMIN_URL: redisUrl,
  TENANT_REDIS_PUBLIC_HOST: hostName,
  TENANT_PGBOUNCER: z.enum(["embedded", "off", ""]).default("off"),
  TENANT_PGBOUNCER_PORT: z.coerce.number().int().min(1).max(65_535).optional(),
  TENANT_PGBOUNCER_ADMIN_URL: postgresUrl,
  TENANT_PGBOUNCER_CONFIG_DIR: optionalString,
  TENANT_PG_PORT: z.coerce.number().int().min(1).max(65_535).optional(),
  TENANT_REDIS_PORT: z.coerce.number().int().min(1).max(65_535).optional(),
  // The shared tenant Redis's maxmemory, the part of it no tenant quota may claim, and its largest single value.
  TENANT_REDIS_MAXMEMORY_MB: z.coerce.number().int().min(64).max(1_048_576).default(1024),
  TENANT_REDIS_HEADROOM_MB: z.coerce.number().int().min(16).max(1_048_576).default(256),
  TENANT_REDIS_MAX_VALUE_MB: z.coerce.number().int().min(1).max(512).default(16),
  // How often the worker's watchdog enforces tenant time limits and Redis quotas (lib/services/watchdog.ts).
  TUSSILAGO_WATCHDOG_INTERVAL_S: z.coerce.number().int().min(1).max(300).default(5),
  // The supervisor restarts a crashed web server or worker, and gives up after this many crashes within the window.
  TUSSILAGO_RESTART_MAX_CRASHES: z.coerce.number().int().min(1).max(1000).default(5),
  TUSSILAGO_RESTART_WINDOW_S: z.coerce.number().int().min(1).max(86_400).default(120),
  // The tenant server's max_connections (the embedded cluster is started with it) and what the platform keeps for
  // itself: superuser_reserved_connections (3 by default), the provisioning jobs, the watchdog, PgBouncer's admin.
  TENANT_PG_MAX_CONNECTIONS: z.coerce.number().int().min(10).max(100_000).default(300),
  TENANT_PG_RESERVED_CONNECTIONS: z.coerce.number().int().min(0).max(10_000).default(10),
  // Instance-wide quota defaults (lib/domain/quotas.ts); the instance admin overrides them at /admin/quotas.
  TUSSILAGO_QUOTA_APPS: z.coerce.number().int().min(0).max(100_000).default(20),
  TUSSILAGO_QUOTA_DATABASES: z.coerce.number().int().min(0).max(10_000).default(5),
  TUSSILAGO_QUOTA_REDIS: z.coerce.number().int().min(0).max(10_000).default(5),
  TUSSILAGO_QUOTA_DB_CONNECTIONS: z.coerce.number().int().min(0).max(100_000).default(100),
  TUSSILAGO_QUOTA_UPLOAD_MB: z.coerce.number().int().min(0).max(1_000_000).default(500),
  TUSSILAGO_QUOTA_CONCURRENT_BUILDS: z.coerce.number().int().min(1).max(64).default(1),
  TUSSILAGO_QUOTA_REDIS_MEMORY_MB: z.coerce.number().int().min(1).max(1_000_000).default(64),
  TUSSILAGO_QUOTA_STATEMENT_TIMEOUT_S: z.coerce.number().int().min(1).max(86_400).default(3600),
  TUSSILAGO_QUOTA_TEAMS_PER_USER: z.coerce.number().int().min(1).max(10_000).default(10),
  TUSSILAGO_QUOTA_DOMAINS: z.coerce.number().int().min(0).max(10_000).default(20),
  TUSSILAGO_QUOTA_CRON_JOBS: z.coerce.number().int().min(0).max(10_000).default(20),
  TUSSILAGO_QUOTA_CONCURRENT_RUNS: z.coerce.number().int().min(0).max(1_000).default(2),
  TUSSILAGO_QUOTA_PROCESSES: z.coerce.number().int().min(0).max(100_000).default(20),
  TUSSILAGO_QUOTA_BACKUPS: z.coerce.number().int().min(0).max(100_000).default(50),
  TUSSILAGO_QUOTA_NOTIFICATION_CHANNELS: z.coerce.number().int().min(0).max(1_000).default(10),
  TUSSILAGO_RUN_TIMEOUT_S: z.coerce.number().int().min(1).max(86_400).default(600),
  TUSSILAGO_RUN_TIMEOUT_MAX_S: z.coerce.number().int().min(1).max(86_400).default(3600),
  // Custom domains (lib/domain/domains.ts): who answers DNS for ownership checks, and this installation's addresses.
  TUSSILAGO_DNS_RESOLVERS: optionalString.refine(
    (value) => value === undefined || value.split(",").every((entry) => HOST_PORT.test(entry.trim())),
    "must be a comma list of host:port (IPv6 as [addr]:port)",
  ),
  TUSSILAGO_PUBLIC_IPS: optionalString.refine(
    (value) => value === undefined || value.split(",").every((entry) => isIP(entry.trim()) !== 0),
    "must be a comma list of IP addresses",
  ),
  // Caddy's on-demand TLS `ask` listener on loopback (lib/engine/tls-ask.ts); 0 picks a free port (tests).
  TUSSILAGO_TLS_ASK_PORT: z.coerce.number().int().min(0).max(65_535).default(7103),
});
