// Proves the whole request → job → worker path: the operation it is given moves from queued to succeeded only
// when a worker picked the job up from the queue and could write to the platform database.
// `npm run manage -- check` uses it to report a working worker, not just a recent heartbeat.
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { claimOperation, failOperation, succeedOperation } from "@/lib/domain/operations";

export const platformPing = defineTask(catalog.platform__ping, {
  async run({ operationId }, { db, log }) {
    if (!(await claimOperation(db, operationId))) {
      log.info({ operationId }, "operation already finished or gone; nothing to do");
      return;
    }
    await succeedOperation(db, operationId);
    log.info({ operationId }, "ping operation succeeded");
  },
  async onGiveUp({ operationId }, reason, { db }) {
    await failOperation(db, operationId, reason);
  },
});
