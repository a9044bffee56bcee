// `npm run bench [-- --json] [-- --quick] [-- --only <metric>[,<metric>]]`: the platform's performance figures,
// measured on this machine in a throwaway directory with its own embedded PostgreSQL, never the user's data. Each
// metric with a natural floor measures that floor in the same run and reports the ratio. Progress goes to stderr;
// stdout carries the table, or the JSON with --json. Exit code 1 when a metric failed (skipped ones do not count).
import { randomBytes } from "node:crypto";
import os from "node:os";
import { parseArgs } from "node:util";
import { measureApiListApps } from "@/scripts/bench/api";
import { measureBackup } from "@/scripts/bench/backup";
import { measureCaddyLoad } from "@/scripts/bench/caddy";
import { BenchContext } from "@/scripts/bench/context";
import { measureDeployOverhead } from "@/scripts/bench/deploy";
import { measureIdle } from "@/scripts/bench/idle";
import { measureJobPickup } from "@/scripts/bench/job-pickup";
import { machine } from "@/scripts/bench/machine";
import { measureMetricsOverhead } from "@/scripts/bench/metrics";
import { type PlatformHandle, startPlatform } from "@/scripts/bench/platform";
import { measureReboot, measureRecovery } from "@/scripts/bench/recovery";
import { measureRedeployToLive } from "@/scripts/bench/redeploy";
import { errorMessage, type Metric } from "@/scripts/bench/stats";
import { renderTable } from "@/scripts/bench/table";
import { measureUploadExtract } from "@/scripts/bench/upload-extract";

type MetricName =
  | "job_pickup_ms"
  | "deploy_overhead_ms"
  | "idle"
  | "api_list_apps"
  | "caddy_load_ms"
  | "redeploy_to_live_ms"
  | "upload_extract_ms"
  | "recovery_ms"
  | "reboot_ms"
  | "backup_ms"
  | "metrics_overhead";

/** In run order: idle before the load test, so the platform is measured at rest before anything warmed it up. */
const METRICS: readonly MetricName[] = [
  "job_pickup_ms",
  "deploy_overhead_ms",
  "idle",
  "api_list_apps",
  "caddy_load_ms",
  "redeploy_to_live_ms",
  "upload_extract_ms",
  "backup_ms",
  "metrics_overhead",
  // Each starts and stops a platform of its own (scripts/bench/recovery.ts): last, so they disturb nothing else.
  "recovery_ms",
  "reboot_ms",
];
const NEEDS_PLATFORM: ReadonlySet<MetricName> = new Set(["idle", "api_list_apps"]);
const UNITS: Record<MetricName, string> = {
  job_pickup_ms: "ms",
  deploy_overhead_ms: "ms",
  idle: "% of one CPU",
  api_list_apps: "req/s",
  caddy_load_ms: "ms",
  redeploy_to_live_ms: "ms",
  upload_extract_ms: "ms",
  recovery_ms: "ms",
  reboot_ms: "ms",
  backup_ms: "ms",
  metrics_overhead: "% of one CPU",
};

function isMetricName(value: string): value is MetricName {
  return (METRICS as readonly string[]).includes(value);
}

function usage(): string {
  return [
    "usage: npm run bench [-- --json] [--quick] [--only <metric>[,<metric>...]]",
    `metrics: ${METRICS.join(", ")}`,
    "",
  ].join("\n");
}

