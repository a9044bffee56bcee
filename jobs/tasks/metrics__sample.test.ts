// The sampler's cadence: the crontab's run each minute queues the passes at 15, 30 and 45 s under job keys (a
// duplicate tick replaces them, never doubles them), and those passes queue nothing; a pass samples the fake podman.
import { randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cronItems } from "@/jobs/crontab";
import type { TaskContext } from "@/jobs/define";
import { tasks } from "@/jobs/tasks";
import { getDb } from "@/lib/db";
import { type FakePodman, installFakePodman } from "@/test/fake-podman/install";
import { pendingJobs, withRawClient } from "@/test/helpers";
import { seedApp, silentLog } from "@/test/release-helpers";

let podman: FakePodman;

beforeAll(async () => {
  podman = await installFakePodman();
});

afterAll(async () => {
  await podman.cleanup();
});

const ctx = (): TaskContext => ({
  db: getDb(),
  log: silentLog,
  jobId: "1",
  attempt: 1,
  maxAttempts: 1,
  workerId: "test",
});

describe("metrics__sample", () => {
  it("runs from the crontab each minute and queues three passes 15 s apart, once per tick", async () => {
    expect(cronItems().map((item) => item.task)).toEqual(
      expect.arrayContaining(["metrics__sample", "metrics__rollup"]),
    );
    const tick = "2026-12-03T18:00:00.000Z";
    await tasks.metrics__sample.run({ _cron: { ts: tick } }, ctx());
    await tasks.metrics__sample.run({ _cron: { ts: tick } }, ctx());
    const queued = await pendingJobs("metrics__sample");
    expect(queued.map((job) => job.payload)).toEqual([{ offset: 15 }, { offset: 30 }, { offset: 45 }]);
    const runAt = await withRawClient(async (client) => {
      const result = await client.query<{ run_at: Date; queue: string | null }>(
        `SELECT j.run_at, q.queue_name AS queue FROM graphile_worker._private_jobs j
         JOIN graphile_worker._private_tasks t ON t.id = j.task_id
         LEFT JOIN graphile_worker._private_job_queues q ON q.id = j.job_queue_id
         WHERE t.identifier = 'metrics__sample' ORDER BY j.run_at`,
      );
      return result.rows;
    });
    expect(runAt.map((row) => row.run_at.toISOString())).toEqual([
      "2026-12-03T18:00:15.000Z",
      "2026-12-03T18:00:30.000Z",
      "2026-12-03T18:00:45.000Z",
    ]);
    expect(new Set(runAt.map((row) => row.queue))).toEqual(new Set(["metrics"]));
  });

  it("samples in a follow-up pass and queues nothing more", async () => {
    const { app } = await seedApp();
    await podman.configure({});
    // A running container of the app in the fake's state is what `podman stats` reports.
    const name = `tsl-${app.id.replaceAll("-", "")}-1-0`;
    await getDb().replica.create({
      data: {
        appId: app.id,
        deploymentId: randomUUID(),
        process: "web",
        index: 0,
        containerName: name,
        status: "healthy",
      },
    });
    const statsFile = `${podman.stateDir}.stats.json`;
    await writeFile(statsFile, JSON.stringify({ [name]: { cpuPercent: 20 } }));
    await podman.configure({ STATS: statsFile });
    const before = (await pendingJobs("metrics__sample")).length;
    await tasks.metrics__sample.run({ offset: 15 }, ctx());
    expect((await pendingJobs("metrics__sample")).length).toBe(before);
    const rows = await getDb().metricSample.findMany({ where: { appId: app.id } });
    expect(rows.map((row) => row.cpu)).toEqual([0.2]);
  });
});
