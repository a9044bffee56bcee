import { constants } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { CommandError, type Executor, execFileExecutor } from "../exec";
import { kindOfToolFailure, PgBackupError } from "./errors";

// Where pg_dump and pg_restore live, which PostgreSQL major they are, and how they are run: through the Executor
// (argument arrays, timeouts, captured stderr), with the password in the child's environment (PGPASSWORD), never
// in argv where `ps` shows it to every user of the host.

export type PgTool = "pg_dump" | "pg_restore";
export type PgTools = { dir: string; major: number; version: string };

// Debian's layout: one directory per installed major (postgresql-client-15 → /usr/lib/postgresql/15/bin).
const DEBIAN_ROOT = "/usr/lib/postgresql";
const VERSION_TIMEOUT_MS = 10_000;
const VERSION_LINE = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/;

async function executable(file: string): Promise<boolean> {
  return await fs
    .access(file, constants.X_OK)
    .then(() => true)
    .catch(() => false);
}

async function newestDebianBinDir(root: string): Promise<string | null> {
  const entries = await fs.readdir(root).catch(() => [] as string[]);
  const majors = entries
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .sort((a, b) => b - a);
  for (const major of majors) {
    const dir = path.join(root, String(major), "bin");
    if (await executable(path.join(dir, "pg_dump"))) return dir;
  }
  return null;
}

async function onPath(tool: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    if (await executable(path.join(dir, tool))) return dir;
  }
  return null;
}

/**
 * The directory holding pg_dump and pg_restore: `binDir` when given (TUSSILAGO_PG_BIN_DIR), else the newest
 * /usr/lib/postgresql/<N>/bin that has pg_dump, else the one on PATH.
 */
export async function locatePgBinDir(binDir?: string | null, debianRoot = DEBIAN_ROOT): Promise<string> {
  const dir = binDir ?? (await newestDebianBinDir(debianRoot)) ?? (await onPath("pg_dump"));
  const hint = "install postgresql-client-15 (apt-get install postgresql-client-15) or set TUSSILAGO_PG_BIN_DIR";
  if (dir === null) throw new PgBackupError("tool_missing", `pg_dump was not found: ${hint}`);
  for (const tool of ["pg_dump", "pg_restore"] as const) {
    if (!(await executable(path.join(dir, tool)))) {
      throw new PgBackupError("tool_missing", `${tool} is missing or not executable in ${dir}: ${hint}`);
    }
  }
  return dir;
}

/** "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" → 15, or null. */
export function parseToolMajor(output: string): { major: number; version: string } | null {
  const match = VERSION_LINE.exec(output);
  if (!match?.[1]) return null;
  return { major: Number(match[1]), version: match[2] ? `${match[1]}.${match[2]}` : match[1] };
}

const cache = new Map<string, PgTools>();

/** The tools and their version (pg_dump and pg_restore come from one package, so pg_dump's speaks for both). */
export async function pgTools(binDir?: string | null, exec: Executor = execFileExecutor): Promise<PgTools> {
  // TUSSILAGO_PG_BIN_DIR, read here rather than threaded through every caller: lib/env.ts validates and documents
  // the same variable; an explicit binDir wins.
  const dir = await locatePgBinDir(binDir ?? process.env.TUSSILAGO_PG_BIN_DIR ?? null);
  const cached = cache.get(dir);
  if (cached) return cached;
  let output: string;
  try {
    output = (await exec(path.join(dir, "pg_dump"), ["--version"], { timeoutMs: VERSION_TIMEOUT_MS, env: {} })).stdout;
  } catch (error) {
    throw new PgBackupError("tool_missing", `pg_dump in ${dir} does not run`, { cause: error });
  }
  const parsed = parseToolMajor(output);
  if (!parsed) throw new PgBackupError("tool_missing", `pg_dump in ${dir} printed no PostgreSQL version`);
  const tools = { dir, ...parsed };
  cache.set(dir, tools);
  return tools;
}

/** pg_dump refuses a newer server, and pg_restore may not read what a newer pg_dump wrote: say so before starting. */
export function assertToolsFit(tools: PgTools, serverVersionNum: number): void {
  const serverMajor = Math.floor(serverVersionNum / 10_000);
  if (tools.major >= serverMajor) return;
  throw new PgBackupError(
    "version",
    `pg_dump ${tools.version} (${tools.dir}) is older than the PostgreSQL ${serverMajor} server: install ` +
      `postgresql-client-${serverMajor} and point TUSSILAGO_PG_BIN_DIR at its bin directory`,
  );
}

export type Target = {
  host: string;
  port: string;
  user: string;
  password: string;
  database: string;
  env: Record<string, string>;
};

/** A connection URL as discrete libpq settings: the password goes to the child's environment, not its argv. */
export function targetOf(url: string, database?: string): Target {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PgBackupError("invalid_argument", "invalid connection string");
  }
  const env: Record<string, string> = {};
  const sslmode = parsed.searchParams.get("sslmode");
  if (sslmode && /^[a-z-]+$/.test(sslmode)) env.PGSSLMODE = sslmode;
  return {
    host: decodeURIComponent(parsed.hostname.replace(/^\[|\]$/g, "")) || "127.0.0.1",
    port: parsed.port || "5432",
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database: database ?? decodeURIComponent(parsed.pathname.slice(1)),
    env,
  };
}

/** Runs pg_dump or pg_restore against `target`; a non-zero exit becomes a PgBackupError of `failure`'s kind. */
export async function runTool(
  tools: PgTools,
  tool: PgTool,
  target: Target,
  args: readonly string[],
  options: { timeoutMs: number; failure: "dump_failed" | "restore_failed"; exec?: Executor },
): Promise<void> {
  const file = path.join(tools.dir, tool);
  const connection = ["--host", target.host, "--port", target.port, "--username", target.user, "--no-password"];
  const env: Record<string, string> = {
    ...target.env,
    PGPASSWORD: target.password,
    PGCONNECT_TIMEOUT: "10",
    PGAPPNAME: `tussilago-${tool.replace("_", "-")}`,
    // Untranslated messages, which kindOfToolFailure reads.
    LC_ALL: "C",
    LANG: "C",
  };
  try {
    await (options.exec ?? execFileExecutor)(file, [...connection, ...args], { timeoutMs: options.timeoutMs, env });
  } catch (error) {
    if (error instanceof CommandError && error.kind === "exit") {
      const { kind, retryable } = kindOfToolFailure(error.stderr, options.failure);
      throw new PgBackupError(kind, `${tool} failed: ${lastErrorLine(error.stderr)}`, {
        retryable,
        stderr: error.stderr,
        cause: error,
      });
    }
    if (error instanceof CommandError && error.kind === "spawn") {
      throw new PgBackupError("tool_missing", `${tool} could not be started`, { cause: error });
    }
    // Timeout (retryable) or abort: the Executor's own error says which.
    const retryable = error instanceof CommandError && error.retryable;
    throw new PgBackupError(options.failure, `${tool} did not finish: ${(error as Error).message}`, {
      retryable,
      cause: error,
    });
  }
}

/** The first line pg_dump/pg_restore marked as an error (its own words, bounded), for logs and reasons. */
export function lastErrorLine(stderr: string): string {
  const lines = stderr.split("\n").map((line) => line.trim());
  const error = lines.find((line) => /\berror:|FATAL:/.test(line)) ?? lines.filter(Boolean).at(-1) ?? "no output";
  return error.replace(/^(?:pg_dump|pg_restore):\s*/, "").slice(0, 300);
}
