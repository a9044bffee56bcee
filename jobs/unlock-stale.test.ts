import { makeWorkerUtils, runOnce, type WorkerUtils } from "graphile-worker";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { enqueue } from "@/jobs/enqueue";
import { buildTaskList, startWorker } from "@/jobs/runner";
import { unlockStaleWorkers } from "@/jobs/unlock-stale";
import { workerLogger } from "@/lib/database/migrate";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { createOperation } from "@/lib/domain/operations";
import { getEnv } from "@/lib/env";
import { withRawClient } from "@/test/helpers";

const log = pino({ level: "silent" });
const STALE_AFTER_MS = 30_000;
const connectionString = () => getEnv().databaseDirectUrl ?? "";
let utils: WorkerUtils;

beforeAll(async () => {
  utils = await makeWorkerUtils({ connectionString: connectionString(), logger: workerLogger(log) });
});
afterAll(async () => {
  await utils.release();
});

/** A ping job on a named queue, as a worker that then died left it: job and queue locked an hour ago. */
async function strandedPing(lockedBy: string, lockedAgo = "1 hour") {
  const queue = `app:${crypto.randomUUID()}`;
  const operation = await getDb().$transaction(async (tx) => {
    const created = await createOperation(tx, { kind: "platform.ping" });
    await enqueue(tx, "platform__ping", { operationId: created.id }, { queue });
    return created;
  });
  const jobId = await withRawClient(async (client) => {
    const { rows } = await client.query<{ id: string }>(
      `UPDATE graphile_worker._private_jobs j SET locked_by = $1, locked_at = now() - $2::interval,
              attempts = attempts + 1
        FROM graphile_worker._private_job_queues q
        WHERE q.id = j.job_queue_id AND q.queue_name = $3 RETURNING j.id::text AS id`,
      [lockedBy, lockedAgo, queue],
    );
    await client.query(
      `UPDATE graphile_worker._private_job_queues SET locked_by = $1, locked_at = now() - $2::interval
        WHERE queue_name = $3`,
      [lockedBy, lockedAgo, queue],
    );
    return rows[0]?.id ?? "";
  });
  expect(jobId).not.toBe("");
  return { operation, queue, jobId };
}

async function beat(workerId: string, agoMs: number) {
  const at = new Date(Date.now() - agoMs);
  await getDb().workerHeartbeat.create({ data: { workerId, hostname: "h", pid: 1, startedAt: at, beatAt: at } });
}

async function locksOf(queue: string) {
  return await withRawClient(async (client) => {
    const { rows } = await client.query<{ job: string | null; queue: string | null }>(
      `SELECT j.locked_by AS job, q.locked_by AS queue FROM graphile_worker._private_jobs j
         JOIN graphile_worker._private_job_queues q ON q.id = j.job_queue_id WHERE q.queue_name = $1`,
      [queue],
    );
    return rows;
  });
}

async function drain() {
  await runOnce(
    { connectionString: connectionString(), logger: workerLogger(log) },
    buildTaskList({ db: getDb(), log, workerId: "test" }),
  );
}

async function statusOf(operationId: string) {
  return (await getDb().operation.findUniqueOrThrow({ where: { id: operationId } })).status;
}

