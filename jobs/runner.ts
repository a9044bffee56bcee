// The worker: graphile-worker with the typed task registry, a heartbeat row, the release of dead workers' locks
// (jobs/unlock-stale.ts), and graceful shutdown.
import { EventEmitter } from "node:events";
import os from "node:os";
import {
  type JobHelpers,
  makeWorkerUtils,
  type Runner,
  run,
  type Task,
  type TaskList,
  type WorkerEvents,
  type WorkerUtils,
} from "graphile-worker";
import type { Logger } from "pino";
import { cronItems } from "@/jobs/crontab";
import type { TaskContext, TaskDefinition } from "@/jobs/define";
import { tasks } from "@/jobs/tasks";
import { unlockStaleWorkers } from "@/jobs/unlock-stale";
import { workerLogger } from "@/lib/database/migrate";
import type { Db } from "@/lib/db";
import { isAppError } from "@/lib/errors";

export const HEARTBEAT_INTERVAL_MS = 5_000;
/** A worker with no heartbeat for this long is dead and its locks are released (TUSSILAGO_WORKER_STALE_AFTER_S). */
export const DEFAULT_STALE_AFTER_MS = 30_000;

/** What the user reads when a task gives up: AppErrors are written for users; anything else is not. */
export function giveUpReason(error: unknown, attempts: number, jobId: string): string {
  if (isAppError(error)) return error.message;
  return `The platform could not complete this after ${attempts} attempt${attempts === 1 ? "" : "s"} because of an internal error (reference ${jobId}). An operator can find the details in the worker log.`;
}

export function wrapTask(definition: TaskDefinition, deps: { db: Db; log: Logger; workerId: string }): Task {
  return async (rawPayload: unknown, helpers: JobHelpers) => {
    const job = helpers.job;
    const log = deps.log.child({ jobId: job.id, task: definition.name, attempt: job.attempts });
    const ctx: TaskContext = {
      db: deps.db,
      log,
      jobId: String(job.id),
      attempt: job.attempts,
      maxAttempts: job.max_attempts,
      workerId: deps.workerId,
    };
    const parsed = definition.payload.safeParse(rawPayload);
    if (!parsed.success) {
      // A payload that does not validate never will: log it and finish the job instead of retrying.
      log.error({ issues: parsed.error.issues }, "invalid job payload; dropping the job");
      return;
    }
    try {
      await definition.run(parsed.data, ctx);
    } catch (error) {
      const lastAttempt = job.attempts >= job.max_attempts;
      log.error({ err: error, lastAttempt }, "task failed");
      if (lastAttempt && definition.onGiveUp) {
        await definition.onGiveUp(parsed.data, giveUpReason(error, job.attempts, String(job.id)), ctx);
      }
      throw error;
    }
  };
}

export function buildTaskList(deps: { db: Db; log: Logger; workerId: string }): TaskList {
  const list: TaskList = {};
  for (const definition of Object.values(tasks)) list[definition.name] = wrapTask(definition, deps);
  return list;
}

export type WorkerHandle = {
  workerId: string;
  runner: Runner;
  /**
   * Stops taking jobs and waits for the running ones. With `drainMs`, jobs still running after that long are handed
   * back (unlocked, attempt returned) so that the next worker runs them at once instead of after the stale-lock limit;
   * the caller must then exit the process, since their code is still running here.
   */
  stop(options?: { drainMs?: number }): Promise<{ handedBack: string[] }>;
};

/**
 * Unlocks this worker's own jobs and queues and gives back the attempt each job used, as graphile-worker's internal
 * returnJobs does. Its own shutdown cannot: after gracefulShutdownAbortTimeout it "fails" running jobs, which uses
 * up the attempt (a last attempt is lost without onGiveUp) and delays the retry by exp(attempts) seconds.
 */
async function handBackJobs(utils: WorkerUtils, workerId: string): Promise<string[]> {
  // One statement: PostgreSQL runs every data-modifying WITH part to completion, read or not.
  const { rows } = await utils.withPgClient((client) =>
    client.query<{ id: string }>(
      `WITH j AS (
         UPDATE graphile_worker._private_jobs
            SET attempts = greatest(0, attempts - 1), locked_by = NULL, locked_at = NULL
          WHERE locked_by = $1::text
          RETURNING id
       ), q AS (
         UPDATE graphile_worker._private_job_queues SET locked_by = NULL, locked_at = NULL
          WHERE locked_by = $1::text
          RETURNING id
       )
       SELECT id::text AS id FROM j ORDER BY id`,
      [workerId],
    ),
  );
  return rows.map((row) => row.id);
}

