// An embedded PgBouncer in front of the tenant PostgreSQL (TENANT_PGBOUNCER=embedded): apps connect through it
// (TENANT_PGBOUNCER_URL: its host and port end up in DATABASE_URL), while the platform still provisions directly.
//
// - Who may log in, and how many server connections each may hold, is rendered from the TenantDatabase rows by the
//   worker (syncTenantPgBouncer): an auth file with each tenant role's SCRAM verifier, read from pg_authid, and a
//   `[users]` file with `max_user_connections` = the database's connection limit; then RELOAD on the admin console.
//   Because PgBouncer holds the server's own verifier, a client that authenticates with SCRAM lets it log in to
//   PostgreSQL with the same proof: no cleartext password anywhere.
// - No auth_query: PgBouncer 1.18 (Debian 12) gives users of the `[users]` section no password, so auth_query and
//   per-user limits exclude each other, and a RELOAD that adds a `[users]` entry for a user auth_query created
//   crashes it ("put_in_order: found existing elem"). The jobs sync before a database becomes ready and right after
//   a rotation, so the role is known before anyone holds its credentials.
// - Session pooling: apps keep their session state (prepared statements, SET, advisory locks) as with a direct
//   connection; PgBouncer caps and queues their server connections.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import pg from "pg";
import type { Logger } from "pino";
import type { Db } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { readTenantVerifiers, tenantNames } from "@/lib/infra/tenant-postgres";
import { tenantPostgresConfig } from "@/lib/services/tenant-services";

export const PGBOUNCER_ADMIN_USER = "tussilago_pgbouncer";
const INCLUDE_USERS = "users.ini";
const AUTH_FILE = "auth.txt";
/** The admin console's entry, written at each start; the worker copies it into the auth file it renders. */
const STATIC_AUTH_FILE = "auth-static.txt";
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

export type PgBouncerUser = { role: string; maxConnections: number };
/** A tenant role PgBouncer lets in: its limit and its SCRAM verifier (a secret). */
export type PgBouncerLogin = PgBouncerUser & { verifier: string };

export type EmbeddedPgBouncer = {
  port: number;
  /** postgresql://<admin>:<password>@127.0.0.1:<port>/pgbouncer: the admin console (RELOAD, SHOW). */
  adminUrl: string;
  /** Holds the configuration; the worker rewrites its users and auth files. */
  configDir: string;
  stop(): Promise<void>;
};

export type StartPgBouncerOptions = {
  /** Holds the configuration, the auth file, the users file and the pid file; created with mode 0700. */
  dir: string;
  port: number;
  /** Addresses to listen on, loopback first. */
  listen: readonly string[];
  /** The tenant PostgreSQL. */
  backend: { host: string; port: number };
  binary?: string;
  /** When running as root: the unprivileged user PgBouncer switches to (it refuses to run as root). */
  runAs?: string;
  log: Logger;
};

// PgBouncer's auth file quotes with double quotes and doubles them inside.
function quoteAuth(value: string): string {
  return `"${value.replaceAll('"', '""')}"`;
}

/** The [users] section: one line per tenant role with its connection cap. Invalid names are dropped, not quoted. */
export function renderPgBouncerUsers(users: readonly PgBouncerUser[]): string {
  const lines = ["; Written by tussilago from the tenant databases' connection limits; edits are lost.", "[users]"];
  for (const user of [...users].sort((a, b) => a.role.localeCompare(b.role))) {
    if (!IDENTIFIER.test(user.role) || !Number.isInteger(user.maxConnections) || user.maxConnections < 1) continue;
    lines.push(`${user.role} = max_user_connections=${user.maxConnections}`);
  }
  return `${lines.join("\n")}\n`;
}

