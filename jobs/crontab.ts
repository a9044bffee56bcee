// Periodic jobs. `backfillPeriod: 0`: a worker that was down does not replay the hours it missed.
import { type ParsedCronItem, parseCronItems } from "graphile-worker";
import type { TaskName } from "@/jobs/tasks";

type CronEntry = { task: TaskName; match: string; maxAttempts: number };

const entries: CronEntry[] = [
  { task: "platform__prune", match: "17 * * * *", maxAttempts: 3 },
  // Containers and routing against the database (lib/engine/reconcile.ts); also queued at worker start.
  { task: "platform__reconcile", match: "*/5 * * * *", maxAttempts: 2 },
  // Tenant roles, databases and Redis users whose row is gone (jobs/tasks/tenant_services__sweep.ts).
  { task: "tenant_services__sweep", match: "43 * * * *", maxAttempts: 3 },
];

export function cronItems(): ParsedCronItem[] {
  return parseCronItems(
    entries.map((entry) => ({
      task: entry.task,
      match: entry.match,
      options: { backfillPeriod: 0, maxAttempts: entry.maxAttempts },
    })),
  );
}