export async function startWorker(options: {
  connectionString: string;
  db: Db;
  log: Logger;
  concurrency: number;
  pollInterval?: number;
  staleAfterMs?: number;
  /** Test-only tasks next to the registry's (the registry itself is one file per task in jobs/tasks). */
  extraTasks?: TaskList;
}): Promise<WorkerHandle> {
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  // graphile-worker writes its pool's id, not one of our choosing, into locked_by: the heartbeat row must carry that
  // same id, or the unlocker could not tell this live worker's locks from a dead one's. The pool is created inside
  // run(), before any job is locked, and announces itself synchronously; the tasks read deps when they run.
  const deps = { db: options.db, log: options.log.child({ component: "worker" }), workerId: "" };
  const events: WorkerEvents = new EventEmitter();
  events.once("pool:create", ({ workerPool }) => {
    deps.workerId = workerPool.id;
    deps.log = deps.log.child({ workerId: workerPool.id });
  });
  const startedAt = new Date();

  const runner = await run({
    connectionString: options.connectionString,
    concurrency: options.concurrency,
    noHandleSignals: true,
    pollInterval: options.pollInterval ?? 2_000,
    logger: workerLogger(deps.log),
    taskList: { ...buildTaskList(deps), ...options.extraTasks },
    parsedCronItems: cronItems(),
    events,
  });
  const { workerId, log } = deps;
  if (workerId === "") {
    await runner.stop();
    throw new Error("graphile-worker did not announce its pool id; the heartbeat could not name this worker's locks");
  }
  const utils = await makeWorkerUtils({
    connectionString: options.connectionString,
    logger: workerLogger(log),
    maxPoolSize: 1,
  });

  const beat = async () => {
    const now = new Date();
    await options.db.workerHeartbeat.upsert({
      where: { workerId },
      create: { workerId, hostname: os.hostname(), pid: process.pid, startedAt, beatAt: now },
      update: { beatAt: now },
    });
  };
  const unlock = () =>
    unlockStaleWorkers({ db: options.db, utils, log, staleAfterMs, selfId: workerId }).catch((error: unknown) =>
      log.warn({ err: error }, "could not release the locks of dead workers"),
    );
  await beat();
  // At start: the worker this one replaces (killed, crashed) is usually the holder of the stranded jobs.
  await unlock();
  const heartbeat = setInterval(() => {
    beat().catch((error: unknown) => log.warn({ err: error }, "heartbeat failed"));
  }, HEARTBEAT_INTERVAL_MS);
  heartbeat.unref();
  // Half the limit: a dead worker's jobs run again at most 1.5 limits after its last beat.
  const sweep = setInterval(unlock, Math.max(HEARTBEAT_INTERVAL_MS, staleAfterMs / 2));
  sweep.unref();
  log.info({ concurrency: options.concurrency, tasks: Object.keys(tasks), staleAfterMs }, "worker started");

  let stopping: Promise<{ handedBack: string[] }> | undefined;
  return {
    workerId,
    runner,
    stop(stopOptions) {
      stopping ??= (async () => {
        clearInterval(heartbeat);
        clearInterval(sweep);
        const drained = runner.stop().then(() => true);
        let handedBack: string[] = [];
        if (stopOptions?.drainMs === undefined) {
          await drained;
        } else {
          let timer: NodeJS.Timeout | undefined;
          const timedOut = new Promise<false>((resolve) => {
            timer = setTimeout(() => resolve(false), stopOptions.drainMs);
          });
          const finished = await Promise.race([drained, timedOut]);
          clearTimeout(timer);
          if (!finished) {
            handedBack = await handBackJobs(utils, workerId);
            log.warn(
              { jobIds: handedBack, drainMs: stopOptions.drainMs },
              "running jobs did not finish within the drain time; handed them back to the queue",
            );
          }
        }
        await utils.release();
        await options.db.workerHeartbeat.deleteMany({ where: { workerId } }).catch(() => undefined);
        log.info({ handedBack: handedBack.length }, "worker stopped");
        return { handedBack };
      })();
      return stopping;
    },
  };
}
