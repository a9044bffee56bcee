import { type ChildProcess, spawn } from "node:child_process";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { isAbsolute, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { InfraError } from "./errors";
import { connectRedis, RedisReplyError, redisAclPasswordHash } from "./resp";

// The platform-owned redis-server that hosts tenant Redis users (docs/security.md, "Tenant Redis"). It listens on
// loopback only, its `default` user is disabled, and every user, the platform's admin included, lives in an ACL file
// so that users created with ACL SETUSER + ACL SAVE survive restarts.

export const REDIS_ADMIN_USER = "tussilago-admin";

export type RedisPersistence = "aof" | "none";

export type RedisServerOptions = {
  // A bare name is looked up in `env.PATH`.
  redisServerPath?: string;
  // Absolute; holds the config, the ACL file and the data. Created (and kept) with mode 0700.
  dir: string;
  port: number;
  /** IP addresses to listen on; default loopback only. Add the host address that tenant containers reach. */
  bind?: readonly string[];
  adminPassword: string;
  log?: Logger;
  // "aof" (default): an append-only file fsynced every second. Tenants use Redis for queues and sessions (Celery, RQ,
  // Django sessions), where losing everything on a platform restart is real data loss, and everysec bounds a crash
  // to about a second of writes. RDB snapshots are off: the AOF already starts with an RDB preamble after each
  // rewrite, and a second fork schedule would double the copy-on-write memory spikes on a shared host.
  // "none": nothing is persisted (tests, pure caches). Users persist through the ACL file either way.
  persistence?: RedisPersistence;
  // maxmemory with the `noeviction` policy: one tenant filling the server makes writes fail instead of evicting
  // other tenants' keys. Unset: no limit.
  maxMemoryBytes?: number;
  // Largest single value (proto-max-bulk-len; the query buffer gets twice that), so one command cannot put far more
  // than this on the server between two quota sweeps (tenant-redis-quota.ts). Default DEFAULT_MAX_VALUE_BYTES.
  maxValueBytes?: number;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  // The complete environment of redis-server; the platform's own (secrets included) is never passed on.
  env?: Record<string, string>;
};

export type RedisServerExit = { code: number | null; signal: NodeJS.Signals | null };

export type RedisServer = {
  port: number;
  pid: number;
  adminUser: string;
  // Resolves when the process ends, expectedly or not.
  exited: Promise<RedisServerExit>;
  // SIGTERM (Redis flushes the AOF and exits), SIGKILL after stopTimeoutMs. Safe to call more than once.
  stop(): Promise<void>;
};

export type RedisServerErrorKind = "invalid_argument" | "not_installed" | "start_failed" | "timeout";

const USER_MESSAGES: Record<RedisServerErrorKind, string> = {
  invalid_argument: "The Redis service is not configured correctly.",
  not_installed: "The Redis service is not available on this server.",
  start_failed: "The Redis service could not be started.",
  timeout: "The Redis service took too long to start.",
};

export class RedisServerError extends InfraError<RedisServerErrorKind> {
  // The last lines redis-server printed: for the logs, not for people.
  readonly output: string;

  constructor(kind: RedisServerErrorKind, message: string, options: { cause?: unknown; output?: string } = {}) {
    // Only a slow start can go better on a second try; the other kinds need a person.
    super(kind, message, { cause: options.cause, retryable: kind === "timeout", userMessage: USER_MESSAGES[kind] });
    this.name = "RedisServerError";
    this.output = options.output ?? "";
  }

  override toLog(): Record<string, unknown> {
    return { kind: this.kind, retryable: this.retryable, message: this.message, output: this.output };
  }
}

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const DEFAULT_START_TIMEOUT_MS = 15_000;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;
const FIRST_RETRY_MS = 20;
const MAX_RETRY_MS = 500;
const OUTPUT_TAIL_LINES = 40;
const MIN_ADMIN_PASSWORD_LENGTH = 16;
export const REDIS_CONFIG_FILE = "redis.conf";
export const REDIS_ACL_FILE = "users.acl";

const NOT_INSTALLED = "redis-server is not installed; the host setup installs it, or set TENANT_REDIS_ADMIN_URL";

function invalid(what: string): RedisServerError {
  return new RedisServerError("invalid_argument", `invalid ${what}`);
}

// Control characters would end a config line early; quotes and backslashes would need redis.conf's escaping rules.
// Neither belongs in a platform data path, so they are refused rather than escaped.
const UNSAFE_PATH = /["\\\p{Cc}]/u;

function checkOptions(options: RedisServerOptions): void {
  if (!isAbsolute(options.dir) || UNSAFE_PATH.test(options.dir)) throw invalid("data directory");
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65_535) throw invalid("port");
  const password = options.adminPassword;
  if (password.length < MIN_ADMIN_PASSWORD_LENGTH || /\p{Cc}/u.test(password)) throw invalid("admin password");
  const binary = options.redisServerPath ?? "redis-server";
  if (binary.length === 0 || binary.includes("\0")) throw invalid("redis-server path");
  if (options.bind !== undefined && (options.bind.length === 0 || options.bind.some((ip) => isIP(ip) === 0))) {
    throw invalid("bind address");
  }
  const max = options.maxMemoryBytes;
  if (max !== undefined && (!Number.isSafeInteger(max) || max < 1024 * 1024)) throw invalid("maxMemoryBytes");
  const value = options.maxValueBytes;
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 1024 * 1024)) throw invalid("maxValueBytes");
}

