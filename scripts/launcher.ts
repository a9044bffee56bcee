// The one way tools start a whole platform: the e2e suite (e2e/global-setup.ts), the bench (scripts/bench/platform.ts)
// and the host smoke (scripts/smoke/platform.ts) all run `scripts/start.ts` through launchPlatform, so they start it
// with the same environment rules, wait for the same health signal and stop it the same way.
//
// Only node built-ins here: Playwright's loader, tsx and vitest all import this file, and it must not pull the
// platform's modules (env, database) into the process that supervises the platform.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

const DEFAULT_STOP_TIMEOUT_MS = 60_000;
const HEALTH_REQUEST_TIMEOUT_MS = 5_000;
const FIRST_PROBE_DELAY_MS = 250;
const MAX_PROBE_DELAY_MS = 2_000;

export type LaunchOptions = {
  /** TUSSILAGO_DATA_DIR: the instance's own directory (its PostgreSQL, tenant services, uploads). */
  dataDir: string;
  /** PORT; a free one when omitted. */
  port?: number;
  /** TUSSILAGO_SECRET_KEY; a random one when omitted. */
  secretKey?: string;
  /** TUSSILAGO_HOST_CONFIG: "none" keeps a prepared host's /etc/tussilago/host.env out; inherited when omitted. */
  hostConfig?: string;
  /** The environment to start from (default process.env); DATABASE_URL and DATABASE_DIRECT_URL are dropped. */
  baseEnv?: NodeJS.ProcessEnv;
  /** More variables, applied last. */
  env?: Record<string, string>;
  /** false passes --no-build: the instance serves the existing .next instead of rebuilding it. */
  build?: boolean;
  /** Where the platform's stdout and stderr go. */
  logFile: string;
  /** Start the log file empty instead of appending to it. */
  truncateLog?: boolean;
  /** Health must answer 200 within this time, or the platform is stopped and launchPlatform throws. */
  startupTimeoutMs: number;
  /** After SIGTERM, how long before the process group is killed (default 60 s). */
  stopTimeoutMs?: number;
  /** The address /api/health is probed at (default http://127.0.0.1:<port>). */
  healthOrigin?: string;
  /** Progress notes for the caller's output (stopping, killing). */
  note?: (message: string) => void;
  /** Called once the process exists, before health is awaited: lets a caller register `stop` for its own cleanup. */
  onSpawn?: (running: { pid: number; stop(): Promise<void> }) => void;
  /** The script to run (default scripts/start.ts); tests substitute a small stand-in. */
  script?: string;
};

export type LaunchedPlatform = {
  /** The supervisor's pid, also its process group. */
  pid: number;
  port: number;
  origin: string;
  /** The environment the platform runs with (for `manage` and other processes that must see the same instance). */
  env: NodeJS.ProcessEnv;
  logFile: string;
  startSeconds: number;
  logTail(lines: number): Promise<string>;
  stop(): Promise<void>;
};

/** The platform ended before it became healthy; `output` is what this start wrote to the log. */
export class PlatformExitedError extends Error {
  override name = "PlatformExitedError";
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
  }
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === "object" ? resolve(address.port) : reject(new Error("no free port")),
      );
    });
  });
}

export async function tailOf(file: string, lines: number): Promise<string> {
  const text = await fs.readFile(file, "utf8").catch(() => "");
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function healthy(origin: string): Promise<boolean> {
  try {
    const response = await fetch(`${origin}/api/health`, { signal: AbortSignal.timeout(HEALTH_REQUEST_TIMEOUT_MS) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

/**
 * Starts the platform and waits until GET /api/health answers 200. It runs in its own process group, so `stop`
 * reaches everything it started (PostgreSQL, Redis, the web server, the worker): SIGTERM to the supervisor, which
 * stops its children in order, then SIGKILL to the whole group if it is not gone within stopTimeoutMs. If the
 * launching process exits without stopping it, the supervisor still gets its SIGTERM.
 */
export async function launchPlatform(options: LaunchOptions): Promise<LaunchedPlatform> {
  const port = options.port ?? (await freePort());
  const origin = options.healthOrigin ?? `http://127.0.0.1:${port}`;
  const { DATABASE_URL: _url, DATABASE_DIRECT_URL: _direct, ...inherited } = options.baseEnv ?? process.env;
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    TUSSILAGO_SECRET_KEY: options.secretKey ?? randomBytes(32).toString("base64url"),
    TUSSILAGO_DATA_DIR: options.dataDir,
    ...(options.hostConfig === undefined ? {} : { TUSSILAGO_HOST_CONFIG: options.hostConfig }),
    PORT: String(port),
    LOG_LEVEL: "info",
    ...options.env,
  };
  const note = options.note ?? (() => {});
  const stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;

  await fs.mkdir(path.dirname(options.logFile), { recursive: true });
  // Only this start's lines belong in a PlatformExitedError.
  const offset = options.truncateLog ? 0 : ((await fs.stat(options.logFile).catch(() => null))?.size ?? 0);
  const log = await fs.open(options.logFile, options.truncateLog ? "w" : "a");
  const args = [
    "--import",
    "tsx",
    options.script ?? "scripts/start.ts",
    ...(options.build === false ? ["--no-build"] : []),
  ];
  let child: ChildProcess;
  try {
    // The log file itself, not a pipe: the platform's output never depends on this process reading it.
    child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ["ignore", log.fd, log.fd], detached: true });
  } finally {
    await log.close();
  }
  // A failed spawn also sets no pid (below); without a listener its "error" event would crash this process.
  child.once("error", () => {});
  const pid = child.pid;
  if (pid === undefined) throw new Error("the platform did not start");
  const exited = new Promise<void>((resolve) => {
    if (hasExited(child)) resolve();
    else child.once("exit", () => resolve());
  });
  const terminateOnExit = () => {
    if (!hasExited(child)) child.kill("SIGTERM");
  };
  process.once("exit", terminateOnExit);

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!hasExited(child)) {
        note("stopping the platform");
        child.kill("SIGTERM");
        const done = await Promise.race([exited.then(() => true), sleep(stopTimeoutMs).then(() => false)]);
        if (!done) {
          note("the platform did not stop in time; killing its process group");
          try {
            process.kill(-pid, "SIGKILL");
          } catch {
            // Already gone.
          }
          await exited;
        }
      }
      process.removeListener("exit", terminateOnExit);
    })();
    return stopping;
  };
  options.onSpawn?.({ pid, stop });

  const started = performance.now();
  const deadline = Date.now() + options.startupTimeoutMs;
  let delay = FIRST_PROBE_DELAY_MS;
  try {
    for (;;) {
      if (await healthy(origin)) break;
      if (hasExited(child)) {
        const output = (await fs.readFile(options.logFile).catch(() => Buffer.alloc(0))).subarray(offset);
        const code = child.exitCode ?? child.signalCode;
        throw new PlatformExitedError(
          `the platform exited (${code}); see ${options.logFile}:\n${await tailOf(options.logFile, 15)}`,
          output.toString("utf8"),
        );
      }
      if (Date.now() > deadline) {
        throw new Error(
          `the platform was not healthy within ${Math.round(options.startupTimeoutMs / 1000)} s; see ` +
            `${options.logFile}:\n${await tailOf(options.logFile, 15)}`,
        );
      }
      await sleep(delay);
      delay = Math.min(delay * 2, MAX_PROBE_DELAY_MS);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    pid,
    port,
    origin,
    env,
    logFile: options.logFile,
    startSeconds: (performance.now() - started) / 1000,
    logTail: (lines) => tailOf(options.logFile, lines),
    stop,
  };
}
