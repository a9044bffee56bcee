// Enqueue a job on the caller's transaction: the intent row and its job commit or roll back together.
import type { z } from "zod";
import { buildSlotQueue } from "@/jobs/build-slots";
import { type TaskName, tasks } from "@/jobs/tasks";
import type { Tx } from "@/lib/db";

export type EnqueueOptions = {
  /** Replaces a pending job with the same key instead of adding a second one (graphile-worker `job_key`). */
  jobKey?: string;
  runAt?: Date;
  priority?: number;
  /** Overrides the task's own queue, e.g. one queue per app so its releases never overlap (lib/engine/release). */
  queue?: string;
};

export async function enqueue<Name extends TaskName>(
  tx: Tx,
  task: Name,
  payload: z.input<(typeof tasks)[Name]["payload"]>,
  options: EnqueueOptions = {},
): Promise<void> {
  const definition = tasks[task];
  // Validate on the way in too: a bad payload is the caller's bug and must fail the caller's transaction.
  const parsed = definition.payload.parse(payload);
  // Builds go to one of their team's build slots (jobs/build-slots.ts), whoever enqueues them.
  const queue =
    options.queue ??
    (task === "deployment__build"
      ? await buildSlotQueue(tx, tasks.deployment__build.payload.parse(payload).deploymentId)
      : definition.queue) ??
    null;
  await tx.$executeRaw`SELECT graphile_worker.add_job(
    identifier => ${task}::text,
    payload => ${JSON.stringify(parsed)}::json,
    queue_name => ${queue}::text,
    run_at => ${options.runAt ?? null}::timestamptz,
    max_attempts => ${definition.maxAttempts}::int,
    job_key => ${options.jobKey ?? null}::text,
    priority => ${options.priority ?? null}::int
  )`;
}
