"use client";

// The app's Metrics tab: a range picker and the charts (CPU, memory with its limit, requests by status class,
// latency percentiles, network), refreshed while the page is open: every 15 s for the last hour, every minute for
// longer ranges (the data behind them changes no faster). Deployments are marked on every chart's time axis.
import { useMemo, useState } from "react";
import type { MetricsData } from "@/app/(portal)/teams/[teamId]/apps/[appId]/metrics/actions";
import { type ChartSeries, type DeployMarker, UPlotChart } from "@/components/apps/metrics-uplot";
import { Card, Notice } from "@/components/ui";
import { usePolling } from "@/components/use-polling";
import type { ActionState } from "@/lib/actions";

const RANGES = ["1h", "24h", "7d", "30d"] as const;
const COLORS = ["#2563eb", "#16a34a", "#ea580c", "#9333ea", "#0891b2", "#ca8a04"];
const STATUS_COLORS = { "2xx": "#16a34a", "3xx": "#0891b2", "4xx": "#ca8a04", "5xx": "#dc2626", "1xx": "#71717a" };

type Props = {
  teamId: string;
  appId: string;
  initial: MetricsData;
  poll: (teamId: string, appId: string, range: string) => Promise<ActionState<MetricsData>>;
};

type Point = { t: string; byProcess: Record<string, number> };

const seconds = (iso: string) => Date.parse(iso) / 1000;
const percent = (value: number) => `${(value * 100).toFixed(value < 0.1 ? 1 : 0)} %`;
const bytes = (value: number) => {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = value;
  let unit = 0;
  while (Math.abs(v) >= 1000 && unit < units.length - 1) {
    v /= 1000;
    unit += 1;
  }
  return `${v.toFixed(v < 10 && unit > 0 ? 1 : 0)} ${units[unit]}`;
};
const ms = (value: number) =>
  value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${value.toFixed(value < 10 ? 1 : 0)} ms`;
const count = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(1)}k` : value.toFixed(0));

