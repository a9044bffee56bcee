// Runs the host readiness checks of `manage check` (lib/checks/check.ts) in the worker, for the instance admin's
// host page (lib/domain/host-checks.ts), and stores the report. Idempotent: one report per operation (upsert).
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { runChecks } from "@/lib/checks/check";
import { claimOperation, failOperation, succeedOperation } from "@/lib/domain/operations";
import { getEnv } from "@/lib/env";

export const platformCheck = defineTask(catalog.platform__check, {
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
