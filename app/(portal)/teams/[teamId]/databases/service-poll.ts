// The status poll of the databases and Redis pages, for both kinds: a team action (membership and role checked on
// each call) that answers the short snapshots of the given services. The pages' "use server" modules export thin
// wrappers around it (pollDatabases, pollRedis).
import { z } from "zod";
import { serviceSnapshots } from "@/app/(portal)/teams/[teamId]/databases/service-data";
import type { ServiceKind, ServiceSnapshot } from "@/components/services/service-types";
import { type ActionState, teamAction } from "@/lib/actions";

// formToObject gives a repeated field as an array and a single one as a string.
const idList = z.preprocess(
  (value) => (value === undefined ? [] : Array.isArray(value) ? value : [value]),
  z.array(z.uuid()).max(200),
);
const pollInput = z.strictObject({ teamId: z.uuid(), kind: z.enum(["database", "redis"]), ids: idList });

const poll = teamAction<typeof pollInput, Record<string, ServiceSnapshot | null>>(
  pollInput,
  async (input, { db, ctx }) => ({ status: "success", data: await serviceSnapshots(db, ctx, input.kind, input.ids) }),
);

export async function pollServices(
  kind: ServiceKind,
  teamId: string,
  ids: string[],
): Promise<ActionState<Record<string, ServiceSnapshot | null>>> {
  const form = new FormData();
  form.set("teamId", String(teamId));
  form.set("kind", kind);
  for (const id of new Set(ids.map(String))) form.append("ids", id);
  return await poll({ status: "idle" }, form);
}
