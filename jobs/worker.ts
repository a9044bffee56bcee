// Worker process entry point (`npm run worker`, or started by `npm start`).
import { enqueue } from "@/jobs/enqueue";
import { startWorker } from "@/jobs/runner";
import { RECONCILE_JOB_KEY } from "@/jobs/tasks/platform__reconcile";
import { disconnectDb, getDb } from "@/lib/db";
import { effectiveQuotasForTeams } from "@/lib/domain/quotas";
import { createCaddyWatch } from "@/lib/engine/caddy-watch";
import { routingConfigFromEnv } from "@/lib/engine/routing";
import { loadEnvOrExit } from "@/lib/env";
import { logger } from "@/lib/logger";
import { getInfra } from "@/lib/services/infra";
import { tenantPostgresConfig, tenantRedisConfig } from "@/lib/services/tenant-services";
import { createWatchdog } from "@/lib/services/watchdog";

const env = loadEnvOrExit();
const log = logger({ component: "worker" });
const connectionString = env.databaseDirectUrl;
if (!connectionString) {
  process.stderr.write("DATABASE_URL is not set. Start the whole platform with `npm start`, which provides it.\n");
  process.exit(1);
}

// Past the drain, handing jobs back and closing connections take seconds; this only catches a hang in those.
const SHUTDOWN_MARGIN_MS = 10_000;

async function main(): Promise<void> {
  const worker = await startWorker({
    connectionString: connectionString as string,
    db: getDb(),
    log,
    concurrency: env.workerConcurrency,
    staleAfterMs: env.workerStaleAfterMs,
  });

  // Converge right away: containers or routes may have drifted while no worker ran (a reboot, a crash).
  await getDb().$transaction((tx) => enqueue(tx, "platform__reconcile", {}, { jobKey: RECONCILE_JOB_KEY }));

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

  let shuttingDown = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal, drainMs: env.workerDrainMs }, "stopping the worker: waiting for running jobs");
    const force = setTimeout(() => {
      log.error("the worker did not stop after handing back its jobs; exiting");
      process.exit(1);
    }, env.workerDrainMs + SHUTDOWN_MARGIN_MS);
    force.unref();
    // Jobs still running after the drain are handed back, not failed: the next start runs them at once.
    Promise.all([watchdog.stop(), caddyWatch.stop()])
      .then(() => worker.stop({ drainMs: env.workerDrainMs }))
      .then(() => disconnectDb())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ err: error }, "error while stopping the worker");
          process.exit(1);
        },
      );
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);

  worker.runner.promise.catch((error: unknown) => {
    log.fatal({ err: error }, "the worker crashed");
    process.exit(1);
  });
}

main().catch((error: unknown) => {
  log.fatal({ err: error }, "the worker could not start");
  process.exit(1);
});
