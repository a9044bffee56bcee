// Enqueue a job on the caller's transaction: the intent row and its job commit or roll back together. Reads the job
// catalog (jobs/catalog.ts), never the task registry: the web side must not load the worker's code.
import type { z } from "zod";
import { buildSlotQueue } from "@/jobs/build-slots";
import { catalog, type TaskName } from "@/jobs/catalog";
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
  payload: z.input<(typeof catalog)[Name]["payload"]>,
  options: EnqueueOptions = {},
): Promise<void> {
  const definition = catalog[task];
  // Validate on the way in too: a bad payload is the caller's bug and must fail the caller's transaction.
  const parsed = definition.payload.parse(payload);
  // Builds go to one of their team's build slots (jobs/build-slots.ts), whoever enqueues them.
  const queue =
    options.queue ??
    (task === "deployment__build"
      ? await buildSlotQueue(tx, catalog.deployment__build.payload.parse(payload).deploymentId)
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

/**
 * Many jobs of one task in one statement (graphile_worker.add_jobs), for fan-outs that must stay constant-query
 * (lib/domain/notifications.ts: one delivery per channel). No job keys or queue overrides: each job stands alone.
 */
export async function enqueueMany<Name extends TaskName>(
  tx: Tx,
  task: Name,
  payloads: z.input<(typeof catalog)[Name]["payload"]>[],
): Promise<void> {
  if (payloads.length === 0) return;
  const definition = catalog[task];
  const parsed = payloads.map((payload) => JSON.stringify(definition.payload.parse(payload)));
  await tx.$executeRaw`SELECT graphile_worker.add_jobs(ARRAY(
    SELECT ROW(${task}::text, p::json, ${definition.queue ?? null}::text, NULL, ${definition.maxAttempts}::int,
      NULL, NULL, NULL)::graphile_worker.job_spec
    FROM unnest(${parsed}::text[]) AS p
  ))`;
}

/**
 * Asks for a caddy__sync in the caller's transaction (e.g. with the rename that changes a hostname). Pending syncs
 * share one job key and collapse into one: each renders the latest state anyway.
 */
export async function requestRoutingSync(tx: Tx): Promise<void> {
  await enqueue(tx, "caddy__sync", {}, { jobKey: "caddy-sync" });
}
