// metrics_overhead: what the worker's metrics work costs (#17). 50 containers' worth of `podman stats` (the fake podman
// reporting 50 replicas of 25 apps from FAKE_PODMAN_STATS) and an access log growing by 300 lines per 15 s (20
// requests per second across the apps), through the real sampler pass (metricsPass: one podman call, the mapping
// query, the sample rows, the log's new lines, the HTTP upserts), pass after pass. The figure is the worker
// process's own CPU time (process.cpuUsage) per minute of passes (four), as a share of one CPU; beside it, as the
// floor, the same process's cost of only spawning the fake `podman stats` and reading its answer. The spawned
// podman's own CPU and PostgreSQL's are not the worker's and not counted (real podman's cost is its own).
// Then 30 simulated days of samples for the same 50 containers (and per-minute HTTP rows for the 25 apps) go
// through the real rollup and retention (rollupMetrics after each simulated day), and the metrics tables' rows and
// bytes (pg_total_relation_size) are reported: what a month of steady state leaves.
import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import pino from "pino";
import { caddyAccessLogPath } from "@/lib/data-paths";
import { metricsPass, rollupMetrics } from "@/lib/engine/metrics";
import { getEnv } from "@/lib/env";
import { getInfra } from "@/lib/services/infra";
import type { BenchContext } from "@/scripts/bench/context";
import { installBenchFakePodman } from "@/scripts/bench/deploy";
import { type Metric, ratio, round } from "@/scripts/bench/stats";

const APPS = 25;
const REPLICAS = 2;
const LINES_PER_PASS = 300;
const PASSES = 40;
const QUICK_PASSES = 12;
const DAYS = 30;
const QUICK_DAYS = 4;

function cpuMs(start: NodeJS.CpuUsage): number {
  const usage = process.cpuUsage(start);
  return (usage.user + usage.system) / 1000;
}

function accessLine(host: string, ts: number, i: number): string {
  return JSON.stringify({
    level: "info",
    ts,
    logger: "http.log.access.tussilago_access",
    msg: "handled request",
    request: {
      remote_ip: "203.0.113.7",
      remote_port: "53412",
      proto: "HTTP/1.1",
      method: "GET",
      host,
      uri: `/items/${i}?page=${i % 7}`,
      headers: { "User-Agent": ["Mozilla/5.0 (X11; Linux x86_64)"], Accept: ["*/*"] },
    },
    bytes_read: 0,
    user_id: "",
    duration: 0.002 + (i % 50) / 1000,
    size: 512 + (i % 2048),
    status: i % 50 === 0 ? 500 : i % 10 === 0 ? 404 : 200,
    resp_headers: { Server: ["Caddy"], "Content-Type": ["text/html; charset=utf-8"] },
  });
}

