// Worker process entry point (`npm run worker`, or started by `npm start`).
import { runMigrations } from "graphile-worker";
import { enqueue } from "@/jobs/enqueue";
import { startWorker } from "@/jobs/runner";
import { RECONCILE_JOB_KEY } from "@/jobs/tasks/platform__reconcile";
import { workerLogger } from "@/lib/database/migrate";
import { disconnectDb, getDb } from "@/lib/db";
import { effectiveQuotasForTeams } from "@/lib/domain/quotas";
import { createCaddyWatch } from "@/lib/engine/caddy-watch";
import { routingConfigFromEnv } from "@/lib/engine/routing";
import { loadEnvOrExit } from "@/lib/env";
import { logger } from "@/lib/logger";
import { getInfra } from "@/lib/services/infra";
import { tenantPostgresConfig, tenantRedisConfig } from "@/lib/services/tenant-services";
import { createWatchdog } from "@/lib/services/watchdog";

// Signals first: until a listener exists, SIGTERM kills the process outright (mid-migration, say) and the supervisor
// cannot tell a stop from a crash. A signal during start-up ends it before any job is taken (see `main`); once the
// worker runs, it drains (the end of `main`).
let stopSignal: NodeJS.Signals | null = null;
let stopRunning: ((signal: NodeJS.Signals) => void) | null = null;
const onSignal = (signal: NodeJS.Signals) => {
  if (stopSignal !== null) return;
  stopSignal = signal;
  if (stopRunning) {
    stopRunning(signal);
    return;
  }
  // Nothing is started that a job could be in: graphile-worker's schema check is one transaction, and the job
  // runner has not been created. Exiting now is the clean stop.
  logger({ component: "worker" }).info({ signal }, "stop requested during start-up: exiting before taking any job");
  process.exit(0);
};
process.on("SIGTERM", onSignal);
process.on("SIGINT", onSignal);

const env = loadEnvOrExit();
const log = logger({ component: "worker" });
const directUrl = env.databaseDirectUrl;
if (!directUrl) {
  process.stderr.write("DATABASE_URL is not set. Start the whole platform with `npm start`, which provides it.\n");
  process.exit(1);
}
const connectionString: string = directUrl;

// Past the drain, handing jobs back and closing connections take seconds; this only catches a hang in those.
const SHUTDOWN_MARGIN_MS = 10_000;

async function main(): Promise<void> {
  // graphile-worker's schema on its own, before its runner exists: the part of start-up that can wait (on another
  // process's migration lock), during which a signal exits at once (onSignal) with no job taken.
  await runMigrations({ connectionString, logger: workerLogger(log), noHandleSignals: true });
  // From here a signal is a stop that waits for what is started: the runner may lock a job as soon as it exists, so
  // start-up finishes its few quick steps and the drain below hands back whatever was taken.
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    stopRunning = resolve;
  });

  const worker = await startWorker({
    connectionString,
    db: getDb(),
    log,
    concurrency: env.workerConcurrency,
    staleAfterMs: env.workerStaleAfterMs,
  });
  worker.runner.promise.catch((error: unknown) => {
    log.fatal({ err: error }, "the worker crashed");
    process.exit(1);
  });

  // Converge right away: containers or routes may have drifted while no worker ran (a reboot, a crash).
  await getDb().$transaction((tx) => enqueue(tx, "platform__reconcile", {}, { jobKey: RECONCILE_JOB_KEY }));
  // Cron ticks missed while no worker ran: the latest runs now rather than at the next minute (lib/domain/cron-ticks.ts).
  await getDb().$transaction((tx) => enqueue(tx, "cron__schedule", {}, { jobKey: "cron-schedule" }));

  // Tenant time limits and Redis memory quotas, enforced from the platform side (lib/services/watchdog.ts).
  const { redisMaxMemoryBytes, redisQuotaBudgetBytes, redisMaxValueBytes, watchdogIntervalMs } = env.tenantServices;
  const watchdog = createWatchdog({
    db: getDb(),
    log,
    postgres: tenantPostgresConfig(env),
    redis: tenantRedisConfig(env),
    redisServerLimits: {
      maxMemoryBytes: redisMaxMemoryBytes,
      maxValueBytes: redisMaxValueBytes,
      // Half the headroom for all clients' buffers together; the other half absorbs writes between sweeps.
      maxClientsMemoryBytes: Math.floor((redisMaxMemoryBytes - redisQuotaBudgetBytes) / 2),
    },
    quotasForTeams: effectiveQuotasForTeams,
    intervalMs: watchdogIntervalMs,
  });
  watchdog.start();

  // A Caddy restarted with an empty config gets its routes back within seconds (lib/engine/caddy-watch.ts).
  const caddyWatch = createCaddyWatch({
    db: getDb(),
    caddy: getInfra().caddy,
    config: routingConfigFromEnv(env),
    log,
  });
  caddyWatch.start();

  const signal = await signalled;
  log.info({ signal, drainMs: env.workerDrainMs }, "stopping the worker: waiting for running jobs");
  const force = setTimeout(() => {
    log.error("the worker did not stop after handing back its jobs; exiting");
    process.exit(1);
  }, env.workerDrainMs + SHUTDOWN_MARGIN_MS);
  force.unref();
  try {
    await Promise.all([watchdog.stop(), caddyWatch.stop()]);
    // Jobs still running after the drain are handed back, not failed: the next start runs them at once.
    await worker.stop({ drainMs: env.workerDrainMs });
    await disconnectDb();
  } catch (error) {
    log.error({ err: error }, "error while stopping the worker");
    process.exit(1);
  }
  process.exit(0);
}

main().catch((error: unknown) => {
  log.fatal({ err: error }, "the worker could not start");
  process.exit(1);
});
