// The one place that reads process.env. Everything else asks getEnv() for a parsed, typed configuration.
import { hkdfSync } from "node:crypto";
import os from "node:os";
import path from "node:path";
import envPaths from "env-paths";
import { z } from "zod";

const SECRET_HELP = [
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

const envSchema = z.object({
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
  TUSSILAGO_DB_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  SMTP_URL: optionalString.refine(
    (value) => value === undefined || /^smtps?:\/\//.test(value),
    "must be an smtp:// or smtps:// URL",
  ),
  SMTP_FROM: z.string().default("Tussilago <no-reply@localhost>"),
  OIDC_ISSUER: optionalString.refine((value) => value === undefined || /^https?:\/\//.test(value), "must be a URL"),
  OIDC_CLIENT_ID: optionalString,
  OIDC_CLIENT_SECRET: optionalString,
  OIDC_NAME: z.string().default("Single sign-on"),
  TUSSILAGO_TRUSTED_PROXIES: z.coerce.number().int().min(0).max(5).default(0),
  TUSSILAGO_APPS_DOMAIN: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9.-]{0,200}[a-z0-9])?$/, "must be a lower-case DNS name")
    .default("localhost"),
  TUSSILAGO_PODMAN_PATH: z.string().default("podman"),
  TUSSILAGO_GIT_PATH: z.string().default("git"),
  TUSSILAGO_OCI_RUNTIME: z
    .string()
    .regex(/^[A-Za-z0-9_./-]+$/, "must be a runtime name or path")
    .default("runsc"),
  TUSSILAGO_OCI_RUNTIME_FLAGS: z.string().default(""),
  TUSSILAGO_PYTHON_IMAGE: z.string().default("docker.io/library/python:{version}-slim"),
  TUSSILAGO_BUILD_TIMEOUT_S: z.coerce.number().int().min(30).max(7200).default(900),
  TUSSILAGO_BUILD_MEMORY_MB: z.coerce.number().int().min(256).max(65_536).default(2048),
  TUSSILAGO_BUILD_CPUS: z.coerce.number().min(0.25).max(64).default(1),
  TUSSILAGO_UPLOAD_MAX_MB: z.coerce.number().int().min(1).max(2048).default(100),
  TUSSILAGO_SOURCE_MAX_MB: z.coerce.number().int().min(1).max(8192).default(500),
  TUSSILAGO_GIT_ALLOW_PRIVATE_HOSTS: z.enum(["0", "1", "true", "false"]).default("0"),
});

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
  dbPoolSize: number;
  /** Outgoing mail (sign-in links, password resets, invitations); features that need it are off without it. */
  smtp: { url: string; from: string } | null;
  oidc: { issuer: string; clientId: string; clientSecret: string; name: string } | null;
  /** Reverse proxies in front of the web server whose X-Forwarded-For entries are trusted. */
  trustedProxies: number;
  appsDomain: string;
  infra: {
    podmanPath: string;
    gitPath: string;
    ociRuntime: string;
    ociRuntimeFlags: string[];
    /** With a `{version}` placeholder for the Python version. */
    pythonImage: string;
    buildTimeoutMs: number;
    buildMemoryMb: number;
    buildCpus: number;
    uploadMaxBytes: number;
    sourceMaxBytes: number;
    gitAllowPrivateHosts: boolean;
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
  const dataDir = path.resolve(/*turbopackIgnore: true*/ raw.TUSSILAGO_DATA_DIR ?? defaultDataDir());
  const publicHost = raw.TUSSILAGO_BIND === "0.0.0.0" || raw.TUSSILAGO_BIND === "::" ? os.hostname() : "localhost";
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
    dbPoolSize: raw.TUSSILAGO_DB_POOL_SIZE,
    trustedProxies: raw.TUSSILAGO_TRUSTED_PROXIES,
    appsDomain: raw.TUSSILAGO_APPS_DOMAIN,
    infra: {
      podmanPath: raw.TUSSILAGO_PODMAN_PATH,
      gitPath: raw.TUSSILAGO_GIT_PATH,
      ociRuntime: raw.TUSSILAGO_OCI_RUNTIME,
      ociRuntimeFlags: raw.TUSSILAGO_OCI_RUNTIME_FLAGS.split(/\s+/).filter(Boolean),
      pythonImage: raw.TUSSILAGO_PYTHON_IMAGE,
      buildTimeoutMs: raw.TUSSILAGO_BUILD_TIMEOUT_S * 1000,
      buildMemoryMb: raw.TUSSILAGO_BUILD_MEMORY_MB,
      buildCpus: raw.TUSSILAGO_BUILD_CPUS,
      uploadMaxBytes: raw.TUSSILAGO_UPLOAD_MAX_MB * 1024 * 1024,
      sourceMaxBytes: raw.TUSSILAGO_SOURCE_MAX_MB * 1024 * 1024,
      gitAllowPrivateHosts:
        raw.TUSSILAGO_GIT_ALLOW_PRIVATE_HOSTS === "1" || raw.TUSSILAGO_GIT_ALLOW_PRIVATE_HOSTS === "true",
    },
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

let cached: Env | undefined;

/** The parsed configuration; parsed on first use so that `next build` can import modules without a secret. */
export function getEnv(): Env {
  cached ??= parseEnv(process.env);
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
export function defaultPythonVersion(source: Record<string, string | undefined> = process.env): string {
  const parsed = pythonVersion.safeParse(source.TUSSILAGO_PYTHON_VERSION ?? "3.12");
  if (!parsed.success) throw new ConfigError(`TUSSILAGO_PYTHON_VERSION ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** Only for tests: forget the parsed configuration so a test can change process.env. */
export function resetEnvForTests(): void {
  cached = undefined;
}
