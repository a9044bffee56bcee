// Periodic jobs. `backfillPeriod: 0`: a worker that was down does not replay the hours it missed. Each runs with its
// task's attempt budget from the catalog, like an enqueued job.
import { type ParsedCronItem, parseCronItems } from "graphile-worker";
import { catalog, type TaskName } from "@/jobs/catalog";

type CronEntry = { task: TaskName; match: string };

const entries: CronEntry[] = [
  { task: "platform__prune", match: "17 * * * *" },
  // Containers and routing against the database (lib/engine/reconcile.ts); also queued at worker start.
  { task: "platform__reconcile", match: "*/5 * * * *" },
  // Exited containers restarted with backoff or marked crashed (lib/engine/crash-watch.ts); each run also queues
  // one half a minute later, since the crontab's granularity is a minute.
  { task: "platform__crash_watch", match: "* * * * *" },
  // Metrics (lib/engine/metrics): a sampler pass each minute that queues three more 15 s apart, and the 5-minute
  // downsampling and retention.
  { task: "metrics__sample", match: "* * * * *" },
  { task: "metrics__rollup", match: "*/5 * * * *" },
  // Tenant roles, databases and Redis users whose row is gone (jobs/tasks/tenant_services__sweep.ts).
  { task: "tenant_services__sweep", match: "43 * * * *" },
  // Custom domains due for a DNS ownership re-check (lib/engine/domain-verify.ts).
  { task: "domain__schedule_checks", match: "*/15 * * * *" },
  // Certificates Caddy serves for verified domains (lib/engine/tls-status.ts); only does something with TLS on.
  { task: "domain__schedule_tls_checks", match: "*/5 * * * *" },
  // Cron jobs' due ticks become runs (lib/domain/cron-ticks.ts): a missed minute is caught up by the next pass.
  { task: "cron__schedule", match: "* * * * *" },
  // Databases whose backup is due, then retention and scratch leftovers (lib/engine/backups/schedule.ts).
  { task: "backup__schedule", match: "* * * * *" },
  // Disk use of images, builds, logs and backups for the instance admin's usage view (lib/engine/instance-usage.ts).
  { task: "instance__usage", match: "*/15 * * * *" },
];

export function cronItems(): ParsedCronItem[] {
  return parseCronItems(
    entries.map((entry) => ({
      task: entry.task,
      match: entry.match,
      options: { backfillPeriod: 0, maxAttempts: catalog[entry.task].maxAttempts },
    })),
  );
}
