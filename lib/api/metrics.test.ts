// GET /api/v1/apps/{appId}/metrics through its route handler: the answer's shape per range (parsed with the endpoint's
// schema), raw samples for 1h/24h and buckets for 7d/30d, percentiles from the merged histograms, deployments for
// markers, an empty answer before any sample, 404 for another team's app, the range refused when unknown, and the
// same number of queries however many points there are.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { GET as metricsRoute } from "@/app/api/v1/apps/[appId]/metrics/route";
import { appMetricsEndpoint } from "@/lib/api/endpoints/metrics";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { addSample } from "@/lib/domain/metrics-histogram";
import { call, errorOf } from "@/test/api";
import { createTestTeam, createTestToken, createTestUser, userCtx } from "@/test/factories";

const schema = appMetricsEndpoint.responses[200].schema;

async function freshApp() {
  const user = await createTestUser();
  const team = await createTestTeam(user.id);
  const app = await createApp(getDb(), await userCtx(user.id, team.id), {
    name: `m-${randomUUID().slice(0, 6)}`,
  });
  return { team, app, read: await createTestToken(team.id, ["read"]) };
}

async function seedRaw(appId: string, now: number, minutes: number) {
  const rows = [];
  const http = [];
  for (let m = 1; m <= minutes; m += 1) {
    const at = new Date(Math.floor((now - m * 60_000) / 60_000) * 60_000);
    for (const [process, replica] of [
      ["web", 0],
      ["web", 1],
      ["worker", 0],
    ] as const) {
      rows.push({
        appId,
        process,
        replica,
        at,
        cpu: process === "web" ? 0.25 : 0.5,
        memoryBytes: 100n,
        memoryLimitBytes: 1000n,
        netInBytes: 7n,
        netOutBytes: 9n,
        netInTotal: 0n,
        netOutTotal: 0n,
        pids: 1,
        restarts: 0,
      });
    }
    const latency: number[] = [];
    for (const ms of [2, 4, 8, 300]) addSample(latency, ms);
    http.push({
      appId,
      step: 60,
      start: at,
      requests: 4,
      status1xx: 0,
      status2xx: 3,
      status3xx: 0,
      status4xx: 0,
      status5xx: 1,
      bytes: 400n,
      latency,
    });
  }
  await getDb().metricSample.createMany({ data: rows });
  await getDb().httpMetric.createMany({ data: http });
}

const get = (appId: string, token: string, range?: string) =>
  call(metricsRoute, `/api/v1/apps/${appId}/metrics${range ? `?range=${range}` : ""}`, {
    token,
    params: { appId },
  });

describe("GET /api/v1/apps/{appId}/metrics", () => {
  it("answers an empty series before the first sample", async () => {
    const { app, read } = await freshApp();
    const response = await get(app.id, read);
    expect(response.status).toBe(200);
    const body = schema.parse(await response.json());
    expect(body).toMatchObject({ range: "1h", step: 15, processes: [], cpu: [], http: [], deployments: [] });
  });

  it("serves raw samples per process type with HTTP percentiles and deployment markers", async () => {
    const { app, team, read } = await freshApp();
    const now = Date.now();
    await seedRaw(app.id, now, 3);
    await getDb().deployment.create({
      data: { appId: app.id, teamId: team.id, number: 1, status: "running", sourceType: "upload" },
    });
    const response = await get(app.id, read, "1h");
    expect(response.status).toBe(200);
    const body = schema.parse(await response.json());
    expect(body.processes).toEqual(["web", "worker"]);
    expect(body.cpu).toHaveLength(3);
    expect(body.cpu[0]?.byProcess).toEqual({ web: 0.25, worker: 0.5 });
    expect(body.memory[0]?.byProcess).toEqual({ web: 200, worker: 100 });
    expect(body.memoryLimit[0]?.byProcess).toEqual({ web: 2000, worker: 1000 });
    expect(body.netIn[0]?.byProcess).toEqual({ web: 14, worker: 7 });
    expect(body.http).toHaveLength(3);
    expect(body.http[0]).toMatchObject({ requests: 4, status2xx: 3, status5xx: 1, bytes: 400 });
    expect(body.http[0]?.p50Ms).toBeGreaterThanOrEqual(4);
    expect(body.http[0]?.p99Ms).toBeGreaterThanOrEqual(300);
    expect(body.deployments).toEqual([expect.objectContaining({ number: 1, status: "running" })]);
    // Internal numbers stay inside: no replica index, no row id.
    expect(JSON.stringify(body)).not.toMatch(/"replica"|"index"/);
  });

  it("serves 7d and 30d from the 5-minute buckets at their step", async () => {
    const { app, read } = await freshApp();
    const start = new Date(Math.floor((Date.now() - 3_600_000) / 300_000) * 300_000);
    await getDb().metricBucket.create({
      data: {
        appId: app.id,
        process: "web",
        start,
        cpuAvg: 0.3,
        cpuMax: 0.9,
        memoryAvg: 123n,
        memoryMax: 200n,
        memoryLimit: 1000n,
        netInBytes: 5n,
        netOutBytes: 6n,
        restarts: 1,
        samples: 20,
      },
    });
    const latency: number[] = [];
    addSample(latency, 10);
    await getDb().httpMetric.create({
      data: {
        appId: app.id,
        step: 300,
        start,
        requests: 1,
        status1xx: 0,
        status2xx: 1,
        status3xx: 0,
        status4xx: 0,
        status5xx: 0,
        bytes: 10n,
        latency,
      },
    });
    for (const [range, step] of [
      ["7d", 300],
      ["30d", 1800],
    ] as const) {
      const body = schema.parse(await (await get(app.id, read, range)).json());
      expect(body).toMatchObject({ range, step, httpStep: step });
      expect(body.cpu).toEqual([{ t: expect.any(String), byProcess: { web: 0.3 } }]);
      expect(body.restarts[0]?.byProcess).toEqual({ web: 1 });
      expect(body.http[0]).toMatchObject({ requests: 1, p50Ms: expect.any(Number) });
      expect(Date.parse(body.cpu[0]?.t ?? "") % (step * 1000)).toBe(0);
    }
  });

  it("answers 404 for another team's app and 422 for an unknown range", async () => {
    const mine = await freshApp();
    const theirs = await freshApp();
    await seedRaw(theirs.app.id, Date.now(), 1);
    const response = await get(theirs.app.id, mine.read);
    expect(response.status).toBe(404);
    expect((await errorOf(response)).code).toBe("not_found");
    const bad = await get(mine.app.id, mine.read, "1y");
    expect(bad.status).toBe(422);
  });

  it("uses the same number of queries however many points and process types there are", async () => {
    const { app, read } = await freshApp();
    await get(app.id, read);
    const few = await countQueries(() => get(app.id, read, "24h"));
    await seedRaw(app.id, Date.now(), 30);
    const many = await countQueries(() => get(app.id, read, "24h"));
    const body = schema.parse(await many.result.json());
    expect(body.cpu).toHaveLength(30);
    expect(many.count).toBe(few.count);
  });
});
