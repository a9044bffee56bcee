// The status poll of the databases and Redis pages, for both kinds: a team action (membership and role checked on
// each call) that answers the short snapshots of the given services. The pages' "use server" modules export thin
// wrappers around it (pollDatabases, pollRedis).
import { z } from "zod";
import { serviceSnapshots } from "@/app/(portal)/teams/[teamId]/databases/service-data";
import type { ServiceKind, ServiceSnapshot } from "@/components/services/service-types";
import { type ActionState, teamCall } from "@/lib/actions";

// The page may list a service twice; the arguments come from the browser, so the schema (not the caller) dedupes.
const uniqueIds = z.preprocess(
  (value) => (Array.isArray(value) ? [...new Set(value)] : value),
  z.array(z.uuid()).max(200),
);
const pollInput = z.strictObject({
  teamId: z.uuid(),
  kind: z.enum(["database", "redis"]),
  ids: uniqueIds,
});

const poll = teamCall<typeof pollInput, Record<string, ServiceSnapshot | null>>(
  pollInput,
  async (input, { db, ctx }) => ({ status: "success", data: await serviceSnapshots(db, ctx, input.kind, input.ids) }),
);

export async function pollServices(
  kind: ServiceKind,
  teamId: string,
  ids: string[],
): Promise<ActionState<Record<string, ServiceSnapshot | null>>> {
  return await poll({ teamId, kind, ids });
}
