// Applies the password the domain sealed into the row: re-creates the user if a failed provisioning left none, then
// replaces the password and disconnects every client, so nothing authenticated with the old one survives.
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { errorFields, finalReason, openPassword, requireRedis } from "@/jobs/tenant-services";
import { requestSystemRestart } from "@/lib/domain/lifecycle";
import { claimOperation, failOperation, succeedOperation } from "@/lib/domain/operations";
import { provisionTenantRedis, rotateTenantRedisPassword } from "@/lib/infra/tenant-redis";

const ROTATABLE = ["ready", "failed"] as const;

export const tenantRedisRotate = defineTask(catalog.tenant_redis__rotate, {
  async run({ redisId, operationId }, { db, log }) {
    if (!(await claimOperation(db, operationId))) return;
    const row = await db.tenantRedis.findUnique({ where: { id: redisId } });
    if (!row || row.status === "deleting") {
      await failOperation(db, operationId, "The Redis instance was deleted.");
      return;
    }
    if (row.status === "provisioning") {
      await failOperation(db, operationId, "The Redis instance is still being created; rotate again when it is ready.");
      return;
    }
    const jobLog = log.child({ teamId: row.teamId, operationId, redisId });
    const config = requireRedis();
    try {
      // Re-read at run time, not carried in the payload: of several queued rotations, each applies the newest.
      const password = openPassword(row.passwordEncrypted);
      await provisionTenantRedis(config.admin, { resourceId: row.id, password });
      await rotateTenantRedisPassword(config.admin, { resourceId: row.id, password });
    } catch (error) {
      const reason = finalReason(error);
      if (reason === null) throw error;
      const message = `Rotating the password failed: ${reason}`;
      await db.tenantRedis.updateMany({
        where: { id: redisId, status: { in: [...ROTATABLE] } },
        data: { status: "failed", error: message },
      });
      await failOperation(db, operationId, message);
      jobLog.warn(errorFields(error), "tenant Redis password rotation failed");
      return;
    }
    // The old password stopped working: the attached app restarts with the new one, in the same transaction as the
    // status that says it is in place.
    await db.$transaction(async (tx) => {
      const done = await tx.tenantRedis.updateMany({
        where: { id: redisId, status: { in: [...ROTATABLE] } },
        data: { status: "ready", error: null },
      });
      // Deleted meanwhile: the deletion took care of the app.
      if (done.count !== 1) return;
      const current = await tx.tenantRedis.findUnique({ where: { id: redisId }, select: { appId: true } });
      if (current?.appId) await requestSystemRestart(tx, current.appId, "redis password rotated");
    });
    await succeedOperation(db, operationId);
    jobLog.info("tenant Redis password rotated");
  },
  async onGiveUp({ redisId, operationId }, reason, { db }) {
    // The stored password may no longer match the server's: say so rather than show "ready".
    const message = `Rotating the password failed: ${reason}`;
    await db.tenantRedis.updateMany({
      where: { id: redisId, status: { in: [...ROTATABLE] } },
      data: { status: "failed", error: message },
    });
    await failOperation(db, operationId, message);
  },
});
