// Runs the host readiness checks of `manage check` (lib/platform/check.ts) in the worker, for the instance admin's
// host page (lib/domain/host-checks.ts), and stores the report. Idempotent: one report per operation (upsert).
import { z } from "zod";
import { defineTask } from "@/jobs/define";
import { claimOperation, failOperation, succeedOperation } from "@/lib/domain/operations";
import { getEnv } from "@/lib/env";
import { runChecks } from "@/lib/platform/check";

export const platformCheck = defineTask({
  name: "platform__check",
  payload: z.strictObject({ operationId: z.uuid() }),
  // The checks report failures instead of throwing; a second attempt covers a worker restart.
  maxAttempts: 2,
  async run({ operationId }, { db, log }) {
    if (!(await claimOperation(db, operationId))) return;
    const env = getEnv();
    // The worker runs this job, so it is alive: no round trip through the queue from inside it.
    const report = await runChecks({ env, db, databaseUrl: env.databaseDirectUrl ?? "", pingWorker: false });
    await db.$transaction(async (tx) => {
      await tx.hostCheckReport.upsert({
        where: { operationId },
        create: { operationId, ok: report.ok, sections: report.sections },
        update: { ok: report.ok, sections: report.sections, createdAt: new Date() },
      });
      await succeedOperation(tx, operationId);
    });
    log.info({ operationId, ok: report.ok }, "host checks ran");
  },
  async onGiveUp({ operationId }, reason, { db }) {
    await failOperation(db, operationId, reason);
  },
});
