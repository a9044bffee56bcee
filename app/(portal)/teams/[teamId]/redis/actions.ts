"use server";

// The Redis pages' server actions, like the databases' (../databases/actions.ts): thin, through teamAction and
// lib/domain/redis, which refuses roles below admin whatever the page showed.
import { refresh } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { pollServices } from "@/app/(portal)/teams/[teamId]/databases/service-poll";
import type { ServiceSnapshot } from "@/components/services/service-types";
import { type ActionState, teamAction } from "@/lib/actions";
import { createRedis, deleteRedis, revealRedisCredentials, rotateRedisPassword, updateRedis } from "@/lib/domain/redis";
import type { TenantRedisConnectionInfo } from "@/lib/infra/tenant-redis";

const teamInput = z.strictObject({ teamId: z.uuid() });
const redisInput = teamInput.extend({ redisId: z.uuid() });
const appChoice = z
  .string()
  .max(100)
  .transform((value) => (value === "" ? null : value));

export const createRedisAction = teamAction(
  teamInput.extend({ name: z.string().max(200), appId: appChoice }),
  async (input, { db, ctx }) => {
    const { redis } = await createRedis(db, ctx, { name: input.name, appId: input.appId });
    redirect(`/teams/${ctx.teamId}/redis/${redis.id}`);
  },
);

export const attachRedisAction = teamAction(redisInput.extend({ appId: appChoice }), async (input, { db, ctx }) => {
  const redis = await updateRedis(db, ctx, input.redisId, { appId: input.appId });
  refresh();
  return {
    status: "success",
    message: redis.appId
      ? "Attached. The app receives REDIS_URL at its next start; it restarts now if it is running."
      : "Detached. The app loses REDIS_URL at its next start.",
  };
});

export const rotateRedisAction = teamAction(redisInput, async (input, { db, ctx }) => {
  await rotateRedisPassword(db, ctx, input.redisId);
  refresh();
  return { status: "success", message: "Rotating the password: the old one stops working in a moment." };
});

export const revealRedisCredentialsAction = teamAction<typeof redisInput, TenantRedisConnectionInfo>(
  redisInput,
  async (input, { db, ctx }) => ({ status: "success", data: await revealRedisCredentials(db, ctx, input.redisId) }),
);

export const deleteRedisAction = teamAction(
  redisInput.extend({ confirmName: z.string().max(200) }),
  async (input, { db, ctx }) => {
    await deleteRedis(db, ctx, input.redisId, { confirmName: input.confirmName });
    redirect(`/teams/${ctx.teamId}/redis`);
  },
);

/** The pages poll this while something is in progress; membership and role are checked on each call. */
export async function pollRedis(
  teamId: string,
  ids: string[],
): Promise<ActionState<Record<string, ServiceSnapshot | null>>> {
  return await pollServices("redis", teamId, ids);
}
