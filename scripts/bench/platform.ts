// The real platform, started the way e2e/global-setup.ts starts it: scripts/start.ts (embedded PostgreSQL,
// migrations, tenant services, a production build when the sources changed, the web server, the worker) on a free
// port, with its own data directory inside the bench's, no host configuration and a fake podman. Its output goes to
// a log file whose tail is shown when it does not come up.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { freePort, readOrCreatePassword, runningClusterPort } from "@/lib/database/embedded";
import { type BenchContext, sleep } from "@/scripts/bench/context";
import { installBenchFakePodman } from "@/scripts/bench/deploy";
import { REPO_ROOT } from "@/scripts/bench/deploy-kit";

/** A production build on a 2-core machine takes minutes; e2e allows five, a cold cache can need more. */
const STARTUP_DEADLINE_MS = 12 * 60_000;
const STOP_DEADLINE_MS = 60_000;
const CONCURRENT_BUILD = "Another next build process is already running";
const BUILD_RETRY_MS = 20_000;

export type PlatformHandle = {
  /** The supervisor (scripts/start.ts): the root of the process tree. */
  pid: number;
  origin: string;
  dataDir: string;
  startSeconds: number;
  /** The end of the platform's own log, for failures. */
  logTail(lines: number): Promise<string>;
  /** The platform database, for seeding and in-process statement counts. */
  databaseUrl(): Promise<string>;
  stop(): Promise<void>;
};

async function tail(file: string, lines: number): Promise<string> {
  const text = await fs.readFile(file, "utf8").catch(() => "");
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

async function healthy(origin: string): Promise<boolean> {
  try {
    const response = await fetch(`${origin}/api/health`, { signal: AbortSignal.timeout(5_000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
}

type Attempt = { child: ChildProcess; pid: number; stop(): Promise<void> };

function launch(context: BenchContext, env: NodeJS.ProcessEnv, logFd: number): Attempt {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    cwd: REPO_ROOT,
    env,
    stdio: ["ignore", logFd, logFd],
    // Its own process group: if it does not stop on SIGTERM, the whole tree (PostgreSQL included) is killed.
    detached: true,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error("the platform did not start");
  let stopped: Promise<void> | null = null;
  const stop = () => {
    stopped ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      context.progress("stopping the platform");
      child.kill("SIGTERM");
      const done = await Promise.race([exited(child).then(() => true), sleep(STOP_DEADLINE_MS).then(() => false)]);
      if (!done) {
        context.progress("the platform did not stop in time; killing its process group");
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // Already gone.
        }
        await exited(child);
      }
    })();
    return stopped;
  };
  context.defer("platform", stop);
  return { child, pid, stop };
}

export async function startPlatform(context: BenchContext): Promise<PlatformHandle> {
  const port = await freePort();
  const dataDir = await context.dir("platform-data");
  const podmanPath = await installBenchFakePodman(await context.dir("platform-podman"));
  const logFile = path.join(context.root, "platform.log");
  const { DATABASE_URL: _url, DATABASE_DIRECT_URL: _direct, ...inherited } = context.originalEnv;
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    TUSSILAGO_SECRET_KEY: randomBytes(32).toString("base64url"),
    TUSSILAGO_DATA_DIR: dataDir,
    // A prepared host's /etc/tussilago/host.env must not turn the bench platform into a real one.
    TUSSILAGO_HOST_CONFIG: "none",
    TUSSILAGO_PODMAN_PATH: podmanPath,
    PORT: String(port),
    // The production default: request logging is part of what a request costs.
    LOG_LEVEL: "info",
  };
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + STARTUP_DEADLINE_MS;
  const started = performance.now();

  for (;;) {
    context.progress(`starting the platform on ${origin} (a production build first if the sources changed)`);
    // Only this attempt's lines decide whether it lost a race with another build.
    const offset = (await fs.stat(logFile).catch(() => null))?.size ?? 0;
    const log = await fs.open(logFile, "a");
    const attempt = launch(context, env, log.fd);
    await log.close();
    let delay = 250;
    let up = false;
    while (!up) {
      up = await healthy(origin);
      if (up) break;
      if (attempt.child.exitCode !== null || attempt.child.signalCode !== null) break;
      if (Date.now() > deadline) {
        await attempt.stop();
        throw new Error(
          `the platform was not healthy within ${STARTUP_DEADLINE_MS / 60_000} min:\n${await tail(logFile, 15)}`,
        );
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 2_000);
    }
    if (up) {
      const startSeconds = (performance.now() - started) / 1000;
      context.progress(`the platform is healthy after ${startSeconds.toFixed(1)} s`);
      return {
        pid: attempt.pid,
        origin,
        dataDir,
        startSeconds,
        logTail: (lines) => tail(logFile, lines),
        async databaseUrl() {
          const pgPort = await runningClusterPort(dataDir);
          if (pgPort === null) throw new Error("the platform's PostgreSQL is not running");
          const password = await readOrCreatePassword(dataDir);
          return `postgresql://tussilago:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/tussilago`;
        },
        stop: attempt.stop,
      };
    }
    // The build directory (.next) is the working tree's: an e2e run or an `npm start` elsewhere in the tree may be
    // building it right now, and Next refuses a second build. Wait for theirs, then start again.
    const output = (await fs.readFile(logFile)).subarray(offset).toString("utf8");
    if (!output.includes(CONCURRENT_BUILD) || Date.now() + BUILD_RETRY_MS > deadline) {
      const code = attempt.child.exitCode ?? attempt.child.signalCode;
      throw new Error(`the platform exited (${code}):\n${await tail(logFile, 15)}`);
    }
    context.progress("another `next build` is running in this working tree; waiting for it to finish");
    await fs.appendFile(logFile, "\n[bench] retrying after a concurrent build\n");
    await sleep(BUILD_RETRY_MS);
  }
}
