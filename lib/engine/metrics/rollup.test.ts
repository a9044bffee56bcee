// Downsampling and retention: 5-minute buckets per process type from the raw samples (CPU averaged and maxed,
// memory summed over replicas then averaged, network summed), HTTP buckets with exactly merged histograms, the same
// rows on a re-run, and raw rows past 24 hours and buckets past 30 days pruned.
import { describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { addSample, quantileMs } from "@/lib/domain/metrics-histogram";
import { rollupMetrics } from "@/lib/engine/metrics";
import { seedApp } from "@/test/release-helpers";

const NOW = Date.parse("2026-12-03T12:07:30.000Z");
const minute = (m: number) => new Date(Date.parse("2026-12-03T12:00:00.000Z") + m * 60_000);

function sampleRow(appId: string, process: string, replica: number, at: Date, cpu: number, memory: number) {
  return {
    appId,
    process,
    replica,
    at,
    cpu,
    memoryBytes: BigInt(memory),
    memoryLimitBytes: 512n,
    netInBytes: 10n,
    netOutBytes: 20n,
    netInTotal: 0n,
    netOutTotal: 0n,
    pids: 3,
    restarts: 0,
  };
}

function httpRow(appId: string, start: Date, latencies: number[], statuses: number[]) {
  const latency: number[] = [];
  for (const ms of latencies) addSample(latency, ms);
  const klass = (k: number) => statuses.filter((status) => Math.floor(status / 100) === k).length;
  return {
    appId,
    step: 60,
    start,
    requests: statuses.length,
    status1xx: klass(1),
    status2xx: klass(2),
    status3xx: klass(3),
    status4xx: klass(4),
    status5xx: klass(5),
    bytes: BigInt(100 * statuses.length),
    latency,
  };
}

describe("metrics rollup", () => {
  it("writes 5-minute buckets from the raw rows, the same ones on every run", async () => {
    const { app } = await seedApp();
    await getDb().metricSample.createMany({
      data: [
        // 12:00-12:05: two samples of two web replicas and one worker sample.
        sampleRow(app.id, "web", 0, minute(0), 0.2, 100),
        sampleRow(app.id, "web", 1, minute(0), 0.4, 300),
        sampleRow(app.id, "web", 0, minute(1), 0.6, 200),
        sampleRow(app.id, "web", 1, minute(1), 0.8, 400),
        sampleRow(app.id, "worker", 0, minute(2), 0.1, 50),
        // 12:05-12:10 is not complete at NOW: not bucketed yet.
        sampleRow(app.id, "web", 0, minute(6), 0.9, 900),
      ],
    });
    const fast = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    await getDb().httpMetric.createMany({
      data: [
        httpRow(app.id, minute(0), fast, [200, 200, 200, 200, 200, 200, 200, 200, 404, 500]),
        httpRow(app.id, minute(3), [250, 300], [200, 302]),
      ],
    });

    const first = await rollupMetrics(getDb(), NOW);
    expect(first.to).toEqual(minute(5));
    const buckets = await getDb().metricBucket.findMany({ where: { appId: app.id }, orderBy: { process: "asc" } });
    expect(buckets).toHaveLength(2);
    const [web, worker] = buckets;
    expect(web).toMatchObject({ start: minute(0), memoryAvg: 500n, memoryMax: 600n, netInBytes: 40n, samples: 2 });
    expect(web?.cpuAvg).toBeCloseTo(0.5);
    expect(web?.cpuMax).toBeCloseTo(0.8);
    expect(worker).toMatchObject({ memoryAvg: 50n, samples: 1 });

    const http = await getDb().httpMetric.findFirstOrThrow({ where: { appId: app.id, step: 300 } });
    expect(http).toMatchObject({ start: minute(0), requests: 12, status2xx: 9, status3xx: 1, status4xx: 1 });
    const all: number[] = [];
    for (const ms of [...fast, 250, 300]) addSample(all, ms);
    expect(http.latency).toEqual(all);
    expect(quantileMs(http.latency, 0.99)).toBe(quantileMs(all, 0.99));

    await rollupMetrics(getDb(), NOW);
    await rollupMetrics(getDb(), NOW + 1000);
    expect(await getDb().metricBucket.findMany({ where: { appId: app.id }, orderBy: { process: "asc" } })).toEqual(
      buckets,
    );
    expect(await getDb().httpMetric.findFirstOrThrow({ where: { appId: app.id, step: 300 } })).toEqual(http);
  });

  it("prunes raw rows past 24 hours and buckets past 30 days", async () => {
    const { app } = await seedApp();
    const day = 24 * 60 * 60_000;
    const old = new Date(NOW - day - 60_000);
    const recent = new Date(NOW - day + 10 * 60_000);
    await getDb().metricSample.createMany({
      data: [sampleRow(app.id, "web", 0, old, 0.1, 1), sampleRow(app.id, "web", 0, recent, 0.1, 1)],
    });
    await getDb().httpMetric.createMany({
      data: [httpRow(app.id, old, [1], [200]), { ...httpRow(app.id, new Date(NOW - 31 * day), [1], [200]), step: 300 }],
    });
    await getDb().metricBucket.createMany({
      data: [29, 31].map((days) => ({
        appId: app.id,
        process: "web",
        start: new Date(NOW - days * day),
        cpuAvg: 0,
        cpuMax: 0,
        memoryAvg: 0n,
        memoryMax: 0n,
        memoryLimit: 0n,
        netInBytes: 0n,
        netOutBytes: 0n,
        restarts: 0,
        samples: 1,
      })),
    });
    await rollupMetrics(getDb(), NOW);
    expect((await getDb().metricSample.findMany({ where: { appId: app.id } })).map((row) => row.at)).toEqual([recent]);
    expect(await getDb().httpMetric.count({ where: { appId: app.id } })).toBe(0);
    const kept = await getDb().metricBucket.findMany({ where: { appId: app.id }, orderBy: { start: "asc" } });
    // The 29-day-old bucket stays; the recent raw sample made one more for its window.
    expect(kept.map((row) => row.start.getTime())).toContain(NOW - 29 * day);
    expect(kept.map((row) => row.start.getTime())).not.toContain(NOW - 31 * day);
  });
});
