// The worker: graphile-worker with the typed task registry, a heartbeat row, and graceful shutdown.
import { randomUUID } from "node:crypto";
import os from "node:os";
import { type JobHelpers, type Runner, run, type Task, type TaskList } from "graphile-worker";
import type { Logger } from "pino";
import { cronItems } from "@/jobs/crontab";
import type { TaskContext, TaskDefinition } from "@/jobs/define";
import { tasks } from "@/jobs/tasks";
import { workerLogger } from "@/lib/database/migrate";
import type { Db } from "@/lib/db";
import { isAppError } from "@/lib/errors";

export const HEARTBEAT_INTERVAL_MS = 5_000;

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
}): Promise<WorkerHandle> {
  const workerId = randomUUID();
  const log = options.log.child({ component: "worker", workerId });
  const startedAt = new Date();

  const beat = async () => {
    const now = new Date();
    await options.db.workerHeartbeat.upsert({
      where: { workerId },
      create: { workerId, hostname: os.hostname(), pid: process.pid, startedAt, beatAt: now },
      update: { beatAt: now },
    });
  };
  await beat();
  const heartbeat = setInterval(() => {
    beat().catch((error: unknown) => log.warn({ err: error }, "heartbeat failed"));
  }, HEARTBEAT_INTERVAL_MS);
  heartbeat.unref();

  const runner = await run({
    connectionString: options.connectionString,
    concurrency: options.concurrency,
    noHandleSignals: true,
    pollInterval: options.pollInterval ?? 2_000,
    logger: workerLogger(log),
    taskList: buildTaskList({ db: options.db, log, workerId }),
    parsedCronItems: cronItems(),
  });
  log.info({ concurrency: options.concurrency, tasks: Object.keys(tasks) }, "worker started");

  let stopping: Promise<void> | undefined;
  return {
    workerId,
    runner,
    stop() {
      stopping ??= (async () => {
        clearInterval(heartbeat);
        await runner.stop();
        await options.db.workerHeartbeat.deleteMany({ where: { workerId } }).catch(() => undefined);
        log.info("worker stopped");
      })();
      return stopping;
    },
  };
}
