"use client";

// The webhook's newest deliveries, kept current by polling a server action (paused while the tab is hidden): time,
// event, outcome, why, and the deployment a push started.
import Link from "next/link";
import { Badge, DateTime, EmptyState, Notice } from "@/components/ui";
import { useActionPolling } from "@/components/use-action-polling";
import type { ActionState } from "@/lib/actions";
import type { DeliveryView, WebhookView } from "@/lib/domain/webhooks";

const POLL_MS = 5_000;
const RETRY_MS = 10_000;

export type WebhookData = { webhook: WebhookView | null; deliveries: DeliveryView[] };
type Poll = (teamId: string, appId: string) => Promise<ActionState<WebhookData>>;

const TONES = { deployed: "green", ignored: "neutral", duplicate: "amber", rejected: "red" } as const;

function Outcome({ outcome }: { outcome: DeliveryView["outcome"] }) {
  return <Badge tone={TONES[outcome]}>{outcome}</Badge>;
}

type DeliveriesLiveProps = { teamId: string; appId: string; basePath: string; initial: WebhookData; poll: Poll };

export function DeliveriesLive({ teamId, appId, basePath, initial, poll }: DeliveriesLiveProps) {
  const { data, problem } = useActionPolling(initial, () => poll(teamId, appId), {
    nextDelay: () => POLL_MS,
    retryMs: RETRY_MS,
    failedMessage: "The latest deliveries could not be loaded.",
    polling: (shown) => ({ enabled: shown.webhook !== null, firstDelayMs: POLL_MS, restartKey: appId }),
  });

  if (data.deliveries.length === 0) {
    return (
      <EmptyState title="No deliveries yet">
        {data.webhook ? "Deliveries appear here as your forge sends them." : "Create the webhook first."}
      </EmptyState>
    );
  }
  return (
    <div className="space-y-3">
      {problem ? (
        <Notice tone="warning" title="Live updates are interrupted">
          {problem} Trying again…
        </Notice>
      ) : null}
      <div className="-mx-5 overflow-x-auto sm:-mx-6">
        <table className="w-full min-w-[36rem] text-left text-sm" aria-label="Deliveries">
          <thead className="border-zinc-200 border-b text-xs text-zinc-500 uppercase tracking-wide dark:border-zinc-800">
            <tr>
              <th scope="col" className="px-5 py-2 font-medium sm:px-6">
                Received
              </th>
              <th scope="col" className="px-3 py-2 font-medium">
                Event
              </th>
              <th scope="col" className="px-3 py-2 font-medium">
                Outcome
              </th>
              <th scope="col" className="px-5 py-2 font-medium sm:px-6">
                Why
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
            {data.deliveries.map((delivery) => (
              <tr key={delivery.id} data-testid="delivery" data-outcome={delivery.outcome}>
                <td className="whitespace-nowrap px-5 py-3 sm:px-6">
                  <DateTime value={delivery.receivedAt} />
                </td>
                <td className="px-3 py-3">
                  <span>{delivery.event ?? "—"}</span>
                  <span className="block text-xs text-zinc-500">{delivery.forge}</span>
                </td>
                <td className="px-3 py-3">
                  <Outcome outcome={delivery.outcome} />
                </td>
                <td className="px-5 py-3 sm:px-6">
                  {delivery.reason}
                  {delivery.deploymentId ? (
                    <>
                      {" "}
                      <Link
                        href={`${basePath}/deployments/${delivery.deploymentId}`}
                        className="underline underline-offset-2"
                      >
                        View the deployment
                      </Link>
                    </>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
