// Status badges for apps and deployments: one place decides which statuses are good, busy, bad or finished, so the
// list, the app page and the live deployment page agree. No hooks: usable from server and client components.
import { Badge } from "@/components/ui";
import type { AppStatus, DeploymentStatus } from "@/lib/generated/prisma/enums";

type BadgeTone = "neutral" | "green" | "red" | "amber";

const APP_TONE: Record<AppStatus, BadgeTone> = {
  created: "neutral",
  deploying: "amber",
  running: "green",
  stopped: "neutral",
  failed: "red",
  deleting: "red",
};

const DEPLOYMENT_TONE: Record<DeploymentStatus, BadgeTone> = {
  queued: "amber",
  building: "amber",
  built: "green",
  releasing: "amber",
  running: "green",
  failed: "red",
  superseded: "neutral",
  cancelled: "neutral",
};

/**
 * Statuses after which a deployment and its log change no more (the domain's TERMINAL_STATUSES, repeated because
 * lib/domain is server code). "built" is not one of them: the release picks the image up from there.
 */
export const FINISHED_DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = [
  "running",
  "failed",
  "superseded",
  "cancelled",
];

/** The statuses cancelDeployment accepts (the domain's CANCELLABLE_STATUSES): until the release has started. */
export const CANCELLABLE_DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = ["queued", "building", "built"];

export function AppStatusBadge({ status, testId = "app-status" }: { status: AppStatus; testId?: string }) {
  return (
    <span data-testid={testId} data-status={status}>
      <Badge tone={APP_TONE[status]}>{status}</Badge>
    </span>
  );
}

export function DeploymentStatusBadge({ status, testId }: { status: DeploymentStatus; testId?: string }) {
  return (
    <span data-testid={testId} data-status={status}>
      <Badge tone={DEPLOYMENT_TONE[status]}>{status}</Badge>
    </span>
  );
}

/** The app's address: a link once the app is running, plain text before (nothing answers there yet). */
export function AppAddress({ url, status }: { url: string | null; status: AppStatus }) {
  const className = "block truncate font-mono text-xs";
  // A worker-only app (no web process) is not routed: it has no address to show.
  if (url === null) return <span className={`${className} text-zinc-600 dark:text-zinc-400`}>no web process</span>;
  // A link whatever the state (#18): a stopped app's address is still where it will answer, and people copy it.
  return (
    <a href={url} target="_blank" rel="noopener noreferrer" className={`${className} underline underline-offset-2`}>
      {url}
      {status === "running" ? null : <span className="text-zinc-600 dark:text-zinc-400"> (not running)</span>}
    </a>
  );
}
