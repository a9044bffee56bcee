// A deployment's phases with their timings. `now` is the browser's clock while the deployment is live (null on the
// server and once finished), so a running phase's elapsed time ticks without a hydration mismatch.
import type { Phase, PhaseName, PhaseStatus } from "@/lib/domain/deployment-phases";

const LABELS: Record<PhaseName, string> = {
  queued: "Queued",
  fetching: "Fetching the source",
  planning: "Planning the build",
  building: "Building the image",
  releasing: "Releasing",
};

const STATUS_TEXT: Record<PhaseStatus, string> = {
  pending: "waiting",
  running: "running",
  succeeded: "done",
  failed: "failed",
  cancelled: "cancelled",
};

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

function timing(phase: Phase, now: number | null): string | null {
  if (!phase.startedAt) return null;
  const started = Date.parse(phase.startedAt);
  if (phase.finishedAt) return formatDuration(Date.parse(phase.finishedAt) - started);
  if (phase.status === "running" && now !== null) return formatDuration(now - started);
  return null;
}

function Icon({ status }: { status: PhaseStatus }) {
  const base = "flex size-5 shrink-0 items-center justify-center rounded-full text-[11px] font-bold";
  switch (status) {
    case "succeeded":
      return <span className={`${base} bg-emerald-500 text-white`}>✓</span>;
    case "failed":
      return <span className={`${base} bg-red-600 text-white`}>✕</span>;
    case "cancelled":
      return <span className={`${base} bg-zinc-400 text-white dark:bg-zinc-600`}>–</span>;
    case "running":
      return <span className={`${base} animate-spin border-2 border-amber-500 border-r-transparent`} />;
    default:
      return <span className={`${base} border-2 border-zinc-300 dark:border-zinc-700`} />;
  }
}

export function PhaseList({ phases, finished, now }: { phases: Phase[]; finished: boolean; now: number | null }) {
  if (phases.length === 0) return <p className="text-sm text-zinc-500">No phases were recorded.</p>;
  return (
    <ol aria-label="Phases" className="space-y-3">
      {phases.map((phase) => {
        // A phase still pending when the deployment is over never ran (e.g. releasing after a failed build).
        const text = phase.status === "pending" && finished ? "not run" : STATUS_TEXT[phase.status];
        const took = timing(phase, now);
        return (
          <li
            key={phase.name}
            data-testid={`phase-${phase.name}`}
            data-status={phase.status}
            className="flex items-center gap-3 text-sm"
          >
            <span aria-hidden="true">
              <Icon status={phase.status} />
            </span>
            <span className={phase.status === "pending" ? "text-zinc-500" : "font-medium"}>{LABELS[phase.name]}</span>
            <span className="ml-auto whitespace-nowrap text-xs text-zinc-500 tabular-nums">
              {text}
              {took ? ` · ${took}` : ""}
            </span>
          </li>
        );
      })}
    </ol>
  );
}