// Redis's own default is 512 MB per value: far more than a tenant quota, so one SET could overshoot it by that much.
export const DEFAULT_MAX_VALUE_BYTES = 16 * 1024 * 1024;

// The redis.conf the platform runs with. Rewritten on every start, so hand edits do not survive.
export function renderRedisConfig(options: {
  dir: string;
  port: number;
  bind?: readonly string[];
  persistence: RedisPersistence;
  maxMemoryBytes?: number;
  maxValueBytes?: number;
}): string {
  const maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  const lines = [
    "# Written by tussilago on every start; edits are lost.",
    `bind ${(options.bind ?? ["127.0.0.1"]).join(" ")}`,
    `port ${options.port}`,
    "protected-mode yes",
    // The platform supervises the process; a daemon would escape it.
    "daemonize no",
    'logfile ""',
    `dir "${options.dir}"`,
    `aclfile "${join(options.dir, REDIS_ACL_FILE)}"`,
    // One database: tenants cannot SELECT anyway, and with a single database COPY ... DB n and MOVE have nowhere to
    // put keys that the prefix-based deprovisioning would not find.
    "databases 1",
    'save ""',
    options.persistence === "aof" ? "appendonly yes" : "appendonly no",
    "appendfsync everysec",
    // Redis 7 defaults, spelled out: no DEBUG, MODULE or protected CONFIG from any connection, admin included.
    "enable-debug-command no",
    "enable-module-command no",
    "enable-protected-configs no",
    "maxmemory-policy noeviction",
    `proto-max-bulk-len ${maxValueBytes}`,
    `client-query-buffer-limit ${2 * maxValueBytes}`,
  ];
  if (options.maxMemoryBytes !== undefined) lines.push(`maxmemory ${options.maxMemoryBytes}`);
  return `${lines.join("\n")}\n`;
}

// The ACL file with the platform's two managed users put back in their intended state, whatever an earlier run or
// an ACL SAVE left there: `default` disabled with no rights, the admin with the current password (as a hash, so the
// cleartext is never on disk). Tenant users are kept line for line.
export function mergeAclFile(existing: string, adminPasswordHash: string): string {
  const managed = new Set(["default", REDIS_ADMIN_USER]);
  const kept = existing.split("\n").filter((line) => {
    const trimmed = line.trim();
    if (trimmed === "") return false;
    const [keyword, name] = trimmed.split(/\s+/);
    return !(keyword === "user" && name !== undefined && managed.has(name));
  });
  return [
    "user default off resetpass resetkeys resetchannels -@all",
    `user ${REDIS_ADMIN_USER} on #${adminPasswordHash} ~* &* +@all`,
    ...kept,
    "",
  ].join("\n");
}

async function writePrivate(path: string, content: string): Promise<void> {
  // Write-then-rename, so a crash never leaves redis-server a half-written ACL file that it would refuse to load.
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, content, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

async function readIfExists(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if (err instanceof Error && "code" in err && err.code === "ENOENT") return "";
    throw err;
  }
}

function exitPromise(child: ChildProcess): Promise<RedisServerExit> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
}

// Which process answers on the port: an earlier redis-server still holding it would otherwise pass for ours.
function processId(info: unknown): number | null {
  if (typeof info !== "string") return null;
  const match = /^process_id:(\d+)\r?$/m.exec(info);
  return match?.[1] === undefined ? null : Number(match[1]);
}

