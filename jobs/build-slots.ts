// Which build slot (graphile-worker queue) a deployment's build goes to: one team never runs more builds at once
// than its concurrentBuilds quota (lib/domain/quotas.ts).
//
// Why named queues rather than a semaphore table claimed when the build starts: the queue's lock IS the job's lock.
// graphile-worker takes it when it hands the job to a worker and drops it when the job succeeds, fails (the retry
// waits with the queue free) or is released by a graceful shutdown; after a crash, its stale-lock sweep frees job
// and queue together. There is no second lock that could leak, no lease to renew, and a waiting build uses no
// attempt and no worker. Slots are picked at enqueue time, so a lowered quota applies to builds enqueued afterwards.
import { buildQueue } from "@/jobs/queues";
import type { Tx } from "@/lib/db";
import { effectiveQuotas } from "@/lib/domain/quotas";

/** The least busy of the team's build slots (the lowest on a tie); null if the deployment is gone. */
export async function buildSlotQueue(tx: Tx, deploymentId: string): Promise<string | null> {
  const deployment = await tx.deployment.findUnique({ where: { id: deploymentId }, select: { teamId: true } });
  if (!deployment) return null;
  const { concurrentBuilds } = await effectiveQuotas(tx, deployment.teamId);
  const prefix = buildQueue(deployment.teamId, 0).slice(0, -1);
  // Jobs still to run or running (a job whose attempts are spent stays in the table but will never run again).
  const rows = await tx.$queryRaw<{ queue_name: string; jobs: number }[]>`
    SELECT queue_name, count(*)::int AS jobs FROM graphile_worker.jobs
    WHERE queue_name LIKE ${`${prefix}%`} AND attempts < max_attempts
    GROUP BY queue_name`;
  const load = new Map(rows.map((row) => [row.queue_name, row.jobs]));
  let best = 0;
  for (let slot = 1; slot < concurrentBuilds; slot++) {
    if ((load.get(buildQueue(deployment.teamId, slot)) ?? 0) < (load.get(buildQueue(deployment.teamId, best)) ?? 0)) {
      best = slot;
    }
  }
  return buildQueue(deployment.teamId, best);
}
