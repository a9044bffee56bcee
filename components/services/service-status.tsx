// The status badge of a database or Redis instance, with what is in progress on it. No hooks: server or client.
import { operationLabel } from "@/components/services/service-types";
import { Badge } from "@/components/ui";
import type { TenantServiceStatus } from "@/lib/generated/prisma/enums";

const TONE: Record<TenantServiceStatus, "green" | "amber" | "red"> = {
  provisioning: "amber",
  ready: "green",
  failed: "red",
  deleting: "amber",
};

export function ServiceStatusBadge({
  status,
  pending = null,
  testId = "service-status",
}: {
  status: TenantServiceStatus;
  pending?: string | null;
  testId?: string;
}) {
  return (
    <span data-testid={testId} data-status={status} className="inline-flex flex-wrap items-center gap-2">
      <Badge tone={TONE[status]}>{status}</Badge>
      {pending && status === "ready" ? (
        <span className="text-xs text-zinc-600 dark:text-zinc-400">{operationLabel(pending)}…</span>
      ) : null}
    </span>
  );
}
