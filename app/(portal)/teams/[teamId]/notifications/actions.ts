"use server";

import { refresh } from "next/cache";
import { z } from "zod";
import { teamAction } from "@/lib/actions";
import {
  CHANNEL_KINDS,
  channelName,
  channelTarget,
  createChannel,
  deleteChannel,
  testChannel,
  toggleChannelEvent,
  updateChannel,
} from "@/lib/domain/notification-channels";
import { NOTIFICATION_EVENTS } from "@/lib/domain/notifications";

// A checkbox group posts one value per checked box: none is absent, one is a string, more an array.
const eventList = z
  .union([z.enum(NOTIFICATION_EVENTS), z.array(z.enum(NOTIFICATION_EVENTS))])
  .optional()
  .transform((value) => (value === undefined ? [] : Array.isArray(value) ? value : [value]));

const createInput = z.strictObject({
  teamId: z.uuid(),
  kind: z.enum(CHANNEL_KINDS, { error: "Choose the channel's kind." }),
  name: channelName,
  target: channelTarget,
  events: eventList,
});

/** The webhook secret, returned once so the page can show it; only its sealed form is stored. */
type Created = { name: string; secret: string | null };

export const createChannelAction = teamAction<typeof createInput, Created>(createInput, async (input, { db, ctx }) => {
  const { channel, secret } = await createChannel(db, ctx, {
    kind: input.kind,
    name: input.name,
    target: input.target,
    events: input.events,
  });
  refresh();
  return { status: "success", message: `Channel “${channel.name}” created.`, data: { name: channel.name, secret } };
});

/** One event switched on or off (members may), or the whole channel (`event` absent). */
export const toggleChannelAction = teamAction(
  z.strictObject({
    teamId: z.uuid(),
    channelId: z.uuid(),
    event: z.enum(NOTIFICATION_EVENTS).optional(),
    on: z.enum(["true", "false"]),
  }),
  async (input, { db, ctx }) => {
    const on = input.on === "true";
    if (input.event === undefined) await updateChannel(db, ctx, input.channelId, { enabled: on });
    else await toggleChannelEvent(db, ctx, input.channelId, input.event, on);
    refresh();
    return { status: "success" };
  },
);

export const testChannelAction = teamAction(
  z.strictObject({ teamId: z.uuid(), channelId: z.uuid() }),
  async (input, { db, ctx }) => {
    await testChannel(db, ctx, input.channelId);
    refresh();
    return { status: "success", message: "Test notification queued." };
  },
);

export const deleteChannelAction = teamAction(
  z.strictObject({ teamId: z.uuid(), channelId: z.uuid() }),
  async (input, { db, ctx }) => {
    await deleteChannel(db, ctx, input.channelId);
    refresh();
    return { status: "success", message: "Channel deleted." };
  },
);