export async function measureMetricsOverhead(context: BenchContext): Promise<Metric> {
  const { db } = await context.benchDatabase();
  const podmanDir = await context.dir("metrics-podman");
  const wrapper = await installBenchFakePodman(podmanDir);
  const statsFile = path.join(podmanDir, "stats.json");
  // The wrapper reads FAKE_PODMAN_STATS from its environment: written into the wrapper like its state directory.
  const text = await fs.readFile(wrapper, "utf8");
  await fs.writeFile(wrapper, text.replace("\n", `\nprocess.env.FAKE_PODMAN_STATS = ${JSON.stringify(statsFile)};\n`));
  context.switchEnv({ TUSSILAGO_PODMAN_PATH: wrapper });
  const env = getEnv();
  const log = pino({ level: "silent" });

  const team = await db.team.create({ data: { name: "Bench", slug: `bench-${randomUUID().slice(0, 8)}` } });
  const hosts: string[] = [];
  const figures: Record<string, { cpuPercent: number; memory: number; netIn: number; netOut: number }> = {};
  const appIds: string[] = [];
  for (let a = 0; a < APPS; a += 1) {
    const app = await db.app.create({ data: { teamId: team.id, name: `app${a}`, status: "running" } });
    appIds.push(app.id);
    hosts.push(`app${a}-${team.slug}.${env.appsDomain}`);
    for (let r = 0; r < REPLICAS; r += 1) {
      const containerName = `tsl-${app.id.replaceAll("-", "")}-1-${r}`;
      await db.replica.create({
        data: { appId: app.id, deploymentId: randomUUID(), process: "web", index: r, containerName, status: "healthy" },
      });
      figures[containerName] = { cpuPercent: 3 + a, memory: 80_000_000 + a * 1_000_000, netIn: 1000, netOut: 2000 };
    }
  }
  await fs.writeFile(statsFile, JSON.stringify(figures));
  const accessLog = caddyAccessLogPath(env.dataDir);
  await fs.mkdir(path.dirname(accessLog), { recursive: true });
  await fs.writeFile(accessLog, "");
  const podman = getInfra().podman();

  const passes = context.options.quick ? QUICK_PASSES : PASSES;
  let simulated = Date.now();
  let line = 0;
  const pass = async () => {
    // What Caddy appended during the 15 s since the last pass (written outside the measured time).
    const batch: string[] = [];
    for (let i = 0; i < LINES_PER_PASS; i += 1, line += 1) {
      batch.push(accessLine(hosts[line % hosts.length] ?? "", simulated / 1000 - 15 + (i * 15) / LINES_PER_PASS, line));
    }
    await fs.appendFile(accessLog, `${batch.join("\n")}\n`);
    for (const figure of Object.values(figures)) figure.netIn += 5000;
    await fs.writeFile(statsFile, JSON.stringify(figures));
    const now = simulated;
    const start = process.cpuUsage();
    const report = await metricsPass({ db, podman, accessLog, appsDomain: env.appsDomain, log, now: () => now });
    const spent = cpuMs(start);
    simulated += 15_000;
    return { spent, report };
  };
  await pass(); // warm-up: the first pass creates the ingest state and loads the modules' code paths
  context.progress(`metrics_overhead: ${passes} passes of 50 containers and ${LINES_PER_PASS} log lines`);
  const spent: number[] = [];
  let samples = 0;
  let requests = 0;
  for (let i = 0; i < passes; i += 1) {
    const result = await pass();
    spent.push(result.spent);
    samples += result.report.resources?.samples ?? 0;
    requests += result.report.http.requests;
  }
  if (samples !== passes * APPS * REPLICAS)
    throw new Error(`expected ${passes * APPS * REPLICAS} samples, got ${samples}`);
  if (requests !== passes * LINES_PER_PASS)
    throw new Error(`expected ${passes * LINES_PER_PASS} requests, got ${requests}`);
  const floorSpent: number[] = [];
  for (let i = 0; i < passes; i += 1) {
    const start = process.cpuUsage();
    await podman.statsAll();
    floorSpent.push(cpuMs(start));
  }
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  // Four passes a minute: CPU milliseconds per minute over 60,000 ms of one CPU.
  const share = (perPassMs: number) => ((perPassMs * 4) / 60_000) * 100;
  const value = share(mean(spent));
  const floor = share(mean(floorSpent));

  const days = context.options.quick ? QUICK_DAYS : DAYS;
  context.progress(`metrics_overhead: ${days} simulated days through the rollup and retention`);
  const storage = await simulateDays(context, db, appIds, days);
  return {
    value: round(value, 3),
    unit: "% of one CPU",
    baseline: round(floor, 3),
    baseline_unit: "% of one CPU (spawning podman stats only)",
    ratio: ratio(value, floor),
    cpu_ms_per_pass: round(mean(spent), 2),
    containers: APPS * REPLICAS,
    log_lines_per_pass: LINES_PER_PASS,
    simulated_days: days,
    ...storage,
  };
}

type Db = Awaited<ReturnType<BenchContext["benchDatabase"]>>["db"];

/** Raw samples every 15 s for every replica and per-minute HTTP rows for every app, a day at a time, each day rolled up. */
async function simulateDays(context: BenchContext, db: Db, appIds: string[], days: number) {
  const dayMs = 24 * 60 * 60_000;
  const start = Math.floor(Date.now() / dayMs) * dayMs - days * dayMs;
  for (let d = 0; d < days; d += 1) {
    const from = new Date(start + d * dayMs);
    const to = new Date(start + (d + 1) * dayMs);
    await db.$executeRaw`
      INSERT INTO "MetricSample" ("appId", "process", "replica", "at", "cpu", "memoryBytes", "memoryLimitBytes",
        "netInBytes", "netOutBytes", "netInTotal", "netOutTotal", "pids", "restarts")
      SELECT a, 'web', r, t, random(), 80000000 + (random() * 1e7)::bigint, 536870912, 5000, 9000, 0, 0, 12, 0
      FROM unnest(${appIds}::uuid[]) AS a, generate_series(0, ${REPLICAS - 1}) AS r,
        generate_series(${from}::timestamptz, ${to}::timestamptz - interval '15 seconds', interval '15 seconds') AS t
      ON CONFLICT DO NOTHING`;
    await db.$executeRaw`
      INSERT INTO "HttpMetric" ("appId", "step", "start", "requests", "status1xx", "status2xx", "status3xx",
        "status4xx", "status5xx", "bytes", "latency")
      SELECT a, 60, t, 48, 0, 43, 0, 4, 1, 60000, '{0,0,0,0,0,0,0,0,2,3,5,8,9,8,6,4,2,1}'::int[]
      FROM unnest(${appIds}::uuid[]) AS a,
        generate_series(${from}::timestamptz, ${to}::timestamptz - interval '1 minute', interval '1 minute') AS t
      ON CONFLICT DO NOTHING`;
    await rollupMetrics(db, to.getTime() + 60_000);
    if (d % 5 === 4) context.progress(`metrics_overhead: day ${d + 1} of ${days}`);
  }
  const tables = ["MetricSample", "MetricBucket", "HttpMetric"] as const;
  const result: Record<string, number> = {};
  for (const table of tables) {
    const [row] = await db.$queryRawUnsafe<{ rows: bigint; bytes: bigint }[]>(
      `SELECT count(*) AS rows, pg_total_relation_size('"${table}"') AS bytes FROM "${table}"`,
    );
    result[`${table}_rows`] = Number(row?.rows ?? 0);
    result[`${table}_mb`] = round(Number(row?.bytes ?? 0) / 1e6, 1);
  }
  return result;
}
