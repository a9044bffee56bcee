"use client";

// The Domains tab's list, kept current by polling a server action (paused while the tab is hidden): a domain the
// worker verifies, or whose certificate Caddy obtains, changes here without a reload. It polls faster while
// something is settling (a pending check or certificate) and slowly otherwise, since a proof can also disappear.
import { type DomainActions, DomainItem } from "@/components/apps/domains/domain-item";
import { isSettling } from "@/components/apps/domains/domain-status";
import { EmptyState, Notice } from "@/components/ui";
import { useActionPolling } from "@/components/use-action-polling";
import type { ActionState } from "@/lib/actions";
import type { DomainView } from "@/lib/domain/domains";

const SETTLING_POLL_MS = 5_000;
const IDLE_POLL_MS = 60_000;
const RETRY_MS = 10_000;

export type DomainsData = { items: DomainView[]; more: boolean };
type Poll = (teamId: string, appId: string) => Promise<ActionState<DomainsData>>;

type DomainsLiveProps = {
  teamId: string;
  appId: string;
  initial: DomainsData;
  poll: Poll;
  tlsEnabled: boolean;
  actions: DomainActions | null;
};

export function DomainsLive({ teamId, appId, initial, poll, tlsEnabled, actions }: DomainsLiveProps) {
  const anySettling = (shown: DomainsData) => shown.items.some((domain) => isSettling(domain, tlsEnabled));
  const { data, problem } = useActionPolling(initial, () => poll(teamId, appId), {
    nextDelay: (shown) => (anySettling(shown) ? SETTLING_POLL_MS : IDLE_POLL_MS),
    retryMs: RETRY_MS,
    failedMessage: "The latest state could not be loaded.",
    polling: (shown) => ({
      enabled: shown.items.length > 0,
      firstDelayMs: anySettling(shown) ? SETTLING_POLL_MS : IDLE_POLL_MS,
      // A new set of domains (added or removed) starts the timer over at the right pace.
      restartKey: `${appId}:${shown.items.map((domain) => domain.id).join(",")}:${anySettling(shown)}`,
    }),
  });

  if (data.items.length === 0) {
    return (
      <EmptyState title="No custom domains yet">
        {actions
          ? "Add a hostname you control below; the app stays reachable at its own address too."
          : "This app is served only at its own address."}
      </EmptyState>
    );
  }
  return (
    <div className="space-y-4">
      {problem ? (
        <Notice tone="warning" title="Live updates are interrupted">
          {problem} Trying again…
        </Notice>
      ) : null}
      <ul className="divide-y divide-zinc-200 dark:divide-zinc-800" aria-label="Custom domains">
        {data.items.map((domain) => (
          <DomainItem key={domain.id} domain={domain} teamId={teamId} tlsEnabled={tlsEnabled} actions={actions} />
        ))}
      </ul>
      {data.more ? (
        <p className="text-sm text-zinc-500">
          Only the newest domains are shown here; GET /api/v1/apps/{appId}/domains lists them all.
        </p>
      ) : null}
    </div>
  );
}
