import type { Metadata } from "next";
import {
  createChannelAction,
  deleteChannelAction,
  testChannelAction,
  toggleChannelAction,
} from "@/app/(portal)/teams/[teamId]/notifications/actions";
import { teamPage } from "@/app/(portal)/teams/[teamId]/team-page";
import { ActionButton } from "@/components/action-button";
import { CreateChannelForm } from "@/components/teams/notification-channel-form";
import { Badge, Card, DateTime, EmptyState, Notice, PageHeader } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import { listChannels, recentDeliveries } from "@/lib/domain/notification-channels";
import { NOTIFICATION_EVENTS } from "@/lib/domain/notifications";
import { isAppError } from "@/lib/errors";

export const metadata: Metadata = { title: "Notifications" };

const TONE = { pending: "neutral", delivered: "green", failed: "red" } as const;

// The team's notification channels (#17): admins create, test and delete; members switch events on and off; everyone
// sees each channel's newest deliveries and their outcome (reload to refresh).
export default async function NotificationsPage({ params }: { params: Promise<{ teamId: string }> }) {
  const { teamId } = await params;
  const { ctx } = await teamPage(teamId, `/teams/${teamId}/notifications`);
  let page: Awaited<ReturnType<typeof listChannels>>;
  let deliveries: Awaited<ReturnType<typeof recentDeliveries>>;
  try {
    page = await listChannels(getDb(), ctx, { limit: 100 });
    deliveries = await recentDeliveries(
      getDb(),
      ctx,
      page.items.map((channel) => channel.id),
    );
  } catch (error) {
    if (!isAppError(error)) throw error;
    return <Notice tone="error">{error.message}</Notice>;
  }
  const canManage = roleAllows(ctx.role, "notifications:manage");
  const canToggle = roleAllows(ctx.role, "notifications:toggle");
  return (
    <>
      <PageHeader
        title="Notifications"
        description="Where the team is told about deployments, crashes, failed backups and certificates, and reached quotas: email, a signed webhook, or Slack."
      />
      {canManage ? (
        <Card title="Add a channel">
          <CreateChannelForm action={createChannelAction} teamId={ctx.teamId} events={NOTIFICATION_EVENTS} />
        </Card>
      ) : null}
      <Card title="Channels">
        {page.items.length === 0 ? (
          <EmptyState title="No channels yet">Channels an admin adds appear here.</EmptyState>
        ) : (
          <ul aria-label="Notification channels" className="-my-3 divide-y divide-zinc-200 dark:divide-zinc-800">
            {page.items.map((channel) => (
              <li key={channel.id} className="space-y-3 py-4" data-testid="notification-channel">
                <div className="flex flex-wrap items-center gap-2">
                  <span className="font-medium">{channel.name}</span>
                  <Badge>{channel.kind}</Badge>
                  <code className="text-xs">{channel.target}</code>
                  {channel.enabled ? null : <Badge tone="amber">off</Badge>}
                </div>
                <div className="flex flex-wrap gap-2">
                  {NOTIFICATION_EVENTS.map((event) => {
                    const on = channel.events.includes(event);
                    return canToggle ? (
                      <ActionButton
                        key={event}
                        action={toggleChannelAction}
                        fields={{ teamId: ctx.teamId, channelId: channel.id, event, on: on ? "false" : "true" }}
                        label={`${on ? "✓" : "✗"} ${event}`}
                        variant={on ? "primary" : "secondary"}
                      />
                    ) : (
                      <Badge key={event} tone={on ? "green" : "neutral"}>
                        {event}
                      </Badge>
                    );
                  })}
                </div>
                {canToggle ? (
                  <div className="flex flex-wrap gap-2">
                    <ActionButton
                      action={toggleChannelAction}
                      fields={{ teamId: ctx.teamId, channelId: channel.id, on: channel.enabled ? "false" : "true" }}
                      label={channel.enabled ? "Switch off" : "Switch on"}
                    />
                    {canManage ? (
                      <>
                        <ActionButton
                          action={testChannelAction}
                          fields={{ teamId: ctx.teamId, channelId: channel.id }}
                          label="Send a test"
                        />
                        <ActionButton
                          action={deleteChannelAction}
                          fields={{ teamId: ctx.teamId, channelId: channel.id }}
                          label="Delete"
                          variant="danger"
                          confirm={`Delete “${channel.name}”? Its deliveries go with it.`}
                        />
                      </>
                    ) : null}
                  </div>
                ) : null}
                <ul aria-label={`Deliveries to ${channel.name}`} className="space-y-1 text-xs">
                  {(deliveries.get(channel.id) ?? []).map((delivery) => (
                    <li
                      key={delivery.id}
                      className="flex flex-wrap items-center gap-2"
                      data-testid="notification-delivery"
                    >
                      <Badge tone={TONE[delivery.status]}>{delivery.status}</Badge>
                      <span>{delivery.event}</span>
                      <span className="text-zinc-500">
                        {delivery.statusCode ? `HTTP ${delivery.statusCode} · ` : ""}
                        {delivery.attempts} attempt{delivery.attempts === 1 ? "" : "s"}
                        {delivery.error ? ` · ${delivery.error}` : ""} · <DateTime value={delivery.createdAt} />
                      </span>
                    </li>
                  ))}
                </ul>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}
