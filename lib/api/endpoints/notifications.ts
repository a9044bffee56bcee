// Notification channels (#17): a team's email, webhook and Slack channels, their test delivery and deliveries.
// Team-scoped like every team resource: the token's team. Members may only switch events (and the channel) on and
// off; admins create, retarget, test and delete (lib/domain/notification-channels.ts).
import { z } from "zod";
import { defineEndpoint } from "@/lib/api/endpoint";
import { idParams, iso, isoDate, pageOf } from "@/lib/api/endpoints/common";
import { pageQuery } from "@/lib/api/query";
import {
  CHANNEL_KINDS,
  type ChannelView,
  channelEvents,
  channelName,
  channelTarget,
  type DeliveryView,
} from "@/lib/domain/notification-channels";
import { NOTIFICATION_EVENTS } from "@/lib/domain/notifications";

const TAGS = ["notifications"];
const EXAMPLE_CHANNEL_ID = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
const EXAMPLE_DELIVERY_ID = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e";
const EXAMPLE_TIME = "2026-03-14T09:26:53.000Z";

export const channelSchema = z.object({
  id: z.uuid(),
  kind: z.enum(CHANNEL_KINDS),
  name: z.string(),
  target: z.string().describe("Email addresses in full; a URL as scheme and host only (its path may be a credential)"),
  events: z.array(z.enum(NOTIFICATION_EVENTS)),
  enabled: z.boolean(),
  createdAt: isoDate,
  updatedAt: isoDate,
});

export function channelJson(channel: ChannelView): z.input<typeof channelSchema> {
  return {
    ...channel,
    events: channel.events.filter((event): event is (typeof NOTIFICATION_EVENTS)[number] =>
      (NOTIFICATION_EVENTS as readonly string[]).includes(event),
    ),
    createdAt: iso(channel.createdAt),
    updatedAt: iso(channel.updatedAt),
  };
}

export const deliverySchema = z.object({
  id: z.uuid(),
  event: z.string().describe("The event name, or channel.test for a test delivery"),
  summary: z.string(),
  status: z.enum(["pending", "delivered", "failed"]),
  attempts: z.number().int(),
  statusCode: z.number().int().nullable().describe("The receiver's HTTP status at the last attempt"),
  error: z.string().nullable(),
  durationMs: z.number().int().nullable(),
  createdAt: isoDate,
  lastAttemptAt: isoDate.nullable(),
  deliveredAt: isoDate.nullable(),
});

export function deliveryJson(delivery: DeliveryView): z.input<typeof deliverySchema> {
  return {
    ...delivery,
    createdAt: iso(delivery.createdAt),
    lastAttemptAt: iso(delivery.lastAttemptAt),
    deliveredAt: iso(delivery.deliveredAt),
  };
}

const exampleChannel: z.output<typeof channelSchema> = {
  id: EXAMPLE_CHANNEL_ID,
  kind: "webhook",
  name: "ops",
  target: "https://hooks.example.org/…",
  events: ["deployment.failed", "app.crash_looping"],
  enabled: true,
  createdAt: EXAMPLE_TIME,
  updatedAt: EXAMPLE_TIME,
};

const exampleDelivery: z.output<typeof deliverySchema> = {
  id: EXAMPLE_DELIVERY_ID,
  event: "deployment.failed",
  summary: "Deployment of shop failed: pip install failed",
  status: "delivered",
  attempts: 1,
  statusCode: 200,
  error: null,
  durationMs: 84,
  createdAt: EXAMPLE_TIME,
  lastAttemptAt: EXAMPLE_TIME,
  deliveredAt: EXAMPLE_TIME,
};

export const listChannelsEndpoint = defineEndpoint({
  id: "listNotificationChannels",
  method: "GET",
  path: "/api/v1/notification-channels",
  summary: "The team's notification channels, newest first",
  description: "The team's notification channels (email, webhook, Slack) with the events each is subscribed to.",
  examples: { responses: { 200: { items: [exampleChannel], nextCursor: null } } },
  tags: TAGS,
  auth: { scope: "read", permission: "notifications:read" },
  errors: [],
  query: pageQuery,
  responses: { 200: { description: "A page of channels", schema: pageOf(channelSchema) } },
});

export const createChannelBody = z.strictObject({
  kind: z.enum(CHANNEL_KINDS),
  name: channelName,
  target: channelTarget.describe(
    "email: up to 10 addresses separated by commas; webhook and slack: an https:// URL on a public host",
  ),
  events: channelEvents,
  enabled: z.boolean().optional(),
});

