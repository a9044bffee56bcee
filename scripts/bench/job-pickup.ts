// job_pickup_ms: from enqueue (graphile_worker.add_job, as jobs/enqueue.ts calls it, through Prisma) to the start of
// the task, with graphile-worker's run() and the platform's task list plus one bench-only task. Jobs go one at a
// time, each after the previous one started, so the figure is the latency of an idle worker noticing a job (the
// LISTEN/NOTIFY path), not the length of a queue. The baseline is a bare pg LISTEN/NOTIFY round trip on the same
// server: the floor any NOTIFY-driven queue sits on.
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { run, type Task, type TaskList } from "graphile-worker";
import pg from "pg";
import { buildTaskList } from "@/jobs/runner";
import { workerLogger } from "@/lib/database/migrate";
import type { BenchContext } from "@/scripts/bench/context";
import { type Metric, ratio, round, summarize } from "@/scripts/bench/stats";

const TASK = "bench__pickup";
const WARMUP = 50;
const JOBS = 1_000;
const BURST = 1_000;
const CONCURRENCY = 4;
const JOB_TIMEOUT_MS = 10_000;
/** A burst drains at this machine's commit rate: generous, so a slow disk gives a slow figure and not a failure. */
const BURST_TIMEOUT_MS = 300_000;

async function notifyRoundTrips(url: string, count: number): Promise<number[]> {
  const listener = new pg.Client({ connectionString: url });
  const sender = new pg.Client({ connectionString: url });
  await listener.connect();
  await sender.connect();
  try {
    await listener.query("LISTEN bench_round_trip");
    let waiting: { id: string; resolve: () => void } | null = null;
    listener.on("notification", (message) => {
      if (waiting && message.payload === waiting.id) waiting.resolve();
    });
    const samples: number[] = [];
    for (let i = 0; i < WARMUP + count; i += 1) {
      const id = String(i);
      const arrived = new Promise<void>((resolve) => {
        waiting = { id, resolve };
      });
      const sent = performance.now();
      await sender.query("SELECT pg_notify('bench_round_trip', $1)", [id]);
      await arrived;
      if (i >= WARMUP) samples.push(performance.now() - sent);
    }
    return samples;
  } finally {
    await listener.end();
    await sender.end();
  }
}

export async function measureJobPickup(context: BenchContext): Promise<Metric> {
  const { url, db } = await context.benchDatabase();
  context.switchEnv({ DATABASE_URL: url, DATABASE_DIRECT_URL: url });

  const waiters = new Map<string, (startedAt: number) => void>();
  const benchTask: Task = async (payload) => {
    const startedAt = performance.now();
    const id = typeof payload === "object" && payload !== null && "id" in payload ? String(payload.id) : "";
    waiters.get(id)?.(startedAt);
  };
  const taskList: TaskList = {
    ...buildTaskList({ db, log: context.log, workerId: `bench-${randomUUID()}` }),
    [TASK]: benchTask,
  };
  const runner = await run({
    connectionString: url,
    concurrency: CONCURRENCY,
    noHandleSignals: true,
    // The platform's setting (jobs/runner.ts): polling is the fallback, NOTIFY the normal path.
    pollInterval: 2_000,
    logger: workerLogger(context.log),
    taskList,
  });

  const enqueueOne = async (
    timeoutMs: number,
  ): Promise<{ enqueuedAt: number; committedAt: number; started: Promise<number> }> => {
    const id = randomUUID();
    const started = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`job ${id} did not start within ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      waiters.set(id, (at) => {
        clearTimeout(timer);
        waiters.delete(id);
        resolve(at);
      });
    });
    const enqueuedAt = performance.now();
    await db.$executeRaw`SELECT graphile_worker.add_job(
      identifier => ${TASK}::text,
      payload => ${JSON.stringify({ id })}::json,
      max_attempts => 1
    )`;
    // Awaited by the caller, possibly later than a timeout fires (a burst): never an unhandled rejection.
    started.catch(() => undefined);
    return { enqueuedAt, committedAt: performance.now(), started };
  };

  try {
    context.progress(`job_pickup_ms: ${WARMUP} warm-up jobs, then ${JOBS} jobs one at a time`);
    const samples: number[] = [];
    const commits: number[] = [];
    const afterCommit: number[] = [];
    for (let i = 0; i < WARMUP + JOBS; i += 1) {
      const { enqueuedAt, committedAt, started } = await enqueueOne(JOB_TIMEOUT_MS);
      const startedAt = await started;
      if (i < WARMUP) continue;
      samples.push(startedAt - enqueuedAt);
      commits.push(committedAt - enqueuedAt);
      afterCommit.push(startedAt - committedAt);
    }

    // Throughput, for context: many jobs at once, as after a burst of deploys or emails.
    context.progress(`job_pickup_ms: a burst of ${BURST} jobs`);
    const burstStart = performance.now();
    const burst = await Promise.all(Array.from({ length: BURST }, () => enqueueOne(BURST_TIMEOUT_MS)));
    const lastStart = Math.max(...(await Promise.all(burst.map((job) => job.started))));
    const burstSeconds = (lastStart - burstStart) / 1000;

    context.progress("job_pickup_ms: baseline, bare LISTEN/NOTIFY round trips");
    const baseline = summarize(await notifyRoundTrips(url, JOBS));
    const pickup = summarize(samples);
    const commit = summarize(commits);
    return {
      value: round(pickup.p50),
      unit: "ms",
      p50: round(pickup.p50),
      p99: round(pickup.p99),
      max: round(pickup.max),
      samples: pickup.count,
      // The enqueue's own share: the add_job round trip and its commit, before any worker can see the job.
      enqueue_p50_ms: round(commit.p50),
      // The worker's own share: from the committed enqueue to the task running (NOTIFY, getJob and its commit).
      after_enqueue_p50_ms: round(summarize(afterCommit).p50),
      baseline: round(baseline.p50),
      baseline_p99: round(baseline.p99),
      baseline_unit: "ms (pg LISTEN/NOTIFY round trip p50)",
      ratio: ratio(pickup.p50, baseline.p50),
      burst_jobs_per_s: round(BURST / burstSeconds, 0),
      notes:
        `Enqueue (add_job through Prisma, autocommit) to task start, ${JOBS} jobs one at a time after ${WARMUP} ` +
        `warm-up, worker concurrency ${CONCURRENCY}, in-process graphile-worker run() on the bench's own embedded ` +
        `PostgreSQL (default durability, so every commit waits for an fsync: enqueue_p50_ms is mostly that on this ` +
        `disk, and a NOTIFY-only transaction writes no WAL). burst_jobs_per_s: ${BURST} jobs enqueued at once, ` +
        "first enqueue to last start.",
    };
  } finally {
    await runner.stop();
  }
}
