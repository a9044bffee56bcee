// Loads the routing config rendered from the database into Caddy (lib/engine/routing.ts), for changes that are not
// a release: an app renamed, deleted, its health check path changed. Releases call syncRouting themselves, inside
// their traffic switch. Enqueued with job key "caddy-sync" (pending syncs collapse into one: each renders the
// latest state anyway) in the "caddy" queue.
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { failOperation, succeedOperation } from "@/lib/domain/operations";
import { routingConfigFromEnv, syncRouting } from "@/lib/engine/routing";
import { AppError } from "@/lib/errors";
import { CaddyError } from "@/lib/infra/caddy";
import { getInfra } from "@/lib/services/infra";

export const caddySync = defineTask(catalog.caddy__sync, {
  async run({ operationId }, { db, log }) {
    let result: Awaited<ReturnType<typeof syncRouting>>;
    try {
      result = await syncRouting(db, getInfra().caddy(), { config: routingConfigFromEnv(), log });
    } catch (error) {
      // What the operator (or an operation's owner) reads when the attempts run out; details stay in the log.
      if (error instanceof CaddyError) {
        throw new AppError("unavailable", error.userMessage, { cause: error, retryable: true });
      }
      throw error;
    }
    if (operationId) await succeedOperation(db, operationId);
    log.debug({ applied: result.applied }, "routing synced");
  },
  async onGiveUp({ operationId }, reason, { db, log }) {
    log.error({ reason }, "the routing config could not be loaded into caddy; routes are stale until the next sync");
    if (operationId) await failOperation(db, operationId, reason);
  },
});
