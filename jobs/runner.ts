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

export type WorkerHandle = { workerId: string; runner: Runner; stop(): Promise<void> };

export async function startWorker(options: {
  connectionString: string;
  db: Db;
  log: Logger;
  concurrency: number;
  pollInterval?: number;
  staleAfterMs?: number;
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
    taskList: buildTaskList(deps),
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

  let stopping: Promise<void> | undefined;
  return {
    workerId,
    runner,
    stop() {
      stopping ??= (async () => {
        clearInterval(heartbeat);
        clearInterval(sweep);
        await runner.stop();
        await utils.release();
        await options.db.workerHeartbeat.deleteMany({ where: { workerId } }).catch(() => undefined);
        log.info("worker stopped");
      })();
      return stopping;
    },
  };
}