export function renderPgBouncerIni(options: {
  dir: string;
  port: number;
  listen: readonly string[];
  backend: { host: string; port: number };
}): string {
  const { dir, backend } = options;
  return `${[
    "; Written by tussilago at every start of the embedded PgBouncer; edits are lost.",
    "[databases]",
    // Every database, on the tenant server; no user here, so each client's own role logs in to PostgreSQL.
    `* = host=${backend.host} port=${backend.port}`,
    "",
    "[pgbouncer]",
    `listen_addr = ${options.listen.join(",")}`,
    `listen_port = ${options.port}`,
    `unix_socket_dir = ${dir}`,
    `pidfile = ${path.join(dir, "pgbouncer.pid")}`,
    "auth_type = scram-sha-256",
    `auth_file = ${path.join(dir, AUTH_FILE)}`,
    `admin_users = ${PGBOUNCER_ADMIN_USER}`,
    "pool_mode = session",
    "max_client_conn = 2000",
    "default_pool_size = 100",
    "server_reset_query = DISCARD ALL",
    "ignore_startup_parameters = extra_float_digits,options",
    "log_connections = 0",
    "log_disconnections = 0",
    "",
    `%include ${path.join(dir, INCLUDE_USERS)}`,
  ].join("\n")}\n`;
}

async function writeAtomically(file: string, text: string, mode: number): Promise<void> {
  const temporary = `${file}.${randomBytes(4).toString("hex")}.tmp`;
  await fs.writeFile(temporary, text, { mode });
  await fs.chmod(temporary, mode);
  await fs.rename(temporary, file);
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function chownTree(dir: string, user: string): Promise<void> {
  const { execFileSync } = await import("node:child_process");
  const uid = Number(execFileSync("id", ["-u", user]).toString().trim());
  const gid = Number(execFileSync("id", ["-g", user]).toString().trim());
  for (const entry of [dir, ...(await fs.readdir(dir)).map((name) => path.join(dir, name))]) {
    await fs.chown(entry, uid, gid);
  }
}

/** Starts PgBouncer in the foreground as a child process; resolves once it accepts connections. */
export async function startPgBouncer(options: StartPgBouncerOptions): Promise<EmbeddedPgBouncer> {
  const { dir, log } = options;
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const adminPassword = randomBytes(24).toString("base64url");
  const usersFile = path.join(dir, INCLUDE_USERS);
  const staticAuth = `${quoteAuth(PGBOUNCER_ADMIN_USER)} ${quoteAuth(adminPassword)}\n`;
  await writeAtomically(path.join(dir, STATIC_AUTH_FILE), staticAuth, 0o600);
  // The tenant roles of the previous run stay until the worker's first sync: apps reconnecting meanwhile get in.
  const previous = await fs.readFile(path.join(dir, AUTH_FILE), "utf8").catch(() => "");
  const tenants = previous.split("\n").filter((line) => line.startsWith('"t_'));
  await writeAtomically(path.join(dir, AUTH_FILE), staticAuth + tenants.map((line) => `${line}\n`).join(""), 0o600);
  try {
    await fs.access(usersFile);
  } catch {
    await writeAtomically(usersFile, renderPgBouncerUsers([]), 0o600);
  }
  const iniFile = path.join(dir, "pgbouncer.ini");
  await writeAtomically(
    iniFile,
    renderPgBouncerIni({ dir, port: options.port, listen: options.listen, backend: options.backend }),
    0o600,
  );
  const args = [iniFile];
  if (options.runAs) {
    await chownTree(dir, options.runAs);
    args.unshift("-u", options.runAs);
  }
  const child: ChildProcess = spawn(options.binary ?? "pgbouncer", args, {
    stdio: ["ignore", "pipe", "pipe"],
    // Nothing of the platform's environment (its secrets) reaches PgBouncer.
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } as Record<string, string> as NodeJS.ProcessEnv,
  });
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (!line.trim()) continue;
      if (output.length < 50) output.push(line);
      log.debug({ line }, "pgbouncer");
    }
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.once("error", () => resolve(-1));
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  let running = false;
  while (Date.now() < deadline) {
    const early = await Promise.race([
      exited,
      new Promise<"waiting">((resolve) => setTimeout(() => resolve("waiting"), 100)),
    ]);
    if (early !== "waiting") {
      throw new Error(`pgbouncer exited at start (code ${early}): ${output.slice(-5).join(" | ")}`);
    }
    if (await portAnswers(options.port)) {
      running = true;
      break;
    }
  }
  if (!running) {
    child.kill("SIGKILL");
    throw new Error("pgbouncer did not accept connections in time");
  }
  log.info({ pid: child.pid, port: options.port }, "pgbouncer started");
  let stopping: Promise<void> | null = null;
  return {
    port: options.port,
    adminUrl: `postgresql://${PGBOUNCER_ADMIN_USER}:${encodeURIComponent(adminPassword)}@127.0.0.1:${options.port}/pgbouncer`,
    configDir: dir,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null) return;
        // SIGINT: a "safe shutdown", waiting for clients to finish; SIGKILL when they take too long.
        child.kill("SIGINT");
        const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
        log.info("pgbouncer stopped");
      })();
      return stopping;
    },
  };
}

