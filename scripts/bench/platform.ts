// The real platform, started through scripts/launcher.ts like the e2e suite's: scripts/start.ts (embedded PostgreSQL,
// migrations, tenant services, a production build when the sources changed, the web server, the worker) on a free
// port, with its own data directory inside the bench's, no host configuration and a fake podman. Its output goes to
// a log file whose tail is shown when it does not come up.
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { readOrCreatePassword, runningClusterPort } from "@/lib/database/embedded";
import { type BenchContext, sleep } from "@/scripts/bench/context";
import { installBenchFakePodman } from "@/scripts/bench/deploy";
import { freePort, type LaunchedPlatform, launchPlatform, PlatformExitedError } from "@/scripts/launcher";

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

export async function startPlatform(context: BenchContext): Promise<PlatformHandle> {
  const port = await freePort();
  const dataDir = await context.dir("platform-data");
  const podmanPath = await installBenchFakePodman(await context.dir("platform-podman"));
  const logFile = path.join(context.root, "platform.log");
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + STARTUP_DEADLINE_MS;
  const started = performance.now();
  const secretKey = randomBytes(32).toString("base64url");

  for (;;) {
    context.progress(`starting the platform on ${origin} (a production build first if the sources changed)`);
    let platform: LaunchedPlatform;
    try {
      platform = await launchPlatform({
        dataDir,
        port,
        secretKey,
        // A prepared host's /etc/tussilago/host.env must not turn the bench platform into a real one.
        hostConfig: "none",
        baseEnv: context.originalEnv,
        // LOG_LEVEL stays at the launcher's "info", the production default: request logging is part of what a
        // request costs.
        env: { TUSSILAGO_PODMAN_PATH: podmanPath },
        logFile,
        startupTimeoutMs: Math.max(deadline - Date.now(), 0),
        stopTimeoutMs: STOP_DEADLINE_MS,
        note: (message) => context.progress(message),
        onSpawn: ({ stop }) => context.defer("platform", stop),
      });
    } catch (error) {
      // The build directory (.next) is the working tree's: an e2e run or an `npm start` elsewhere in the tree may be
      // building it right now, and Next refuses a second build. Wait for theirs, then start again.
      if (
        !(error instanceof PlatformExitedError) ||
        !error.output.includes(CONCURRENT_BUILD) ||
        Date.now() + BUILD_RETRY_MS > deadline
      ) {
        throw error;
      }
      context.progress("another `next build` is running in this working tree; waiting for it to finish");
      await fs.appendFile(logFile, "\n[bench] retrying after a concurrent build\n");
      await sleep(BUILD_RETRY_MS);
      continue;
    }
    const startSeconds = (performance.now() - started) / 1000;
    context.progress(`the platform is healthy after ${startSeconds.toFixed(1)} s`);
    return {
      pid: platform.pid,
      origin,
      dataDir,
      startSeconds,
      logTail: platform.logTail,
      async databaseUrl() {
        const pgPort = await runningClusterPort(dataDir);
        if (pgPort === null) throw new Error("the platform's PostgreSQL is not running");
        const password = await readOrCreatePassword(dataDir);
        return `postgresql://tussilago:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/tussilago`;
      },
      stop: platform.stop,
    };
  }
}
