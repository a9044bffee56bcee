// Resource sampling against the fake podman's `stats` (figures per container from FAKE_PODMAN_STATS): one podman call
// per sample whatever the number of containers, containers mapped to their app, process type and replica across
// teams, foreign and unknown containers ignored, CPU as a share of the app's limit, network as differences, and a
// number of queries that does not grow with the replicas.
import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { sampleResources } from "@/lib/engine/metrics";
import { getInfra } from "@/lib/services/infra";
import { type FakePodman, installFakePodman } from "@/test/fake-podman/install";
import { seedApp, silentLog } from "@/test/release-helpers";

let podman: FakePodman;
let statsFile: string;

beforeAll(async () => {
  podman = await installFakePodman();
  statsFile = path.join(podman.stateDir, "..", "stats.json");
  await podman.configure({ STATS: statsFile });
});

afterAll(async () => {
  await podman.cleanup();
});

type Figures = { cpuPercent?: number; memory?: number; memoryLimit?: number; netIn?: number; netOut?: number };

async function setStats(figures: Record<string, Figures>) {
  await fs.writeFile(statsFile, JSON.stringify(figures));
}

async function replica(appId: string, process: string, index: number, restartCount = 0) {
  const hex = appId.replaceAll("-", "");
  const containerName = process === "web" ? `tsl-${hex}-1-${index}` : `tsl-${hex}-1-${process}-${index}`;
  await getDb().replica.create({
    data: { appId, deploymentId: randomUUID(), process, index, containerName, status: "healthy", restartCount },
  });
  return containerName;
}

async function statsCalls(): Promise<number> {
  return (await podman.calls()).filter((argv) => argv[0] === "stats").length;
}

const sample = (now: number) =>
  sampleResources({ db: getDb(), podman: getInfra().podman(), log: silentLog, now: () => now });

describe("sampling resources", () => {
  it("maps one podman call's containers to their apps and replicas across teams", async () => {
    const a = await seedApp();
    const b = await seedApp();
    await getDb().app.update({ where: { id: a.app.id }, data: { cpuMillis: 500, memoryMb: 256 } });
    const aWeb0 = await replica(a.app.id, "web", 0);
    const aWeb1 = await replica(a.app.id, "web", 1, 2);
    const aWorker = await replica(a.app.id, "worker", 0);
    const bWeb = await replica(b.app.id, "web", 0);
    await setStats({
      [aWeb0]: { cpuPercent: 25, memory: 100_000_000, memoryLimit: 268_400_000, netIn: 1000, netOut: 2000 },
      [aWeb1]: { cpuPercent: 5, memory: 50_000_000, memoryLimit: 268_400_000 },
      [aWorker]: { cpuPercent: 50 },
      [bWeb]: { cpuPercent: 100, memory: 10_000_000 },
      // Not the platform's, and a platform name no replica has (a container a release is removing).
      "postgres-on-the-host": { cpuPercent: 90 },
      [`tsl-${"f".repeat(32)}-9-0`]: { cpuPercent: 90 },
    });
    const before = await statsCalls();
    const now = Date.parse("2026-12-03T18:00:07.400Z");
    const report = await sample(now);
    expect(await statsCalls()).toBe(before + 1);
    expect(report).toEqual({ containers: 5, samples: 4 });

    const rowsA = await getDb().metricSample.findMany({
      where: { appId: a.app.id },
      orderBy: [{ process: "asc" }, { replica: "asc" }],
    });
    expect(rowsA.map((row) => [row.process, row.replica, row.cpu, row.restarts])).toEqual([
      ["web", 0, 0.5, 0],
      ["web", 1, 0.1, 2],
      ["worker", 0, 1, 0],
    ]);
    expect(rowsA[0]).toMatchObject({
      at: new Date("2026-12-03T18:00:07.000Z"),
      memoryBytes: 100_000_000n,
      memoryLimitBytes: 268_400_000n,
      netInTotal: 1000n,
      netInBytes: 0n,
    });
    const rowsB = await getDb().metricSample.findMany({ where: { appId: b.app.id } });
    expect(rowsB).toHaveLength(1);
    // App b keeps the default limit of 1000 millicores: 100 % of one CPU is its whole limit.
    expect(rowsB[0]?.cpu).toBe(1);

    // The next sample stores what went through since this one; a counter that went down is a new container.
    await setStats({
      [aWeb0]: { cpuPercent: 25, netIn: 4000, netOut: 2500 },
      [aWeb1]: { cpuPercent: 5 },
      [aWorker]: { cpuPercent: 50 },
      [bWeb]: { cpuPercent: 100, netIn: 100 },
    });
    await sample(now + 15_000);
    const next = await getDb().metricSample.findFirstOrThrow({
      where: { appId: a.app.id, process: "web", replica: 0, at: new Date("2026-12-03T18:00:22.000Z") },
    });
    expect(next).toMatchObject({ netInBytes: 3000n, netOutBytes: 500n, netInTotal: 4000n });
    const nextB = await getDb().metricSample.findFirstOrThrow({
      where: { appId: b.app.id, at: new Date("2026-12-03T18:00:22.000Z") },
    });
    expect(nextB.netInBytes).toBe(100n);
  });

  it("writes nothing twice when a sample of the same second runs again", async () => {
    const a = await seedApp();
    const name = await replica(a.app.id, "web", 0);
    await setStats({ [name]: { cpuPercent: 10 } });
    const now = Date.parse("2026-12-03T19:00:00.000Z");
    await sample(now);
    await sample(now + 300);
    expect(await getDb().metricSample.count({ where: { appId: a.app.id } })).toBe(1);
  });

  it("uses a number of queries that does not grow with the containers", async () => {
    const small = await seedApp();
    const names = [await replica(small.app.id, "web", 0)];
    await setStats(Object.fromEntries(names.map((name) => [name, { cpuPercent: 1 }])));
    const few = await countQueries(() => sample(Date.parse("2026-12-03T20:00:00.000Z")));
    for (let i = 0; i < 4; i += 1) {
      const app = await seedApp();
      names.push(await replica(app.app.id, "web", 0), await replica(app.app.id, "worker", 0));
    }
    await setStats(Object.fromEntries(names.map((name) => [name, { cpuPercent: 1 }])));
    const many = await countQueries(() => sample(Date.parse("2026-12-03T20:00:15.000Z")));
    expect(many.result.samples).toBe(9);
    expect(many.count).toBe(few.count);
  });
});