function parse(): { json: boolean; quick: boolean; only: MetricName[] } {
  const { values } = parseArgs({
    options: {
      json: { type: "boolean", default: false },
      quick: { type: "boolean", default: false },
      only: { type: "string", multiple: true },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(usage());
    process.exit(0);
  }
  const wanted = (values.only ?? []).flatMap((entry) => entry.split(",")).filter(Boolean);
  const unknown = wanted.filter((name) => !isMetricName(name));
  if (unknown.length > 0) {
    process.stderr.write(`unknown metric ${unknown.join(", ")}\n${usage()}`);
    process.exit(2);
  }
  return { json: values.json, quick: values.quick, only: wanted.filter(isMetricName) };
}

async function main(): Promise<number> {
  const args = parse();
  const originalEnv = { ...process.env };
  // Before any platform module reads the environment: a throwaway secret, a data directory inside the run's own
  // directory (set per metric), no host configuration unless a metric asks for it, and no platform log lines.
  process.env.TUSSILAGO_SECRET_KEY = randomBytes(32).toString("base64url");
  process.env.TUSSILAGO_HOST_CONFIG = "none";
  process.env.LOG_LEVEL = "silent";
  delete process.env.DATABASE_URL;
  delete process.env.DATABASE_DIRECT_URL;

  const context = await BenchContext.create({ quick: args.quick }, originalEnv);
  process.env.TUSSILAGO_DATA_DIR = await context.dir("data");
  // Ctrl-C, or a failure no metric caught: the clean-up stack still stops what the run started and removes its
  // directory, instead of leaving a PostgreSQL, a Caddy or containers behind.
  let interrupted = false;
  const abort = (reason: string, code: number) => {
    if (interrupted) return;
    interrupted = true;
    context.progress(`${reason}: cleaning up`);
    void context.cleanup().finally(() => process.exit(code));
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => abort(signal, 130));
  for (const event of ["uncaughtException", "unhandledRejection"] as const) {
    process.on(event, (error: unknown) => abort(`${event}: ${errorMessage(error)}`, 1));
  }

  const selected = args.only.length > 0 ? METRICS.filter((name) => args.only.includes(name)) : METRICS;
  const started = new Date();
  const loadAtStart = os.loadavg()[0] ?? 0;
  const results: Record<string, Metric> = {};
  // Started by the first metric that needs it, shared by the next ones, stopped once none is left.
  const platform: { current: Promise<PlatformHandle> | null } = { current: null };
  const ensurePlatform = () => {
    platform.current ??= startPlatform(context);
    return platform.current;
  };

  try {
    for (const name of selected) {
      context.progress(`── ${name}`);
      try {
        switch (name) {
          case "job_pickup_ms":
            results[name] = await measureJobPickup(context);
            break;
          case "deploy_overhead_ms":
            results[name] = await measureDeployOverhead(context);
            break;
          case "idle":
            results[name] = await measureIdle(context, await ensurePlatform());
            break;
          case "api_list_apps":
            results[name] = await measureApiListApps(context, await ensurePlatform());
            break;
          case "caddy_load_ms":
            results[name] = await measureCaddyLoad(context);
            break;
          case "redeploy_to_live_ms":
            results[name] = await measureRedeployToLive(context);
            break;
          case "upload_extract_ms":
            results[name] = await measureUploadExtract(context);
            break;
          case "backup_ms":
            results[name] = await measureBackup(context);
            break;
          case "metrics_overhead":
            results[name] = await measureMetricsOverhead(context);
            break;
          case "recovery_ms":
            results[name] = await measureRecovery(context);
            break;
          case "reboot_ms":
            results[name] = await measureReboot(context);
            break;
        }
      } catch (error) {
        results[name] = { value: null, unit: UNITS[name], error: errorMessage(error) };
        // The whole message here (a build log's tail, say); the report keeps its first lines.
        context.progress(`${name} failed: ${error instanceof Error ? error.message : String(error)}`);
        const handle = NEEDS_PLATFORM.has(name) && platform.current ? await platform.current.catch(() => null) : null;
        if (handle) context.progress(`the end of the platform's log:\n${await handle.logTail(20)}`);
      }
      // The platform is stopped as soon as nothing else needs it, so it does not disturb the later metrics.
      const later = selected.slice(selected.indexOf(name) + 1);
      if (platform.current && !later.some((next) => NEEDS_PLATFORM.has(next))) {
        const handle = await platform.current.catch(() => null);
        platform.current = null;
        await handle?.stop();
      }
    }
  } finally {
    await context.cleanup();
  }

  const report = {
    metrics: results,
    machine: machine(loadAtStart),
    date: started.toISOString(),
    mode: args.quick ? "quick" : "full",
  };
  if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(renderTable(report));
  return Object.values(results).some((metric) => metric.error !== undefined) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