export async function startRedisServer(options: RedisServerOptions): Promise<RedisServer> {
  checkOptions(options);
  const { dir, port, adminPassword, log } = options;
  const binary = options.redisServerPath ?? "redis-server";
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;

  // 0700: Redis writes its ACL file (password hashes) and AOF with the process umask, typically world-readable.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const aclPath = join(dir, REDIS_ACL_FILE);
  const configPath = join(dir, REDIS_CONFIG_FILE);
  await writePrivate(aclPath, mergeAclFile(await readIfExists(aclPath), redisAclPasswordHash(adminPassword)));
  const config = {
    dir,
    port,
    bind: options.bind,
    persistence: options.persistence ?? "aof",
    maxMemoryBytes: options.maxMemoryBytes,
    maxValueBytes: options.maxValueBytes,
  };
  await writePrivate(configPath, renderRedisConfig(config));

  const tail: string[] = [];
  const output = (): string => tail.join("\n");
  const child = spawn(binary, [configPath], {
    cwd: dir,
    // Next's types declare NODE_ENV as always present in ProcessEnv; redis-server's environment need not have it.
    env: (options.env ?? { PATH: DEFAULT_PATH }) as NodeJS.ProcessEnv,
    shell: false,
    stdio: ["ignore", "pipe", "pipe"],
    windowsHide: true,
  });
  const spawned = new Promise<NodeJS.ErrnoException | null>((resolve) => {
    child.once("spawn", () => resolve(null));
    child.once("error", (err: NodeJS.ErrnoException) => resolve(err));
  });
  const exited = exitPromise(child);
  const record = (chunk: Buffer): void => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (line.trim() === "") continue;
      tail.push(line);
      if (tail.length > OUTPUT_TAIL_LINES) tail.shift();
      log?.debug({ component: "redis-server", line }, "redis-server output");
    }
  };
  child.stdout?.on("data", record);
  child.stderr?.on("data", record);

  const spawnError = await spawned;
  if (spawnError !== null || child.pid === undefined) {
    if (spawnError?.code === "ENOENT")
      throw new RedisServerError("not_installed", NOT_INSTALLED, { cause: spawnError });
    const code = spawnError?.code ?? "unknown error";
    throw new RedisServerError("start_failed", `redis-server could not be started (${code})`, { cause: spawnError });
  }
  const pid = child.pid;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const finished = await Promise.race([exited.then(() => true), sleep(stopTimeoutMs, false)]);
      if (!finished) {
        log?.warn({ pid }, "redis-server did not stop in time; killing it");
        child.kill("SIGKILL");
        await exited;
      }
      log?.info({ pid, port }, "redis-server stopped");
    })();
    return stopping;
  };

  try {
    await waitUntilReady({ port, adminPassword, pid, exited, startTimeoutMs, output });
  } catch (err) {
    child.kill("SIGKILL");
    await exited;
    throw err;
  }

  void exited.then((exit) => {
    if (stopping === undefined) log?.warn({ pid, port, ...exit, output: output() }, "redis-server exited unexpectedly");
  });
  log?.info({ pid, port }, "redis-server started");
  return { port, pid, adminUser: REDIS_ADMIN_USER, exited, stop };
}

async function waitUntilReady(options: {
  port: number;
  adminPassword: string;
  pid: number;
  exited: Promise<RedisServerExit>;
  startTimeoutMs: number;
  output: () => string;
}): Promise<void> {
  const deadline = Date.now() + options.startTimeoutMs;
  // A holder rather than a `let`: the callback sets it, and TypeScript would narrow a `let` to its initial null.
  const state: { exit: RedisServerExit | null } = { exit: null };
  void options.exited.then((value) => {
    state.exit = value;
  });
  let delay = FIRST_RETRY_MS;
  let lastError: unknown;
  for (;;) {
    if (state.exit !== null) {
      const { code, signal } = state.exit;
      const how = code === null ? `was killed by ${signal ?? "a signal"}` : `exited with code ${code}`;
      throw new RedisServerError("start_failed", `redis-server ${how} during start-up`, {
        output: options.output(),
        cause: lastError,
      });
    }
    const remaining = deadline - Date.now();
    try {
      const connection = await connectRedis({
        host: "127.0.0.1",
        port: options.port,
        user: REDIS_ADMIN_USER,
        password: options.adminPassword,
        connectTimeoutMs: Math.max(100, Math.min(1_000, remaining)),
        commandTimeoutMs: Math.max(100, Math.min(2_000, remaining)),
      });
      try {
        // A LOADING error reply (AOF still being read) rejects here and is retried like a refused connection.
        await connection.command(["PING"]);
        if (processId(await connection.command(["INFO", "server"])) === options.pid) return;
        lastError = new Error("another process answers on the port");
      } finally {
        await connection.close();
      }
    } catch (err) {
      // WRONGPASS and friends included: until our process is up, whatever answers on the port is not it.
      lastError = err;
    }
    if (Date.now() + delay > deadline) {
      const reason = lastError instanceof RedisReplyError ? ` (last answer: ${lastError.code})` : "";
      throw new RedisServerError(
        "timeout",
        `redis-server did not answer PING within ${options.startTimeoutMs} ms${reason}`,
        { output: options.output(), cause: lastError },
      );
    }
    await Promise.race([sleep(delay), options.exited]);
    delay = Math.min(delay * 2, MAX_RETRY_MS);
  }
}