async function writeKeepingOwner(file: string, text: string): Promise<void> {
  const stats = await fs.stat(file).catch(() => null);
  await writeAtomically(file, text, 0o600);
  // PgBouncer may run as another user than the worker (root starts it as postgres).
  if (stats) await fs.chown(file, stats.uid, stats.gid);
}

/**
 * Writes the users and auth files from `logins` and makes PgBouncer re-read its configuration. Idempotent: the files
 * are the whole desired state, rendered from the rows each time.
 */
export async function syncPgBouncerUsers(
  target: { configDir: string; adminUrl: string },
  logins: readonly PgBouncerLogin[],
): Promise<void> {
  const valid = logins.filter(
    (login) => IDENTIFIER.test(login.role) && /^SCRAM-SHA-256\$[^"\s]+$/.test(login.verifier),
  );
  const staticAuth = await fs.readFile(path.join(target.configDir, STATIC_AUTH_FILE), "utf8");
  const auth =
    staticAuth +
    [...valid]
      .sort((a, b) => a.role.localeCompare(b.role))
      .map((login) => `${quoteAuth(login.role)} ${quoteAuth(login.verifier)}\n`)
      .join("");
  await writeKeepingOwner(path.join(target.configDir, AUTH_FILE), auth);
  await writeKeepingOwner(path.join(target.configDir, INCLUDE_USERS), renderPgBouncerUsers(valid));
  // The admin console speaks the simple query protocol only: node-postgres uses it for queries without values.
  const client = new pg.Client({ connectionString: target.adminUrl, connectionTimeoutMillis: 5_000 });
  client.on("error", () => undefined);
  await client.connect();
  try {
    await client.query("RELOAD");
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Brings the embedded PgBouncer's logins and per-user limits in line with the databases (the jobs call this after
 * provisioning, before the database is ready; after a rotation; after a change of limits; after a deletion; and the
 * hourly sweep). No PgBouncer to manage: nothing to do (false). A failure is logged and left to the next sync (the
 * server's own CONNECTION LIMIT holds meanwhile), or, with `required` (a new or rotated password that apps could not
 * use through PgBouncer otherwise), thrown so that the job is retried.
 */
export async function syncTenantPgBouncer(
  db: Db,
  log: Logger,
  options: {
    required?: boolean;
    /** Tests point these at their own servers; the defaults come from lib/env. */
    target?: { adminUrl: string; configDir: string } | null;
    postgresAdminUrl?: string | undefined;
  } = {},
): Promise<boolean> {
  const target = options.target === undefined ? getEnv().tenantServices.pgBouncerAdmin : options.target;
  const postgresAdminUrl = "postgresAdminUrl" in options ? options.postgresAdminUrl : tenantPostgresConfig()?.adminUrl;
  if (!target || !postgresAdminUrl) return false;
  try {
    const rows = await db.tenantDatabase.findMany({
      where: { status: { not: "deleting" } },
      select: { id: true, connectionLimit: true },
      orderBy: { id: "asc" },
    });
    const verifiers = await readTenantVerifiers(
      postgresAdminUrl,
      rows.map((row) => row.id),
    );
    const logins = rows.flatMap((row) => {
      const role = tenantNames(row.id).role;
      const verifier = verifiers.get(role);
      return verifier ? [{ role, maxConnections: row.connectionLimit, verifier }] : [];
    });
    await syncPgBouncerUsers(target, logins);
    log.info({ users: logins.length }, "pgbouncer logins and per-user limits synced");
    return true;
  } catch (error) {
    // Messages only: an error object could carry a statement with a verifier in it.
    log.warn({ reason: error instanceof Error ? error.message : String(error) }, "pgbouncer not synced");
    if (options.required) throw new Error("The connection pooler (PgBouncer) could not be updated.");
    return false;
  }
}