/** One x array (the union of the series' times) and one y array per key, null where a series has no point. */
function aligned(
  sets: { points: { t: string }[]; value: (point: never, key: string) => number | null; keys: string[] }[],
) {
  const times = [...new Set(sets.flatMap((set) => set.points.map((point) => seconds(point.t))))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const ys: (number | null)[][] = [];
  for (const set of sets) {
    for (const key of set.keys) {
      const y: (number | null)[] = times.map(() => null);
      for (const point of set.points) {
        const i = index.get(seconds(point.t));
        if (i !== undefined) y[i] = set.value(point as never, key);
      }
      ys.push(y);
    }
  }
  return [times, ...ys] as [number[], ...(number | null)[][]];
}

function byProcess(points: Point[], processes: string[]) {
  return { points, keys: processes, value: (point: Point, key: string) => point.byProcess[key] ?? null };
}

export function MetricsCharts({ teamId, appId, initial, poll }: Props) {
  const [range, setRange] = useState<string>(initial.range);
  const [data, setData] = useState<MetricsData>(initial);
  const [problem, setProblem] = useState<string | null>(null);
  const delay = range === "1h" ? 15_000 : 60_000;

  usePolling(
    async ({ stopped }) => {
      const result = await poll(teamId, appId, range);
      if (stopped()) return null;
      if (result.status !== "success" || !result.data) {
        setProblem(result.message ?? "Could not load the metrics; trying again.");
        return 30_000;
      }
      setData(result.data);
      setProblem(null);
      return delay;
    },
    { firstDelayMs: data.range === range ? delay : 0, restartKey: range, firstEvenIfHidden: data.range !== range },
  );

  const charts = useMemo(() => {
    const processes = data.processes;
    const from = seconds(data.from);
    const to = seconds(data.to);
    const markers: DeployMarker[] = data.deployments.map((deployment) => ({
      at: seconds(deployment.at),
      label: `#${deployment.number}`,
      failed: deployment.status === "failed",
    }));
    const processSeries = (suffix = ""): ChartSeries[] =>
      processes.map((process, i) => ({ label: `${process}${suffix}`, color: COLORS[i % COLORS.length] ?? "#000" }));
    const http = data.http;
    const classes = ["2xx", "3xx", "4xx", "5xx", "1xx"] as const;
    const netTotal = (points: Point[]) =>
      points.map((point) => ({
        t: point.t,
        byProcess: { all: Object.values(point.byProcess).reduce((a, b) => a + b, 0) },
      }));
    return {
      from,
      to,
      markers,
      cpu: { data: aligned([byProcess(data.cpu, processes)]), series: processSeries() },
      memory: {
        data: aligned([byProcess(data.memory, processes), byProcess(data.memoryLimit, processes)]),
        series: [...processSeries(), ...processSeries(" limit").map((s) => ({ ...s, dash: [6, 4] }))],
      },
      requests: {
        data: aligned([
          {
            points: http,
            keys: [...classes],
            value: (point: (typeof http)[number], key: string) =>
              point[`status${key}` as `status${(typeof classes)[number]}`],
          },
        ]),
        series: classes.map((c) => ({ label: c, color: STATUS_COLORS[c] })),
      },
      latency: {
        data: aligned([
          {
            points: http,
            keys: ["p50Ms", "p95Ms", "p99Ms"],
            value: (point: (typeof http)[number], key: string) => point[key as "p50Ms" | "p95Ms" | "p99Ms"],
          },
        ]),
        series: [
          { label: "p50", color: "#16a34a" },
          { label: "p95", color: "#ca8a04" },
          { label: "p99", color: "#dc2626" },
        ],
      },
      network: {
        data: aligned([byProcess(netTotal(data.netIn), ["all"]), byProcess(netTotal(data.netOut), ["all"])]),
        series: [
          { label: "in", color: "#2563eb" },
          { label: "out", color: "#9333ea" },
        ],
      },
    };
  }, [data]);

  const empty = data.cpu.length === 0 && data.http.length === 0;
  return (
    <div className="space-y-4">
      <fieldset className="flex flex-wrap items-center gap-2">
        <legend className="sr-only">Range</legend>
        {RANGES.map((r) => (
          <button
            key={r}
            type="button"
            aria-pressed={r === range}
            onClick={() => setRange(r)}
            className={`rounded-md px-3 py-1 text-sm ${
              r === range
                ? "bg-zinc-900 text-white dark:bg-white dark:text-zinc-900"
                : "text-zinc-600 hover:bg-zinc-200/60 dark:text-zinc-400 dark:hover:bg-zinc-800"
            }`}
          >
            {r}
          </button>
        ))}
        {data.range !== range ? <span className="text-sm text-zinc-500">Loading…</span> : null}
      </fieldset>
      {problem ? <Notice tone="error">{problem}</Notice> : null}
      {empty ? (
        <Notice title="No metrics yet">
          Data appears after the first minute of a running app: the worker samples CPU, memory and network every 15
          seconds, and counts requests through the platform's proxy each minute.
        </Notice>
      ) : (
        <div className="grid gap-4 lg:grid-cols-2">
          {[
            {
              key: "cpu" as const,
              title: "CPU",
              description: "Share of each replica's CPU limit, averaged over the process type's replicas.",
              format: percent,
            },
            {
              key: "memory" as const,
              title: "Memory",
              description: "Summed over the process type's replicas; dashed: their limit.",
              format: bytes,
            },
            {
              key: "requests" as const,
              title: "Requests",
              description: `By status class, per ${data.httpStep >= 60 ? `${data.httpStep / 60} min` : `${data.httpStep} s`}.`,
              format: count,
            },
            {
              key: "latency" as const,
              title: "Latency",
              description: "Percentiles of the time the app took to answer, through the proxy.",
              format: ms,
            },
            {
              key: "network" as const,
              title: "Network",
              description: "Bytes received and sent by all containers, per step.",
              format: bytes,
            },
          ].map((chart) => (
            <Card key={chart.key} title={chart.title} description={chart.description}>
              <UPlotChart
                title={chart.title}
                {...charts[chart.key]}
                markers={charts.markers}
                format={chart.format}
                from={charts.from}
                to={charts.to}
              />
            </Card>
          ))}
        </div>
      )}
    </div>
  );
}
