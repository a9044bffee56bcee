// Releases the jobs and named queues that a dead worker still holds. graphile-worker only frees a crashed worker's
// locks after 4 hours, so a deploy whose worker was killed would sit in building/releasing that long, and its app's
// queue (app:<id>, build:<team>:<slot>) would block every later job behind it. A lock holder is dead when it has no
// heartbeat newer than `staleAfterMs` (jobs/runner.ts beats under graphile-worker's own pool id, the id in
// locked_by) and none of its locks is newer than that either: a worker that has just started may lock a job before
// its first beat lands.
import type { WorkerUtils } from "graphile-worker";
import type { Logger } from "pino";
import type { Db } from "@/lib/db";

type LockRow = { locked_by: string; job_id: string | null; task: string | null; queue_name: string | null };

export type UnlockedWorker = { workerId: string; jobIds: string[]; queues: string[] };

/**
 * Unlocks every lock holder that is neither `selfId` nor alive. Returns what was released, for the log and tests.
 * Run from each worker at start and periodically: two reads and at most one update, whatever the number of locks.
 */
export async function unlockStaleWorkers(options: {
  db: Db;
  utils: WorkerUtils;
  log: Logger;
  staleAfterMs: number;
  /** The calling worker's own id: never unlocked, even if its own heartbeat lags behind (a database hiccup). */
  selfId?: string;
}): Promise<UnlockedWorker[]> {
  const { db, utils, log, staleAfterMs, selfId } = options;
  // Heartbeats are read first: a worker that starts after this read has only fresh locks, which the query skips.
  const alive = await db.workerHeartbeat.findMany({
    where: { beatAt: { gte: new Date(Date.now() - staleAfterMs) } },
    select: { workerId: true },
  });
  const keep = alive.map((row) => row.workerId);
  if (selfId) keep.push(selfId);

  const { rows } = await utils.withPgClient((client) =>
    client.query<LockRow>(
      `WITH locks AS (
         SELECT j.locked_by, j.locked_at, j.id::text AS job_id, t.identifier AS task, NULL::text AS queue_name
           FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id
          WHERE j.locked_by IS NOT NULL
         UNION ALL
         SELECT q.locked_by, q.locked_at, NULL, NULL, q.queue_name
           FROM graphile_worker._private_job_queues q
          WHERE q.locked_by IS NOT NULL
       ), dead AS (
         SELECT locked_by FROM locks
          WHERE locked_by <> ALL($1::text[])
          GROUP BY locked_by
         HAVING max(locked_at) < now() - make_interval(secs => $2::double precision / 1000)
       )
       SELECT l.locked_by, l.job_id, l.task, l.queue_name FROM locks l JOIN dead d USING (locked_by)
        ORDER BY l.locked_by, l.job_id, l.queue_name`,
      [keep, staleAfterMs],
    ),
  );
  if (rows.length === 0) return [];

  const byWorker = new Map<string, UnlockedWorker>();
  for (const row of rows) {
    const entry = byWorker.get(row.locked_by) ?? { workerId: row.locked_by, jobIds: [], queues: [] };
    if (row.job_id !== null) entry.jobIds.push(row.job_id);
    if (row.queue_name !== null) entry.queues.push(row.queue_name);
    byWorker.set(row.locked_by, entry);
  }
  const unlocked = [...byWorker.values()];
  await utils.forceUnlockWorkers(unlocked.map((entry) => entry.workerId));
  for (const entry of unlocked) {
    const tasks = rows.filter((row) => row.locked_by === entry.workerId && row.task !== null).map((row) => row.task);
    log.warn(
      { deadWorkerId: entry.workerId, jobIds: entry.jobIds, tasks, queues: entry.queues },
      "released the jobs and queues of a worker that stopped beating; they run again",
    );
  }
  return unlocked;
}
