// A run's status as a badge, shared by the Runs and Cron tabs. Browser-safe: no server imports (lib/domain/runs.ts
// reaches the database), so the active statuses are repeated here.
import { Badge } from "@/components/ui";
import type { RunStatus } from "@/lib/generated/prisma/enums";

const ACTIVE: readonly RunStatus[] = ["queued", "running"];

export function isActiveRun(status: RunStatus): boolean {
  return ACTIVE.includes(status);
}

const TONE = {
  queued: "neutral",
  running: "brand",
  succeeded: "green",
  failed: "red",
  timed_out: "amber",
  cancelled: "neutral",
  skipped: "neutral",
  missed: "amber",
} as const satisfies Record<RunStatus, string>;

const LABEL: Record<RunStatus, string> = {
  queued: "queued",
  running: "running",
  succeeded: "succeeded",
  failed: "failed",
  timed_out: "timed out",
  cancelled: "cancelled",
  skipped: "skipped",
  missed: "missed",
};

export function RunStatusBadge({ status, exitCode }: { status: RunStatus; exitCode: number | null }) {
  const label = status === "failed" && exitCode !== null ? `failed (exit ${exitCode})` : LABEL[status];
  return (
    <span data-testid="run-status" data-status={status}>
      <Badge tone={TONE[status]}>{label}</Badge>
    </span>
  );
}
