// Graceful stop in the middle of a job: a real worker process gets SIGTERM while a task blocks; after the drain time
// it hands the job back (unlocked, attempt returned), and the next worker runs it at once, not after the stale limit.
import { spawn } from "node:child_process";
import readline from "node:readline";
import { makeWorkerUtils } from "graphile-worker";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { startWorker } from "@/jobs/runner";
import { workerLogger } from "@/lib/database/migrate";
import { getDb } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { withRawClient } from "@/test/helpers";

const log = pino({ level: "silent" });
const connectionString = () => getEnv().databaseDirectUrl ?? "";

type JobRow = { locked_by: string | null; attempts: number; queue_locked_by: string | null };

async function jobRow(id: string): Promise<JobRow> {
  return await withRawClient(async (client) => {
    const { rows } = await client.query<JobRow>(
      `SELECT j.locked_by, j.attempts, q.locked_by AS queue_locked_by
         FROM graphile_worker._private_jobs j JOIN graphile_worker._private_job_queues q ON q.id = j.job_queue_id
        WHERE j.id = $1::bigint`,
      [id],
    );
    const row = rows[0];
    if (!row) throw new Error(`job ${id} is gone`);
    return row;
  });
}

describe("worker stop with a drain time", () => {
  it("hands a job still running after the drain back, and the next start runs it at once", async () => {
    const utils = await makeWorkerUtils({ connectionString: connectionString(), logger: workerLogger(log) });
    // One attempt: graphile-worker's own forced shutdown would fail it for good.
    const job = await utils.addJob("test__block", {}, { queueName: `app:${crypto.randomUUID()}`, maxAttempts: 1 });
    await utils.release();

    const child = spawn(process.execPath, ["--import", "tsx", "test/drain-worker-child.ts", "300"], {
      env: process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const lines: string[] = [];
    const started = new Promise<void>((resolve) => {
      readline.createInterface({ input: child.stdout }).on("line", (line) => {
        lines.push(line);
        if (line === `started ${job.id}`) resolve();
      });
    });
    await started;
    expect(await jobRow(job.id)).toMatchObject({ attempts: 1 });
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(lines).toContain(`handed back ${job.id}`);
    expect(await jobRow(job.id)).toEqual({ locked_by: null, attempts: 0, queue_locked_by: null });

    // The next start: an hour's stale limit, so only the hand-back can have freed the job.
    let ran!: () => void;
    const rerun = new Promise<void>((resolve) => {
      ran = resolve;
    });
    const next = await startWorker({
      connectionString: connectionString(),
      db: getDb(),
      log,
      concurrency: 1,
      pollInterval: 100,
      staleAfterMs: 3_600_000,
      extraTasks: { test__block: async () => ran() },
    });
    try {
      await rerun;
    } finally {
      await next.stop();
    }
    const left = await withRawClient((client) =>
      client.query("SELECT 1 FROM graphile_worker._private_jobs WHERE id = $1::bigint", [job.id]),
    );
    expect(left.rowCount).toBe(0);
  });
});

describe("a stop signal during start-up", () => {
  it("exits 0 before taking any job when SIGTERM arrives while the worker is still starting", async () => {
    const utils = await makeWorkerUtils({ connectionString: connectionString(), logger: workerLogger(log) });
    // In a queue, like the app jobs a stopping worker must not take (jobRow reads the queue's lock too).
    const job = await utils.addJob(
      "platform__ping",
      { operationId: crypto.randomUUID() },
      { queueName: `app:${crypto.randomUUID()}` },
    );
    await utils.release();

    // Holding graphile-worker's migrations table keeps the worker's start-up waiting in its schema check: signalled
    // then, it is provably starting, whatever the speed of the machine.
    let pid: number | undefined;
    await withRawClient(async (client) => {
      await client.query("BEGIN");
      await client.query("LOCK TABLE graphile_worker.migrations IN ACCESS EXCLUSIVE MODE");
      const child = spawn(process.execPath, ["--import", "tsx", "jobs/worker.ts"], {
        env: process.env,
        stdio: ["ignore", "ignore", "ignore"],
      });
      pid = child.pid;
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once("exit", (code, signal) => resolve({ code, signal })),
      );
      try {
        for (;;) {
          const waiting = await withRawClient((other) =>
            other.query(
              `SELECT 1 FROM pg_locks WHERE relation = 'graphile_worker.migrations'::regclass AND NOT granted`,
            ),
          );
          if ((waiting.rowCount ?? 0) > 0) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        child.kill("SIGTERM");
        expect(await exited).toEqual({ code: 0, signal: null });
      } finally {
        child.kill("SIGKILL");
        await client.query("ROLLBACK");
      }
    });

    // Never taken: not locked, no attempt used, and no worker announced itself.
    expect(await jobRow(job.id)).toEqual({ locked_by: null, attempts: 0, queue_locked_by: null });
    expect(await getDb().workerHeartbeat.count({ where: { pid } })).toBe(0);
  });
});

describe("a stop signal once started", () => {
  it("stops the started worker on SIGTERM, exit 0, its heartbeat removed", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "jobs/worker.ts"], {
      env: process.env,
      stdio: ["ignore", "ignore", "ignore"],
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    try {
      // The heartbeat is written once the runner exists: the worker is past its start-up.
      while ((await getDb().workerHeartbeat.count({ where: { pid: child.pid } })) === 0) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      child.kill("SIGTERM");
      expect(await exited).toEqual({ code: 0, signal: null });
    } finally {
      child.kill("SIGKILL");
    }
    expect(await getDb().workerHeartbeat.count({ where: { pid: child.pid } })).toBe(0);
  });
});