export const createChannelEndpoint = defineEndpoint({
  id: "createNotificationChannel",
  method: "POST",
  path: "/api/v1/notification-channels",
  summary: "Create a notification channel; a webhook's signing secret is shown in this answer only",
  description:
    "Creates a channel. A `webhook` channel gets a signing secret, in this answer only: receivers verify `X-Tussilago-Signature: sha256=<hex HMAC-SHA256 of the raw body>` with it. URLs must be `https://` on public hosts (`422` otherwise). `409` when the team's notification channel quota is reached. Audited as `notification_channel.created`.",
  examples: {
    request: {
      kind: "webhook",
      name: "ops",
      target: "https://hooks.example.org/tussilago",
      events: ["deployment.failed", "app.crash_looping"],
    },
    responses: { 201: { channel: exampleChannel, secret: "d2h0LWlzLXRoaXMtYS1zZWNyZXQtZXhhbXBsZS0xMjM0" } },
  },
  tags: TAGS,
  auth: { scope: "write", permission: "notifications:manage" },
  errors: ["quota_exceeded"],
  idempotent: true,
  body: createChannelBody,
  secretFields: ["secret"],
  responses: {
    201: {
      description: "The channel, and the webhook's signing secret (null for email and Slack channels)",
      schema: z.object({ channel: channelSchema, secret: z.string().nullable() }),
    },
    409: { description: "The team's notification channel quota is reached" },
  },
});

export const updateChannelBody = z
  .strictObject({
    name: channelName.optional().describe("Admins only"),
    target: channelTarget.optional().describe("Admins only; the signing secret stays"),
    events: channelEvents.optional().describe("Members may change this"),
    enabled: z.boolean().optional().describe("Members may change this"),
  })
  .refine((body) => Object.values(body).some((value) => value !== undefined), "Give at least one field.")
  .meta({ minProperties: 1 });

export const updateChannelEndpoint = defineEndpoint({
  id: "updateNotificationChannel",
  method: "PATCH",
  path: "/api/v1/notification-channels/{id}",
  summary: "Switch a channel's events on or off (members), or rename or retarget it (admins)",
  description:
    "Members may change `events` and `enabled`; `name` and `target` need an admin (`403` otherwise). Audited as `notification_channel.updated`.",
  examples: { request: { events: ["deployment.failed"] }, responses: { 200: { channel: exampleChannel } } },
  tags: TAGS,
  auth: { scope: "write", permission: "notifications:toggle" },
  errors: [],
  params: idParams,
  body: updateChannelBody,
  responses: { 200: { description: "The channel", schema: z.object({ channel: channelSchema }) } },
});

export const deleteChannelEndpoint = defineEndpoint({
  id: "deleteNotificationChannel",
  method: "DELETE",
  path: "/api/v1/notification-channels/{id}",
  summary: "Delete a notification channel and its deliveries",
  description: "Deletes the channel; pending deliveries to it are dropped. Audited as `notification_channel.deleted`.",
  examples: { responses: {} },
  tags: TAGS,
  auth: { scope: "write", permission: "notifications:manage" },
  errors: [],
  params: idParams,
  responses: { 204: { description: "Deleted" } },
});

export const testChannelEndpoint = defineEndpoint({
  id: "testNotificationChannel",
  method: "POST",
  path: "/api/v1/notification-channels/{id}/test",
  summary: "Send a test notification (event channel.test) to this channel",
  description:
    "Queues a test delivery to this channel (also when it is switched off); follow it in the channel's deliveries. Audited as `notification_channel.tested`.",
  examples: { responses: { 202: { delivery: { ...exampleDelivery, event: "channel.test", status: "pending" } } } },
  tags: TAGS,
  auth: { scope: "write", permission: "notifications:manage" },
  errors: [],
  idempotent: true,
  params: idParams,
  responses: { 202: { description: "Queued", schema: z.object({ delivery: deliverySchema }) } },
});

export const listDeliveriesEndpoint = defineEndpoint({
  id: "listNotificationDeliveries",
  method: "GET",
  path: "/api/v1/notification-channels/{id}/deliveries",
  summary: "The channel's deliveries and their outcomes, newest first",
  description:
    "Each delivery of an event to this channel: pending (queued or waiting for a retry), delivered or failed, with the attempts made, the last status code, error and duration.",
  examples: { responses: { 200: { items: [exampleDelivery], nextCursor: null } } },
  tags: TAGS,
  auth: { scope: "read", permission: "notifications:read" },
  errors: [],
  params: idParams,
  query: pageQuery,
  responses: { 200: { description: "A page of deliveries", schema: pageOf(deliverySchema) } },
});

export const notificationEndpoints = [
  listChannelsEndpoint,
  createChannelEndpoint,
  updateChannelEndpoint,
  deleteChannelEndpoint,
  testChannelEndpoint,
  listDeliveriesEndpoint,
] as const;
