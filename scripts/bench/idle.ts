// idle: what the platform costs when nobody uses it: CPU share and resident memory of each part of its process tree
// (supervisor, web server, worker, the platform's PostgreSQL, the tenant PostgreSQL and Redis it starts) over 60 s
// without requests (10 s with --quick), sampled once a second from /proc.
import { performance } from "node:perf_hooks";
import { type BenchContext, sleep } from "@/scripts/bench/context";
import type { PlatformHandle } from "@/scripts/bench/platform";
import { CLOCK_TICKS, type Component, pssKb, sampleTree } from "@/scripts/bench/procfs";
import { type Metric, type MetricValue, round } from "@/scripts/bench/stats";

const WINDOW_S = 60;
const QUICK_WINDOW_S = 10;
/** After the first health check: Next loads routes lazily and the worker's first heartbeat and cron setup run. */
const SETTLE_MS = 5_000;

type Tracked = { component: Component; firstTicks: number; lastTicks: number };

export async function measureIdle(context: BenchContext, platform: PlatformHandle): Promise<Metric> {
  const windowS = context.options.quick ? QUICK_WINDOW_S : WINDOW_S;
  context.progress(`idle: settling ${SETTLE_MS / 1000} s, then sampling for ${windowS} s`);
  await sleep(SETTLE_MS);

  const tracked = new Map<number, Tracked>();
  const rssTotals = new Map<Component, number>();
  let samples = 0;
  const start = performance.now();
  const end = start + windowS * 1000;
  let first = true;
  let last: Awaited<ReturnType<typeof sampleTree>> = [];
  for (;;) {
    const tree = await sampleTree(platform.pid, platform.dataDir);
    last = tree;
    samples += 1;
    for (const proc of tree) {
      const known = tracked.get(proc.pid);
      // A process born during the window spent all of its ticks inside it.
      if (known) known.lastTicks = proc.ticks;
      else
        tracked.set(proc.pid, { component: proc.component, firstTicks: first ? proc.ticks : 0, lastTicks: proc.ticks });
      rssTotals.set(proc.component, (rssTotals.get(proc.component) ?? 0) + proc.rssKb);
    }
    first = false;
    const now = performance.now();
    if (now >= end) break;
    await sleep(Math.min(1_000, end - now));
  }
  const elapsedS = (performance.now() - start) / 1000;

  const pss = new Map<Component, number>();
  for (const proc of last) {
    const value = await pssKb(proc.pid);
    if (value !== null) pss.set(proc.component, (pss.get(proc.component) ?? 0) + value);
  }
  const components: Record<string, MetricValue> = {};
  let totalCpu = 0;
  let totalRss = 0;
  let totalPss = 0;
  const names = [...new Set([...tracked.values()].map((entry) => entry.component))];
  for (const name of names) {
    const entries = [...tracked.values()].filter((entry) => entry.component === name);
    const ticks = entries.reduce((sum, entry) => sum + (entry.lastTicks - entry.firstTicks), 0);
    const cpuPct = (ticks / CLOCK_TICKS / elapsedS) * 100;
    const rssMb = (rssTotals.get(name) ?? 0) / samples / 1024;
    const pssMb = (pss.get(name) ?? 0) / 1024;
    totalCpu += cpuPct;
    totalRss += rssMb;
    totalPss += pssMb;
    components[name] = {
      cpu_pct: round(cpuPct, 2),
      rss_mb: round(rssMb, 1),
      pss_mb: round(pssMb, 1),
      processes: last.filter((proc) => proc.component === name).length,
    };
  }
  return {
    value: round(totalCpu, 2),
    unit: "% of one CPU",
    rss_mb: round(totalRss, 1),
    pss_mb: round(totalPss, 1),
    window_s: round(elapsedS, 1),
    components,
    notes:
      `The platform's whole process tree (scripts/start.ts and everything under it) over ${windowS} s without ` +
      `requests, ${SETTLE_MS / 1000} s after it first answered /api/health; CPU from /proc/<pid>/stat (utime+stime), ` +
      "rss_mb the mean VmRSS from /proc/<pid>/status (shared pages counted once per process), pss_mb from " +
      "smaps_rollup at the end (shared pages split between processes). The worker's heartbeat (every 5 s) and " +
      "graphile-worker's poll (every 2 s) are the expected background work.",
  };
}
