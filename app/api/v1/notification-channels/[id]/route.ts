import { channelJson, deleteChannelEndpoint, updateChannelEndpoint } from "@/lib/api/endpoints/notifications";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { deleteChannel, updateChannel } from "@/lib/domain/notification-channels";

export const PATCH = handle(updateChannelEndpoint, async ({ ctx, params, body }) => {
  return { status: 200 as const, body: { channel: channelJson(await updateChannel(getDb(), ctx, params.id, body)) } };
});

export const DELETE = handle(deleteChannelEndpoint, async ({ ctx, params }) => {
  await deleteChannel(getDb(), ctx, params.id);
  return { status: 204 as const, body: undefined };
});

export const { GET, POST, PUT, OPTIONS } = methodsNotAllowed("/api/v1/notification-channels/{id}");
