import { channelJson, createChannelEndpoint, listChannelsEndpoint } from "@/lib/api/endpoints/notifications";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { createChannel, listChannels } from "@/lib/domain/notification-channels";

export const GET = handle(listChannelsEndpoint, async ({ ctx, query }) => {
  const page = await listChannels(getDb(), ctx, query);
  return { status: 200 as const, body: { items: page.items.map(channelJson), nextCursor: page.nextCursor } };
});

export const POST = handle(createChannelEndpoint, async ({ ctx, body }) => {
  const { channel, secret } = await createChannel(getDb(), ctx, body);
  return { status: 201 as const, body: { channel: channelJson(channel), secret } };
});

export const { PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/notification-channels");