describe("unlockStaleWorkers", () => {
  it("releases the job and named queue of a worker whose heartbeat is stale, and the job then runs", async () => {
    const dead = `pool-dead-${crypto.randomUUID()}`;
    await beat(dead, 10 * 60_000);
    const { operation, queue, jobId } = await strandedPing(dead);

    await drain();
    expect(await statusOf(operation.id)).toBe("queued");

    const released = await unlockStaleWorkers({ db: getDb(), utils, log, staleAfterMs: STALE_AFTER_MS });
    expect(released).toEqual([{ workerId: dead, jobIds: [jobId], queues: [queue] }]);
    expect(await locksOf(queue)).toEqual([{ job: null, queue: null }]);

    await drain();
    expect(await statusOf(operation.id)).toBe("succeeded");
  });

  it("releases a worker whose heartbeat row is gone (pruned, or a worker from before heartbeats)", async () => {
    const { operation, queue } = await strandedPing(`pool-gone-${crypto.randomUUID()}`);
    await unlockStaleWorkers({ db: getDb(), utils, log, staleAfterMs: STALE_AFTER_MS });
    expect(await locksOf(queue)).toEqual([{ job: null, queue: null }]);
    await drain();
    expect(await statusOf(operation.id)).toBe("succeeded");
  });

  it("leaves alone the long-running job of a worker that still beats, and the caller's own locks", async () => {
    const live = `pool-live-${crypto.randomUUID()}`;
    await beat(live, 1_000);
    const own = `pool-self-${crypto.randomUUID()}`;
    const liveJob = await strandedPing(live);
    const ownJob = await strandedPing(own);

    const released = await unlockStaleWorkers({ db: getDb(), utils, log, staleAfterMs: STALE_AFTER_MS, selfId: own });
    expect(released).toEqual([]);
    expect(await locksOf(liveJob.queue)).toEqual([{ job: live, queue: live }]);
    expect(await locksOf(ownJob.queue)).toEqual([{ job: own, queue: own }]);
    await drain();
    expect(await statusOf(liveJob.operation.id)).toBe("queued");
    await utils.forceUnlockWorkers([live, own]);
  });

  it("leaves alone a fresh lock with no heartbeat yet (a worker that has just started)", async () => {
    const starting = `pool-new-${crypto.randomUUID()}`;
    const { queue } = await strandedPing(starting, "1 second");
    expect(await unlockStaleWorkers({ db: getDb(), utils, log, staleAfterMs: STALE_AFTER_MS })).toEqual([]);
    expect(await locksOf(queue)).toEqual([{ job: starting, queue: starting }]);
    await utils.forceUnlockWorkers([starting]);
  });

  it("issues the same queries for one dead worker as for three", async () => {
    const measure = async (deadWorkers: number) => {
      for (let i = 0; i < deadWorkers; i++) await strandedPing(`pool-n-${crypto.randomUUID()}`);
      const withPgClient = vi.spyOn(utils, "withPgClient");
      const forceUnlock = vi.spyOn(utils, "forceUnlockWorkers");
      const { result, count } = await countQueries(() =>
        unlockStaleWorkers({ db: getDb(), utils, log, staleAfterMs: STALE_AFTER_MS }),
      );
      const calls = { prisma: count, pg: withPgClient.mock.calls.length, unlock: forceUnlock.mock.calls.length };
      withPgClient.mockRestore();
      forceUnlock.mockRestore();
      expect(result).toHaveLength(deadWorkers);
      return calls;
    };
    expect(await measure(3)).toEqual(await measure(1));
    await drain();
  });
});

describe("startWorker and stranded jobs", () => {
  it("runs, once started, the job its killed predecessor left locked", async () => {
    const dead = `pool-killed-${crypto.randomUUID()}`;
    await beat(dead, 10 * 60_000);
    const { operation, queue } = await strandedPing(dead);
    const worker = await startWorker({
      connectionString: connectionString(),
      db: getDb(),
      log,
      concurrency: 2,
      pollInterval: 200,
    });
    try {
      let status = await statusOf(operation.id);
      for (let delay = 25; status !== "succeeded" && delay < 10_000; delay *= 2) {
        await new Promise((resolve) => setTimeout(resolve, delay));
        status = await statusOf(operation.id);
      }
      expect(status).toBe("succeeded");
      expect(await locksOf(queue)).toEqual([]);
    } finally {
      await worker.stop();
    }
  });

  it("beats under the id graphile-worker locks its jobs with, so a live worker is never taken for dead", async () => {
    const worker = await startWorker({
      connectionString: connectionString(),
      db: getDb(),
      log,
      concurrency: 2,
      pollInterval: 200,
    });
    const lockers: (string | null)[] = [];
    worker.runner.events.on("job:start", ({ job }) => lockers.push(job.locked_by));
    try {
      const operation = await getDb().$transaction(async (tx) => {
        const created = await createOperation(tx, { kind: "platform.ping" });
        await enqueue(tx, "platform__ping", { operationId: created.id });
        return created;
      });
      let status = operation.status;
      for (let delay = 25; status !== "succeeded" && delay < 10_000; delay *= 2) {
        await new Promise((resolve) => setTimeout(resolve, delay));
        status = await statusOf(operation.id);
      }
      expect(status).toBe("succeeded");
      expect(lockers.length).toBeGreaterThan(0);
      expect(new Set(lockers)).toEqual(new Set([worker.workerId]));
      expect(await getDb().workerHeartbeat.count({ where: { workerId: worker.workerId } })).toBe(1);
    } finally {
      await worker.stop();
    }
  });
});
