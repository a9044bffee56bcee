// Removes a tenant's Redis user (which also disconnects its clients) and every key under its prefix, then the row.
// Each step tolerates an earlier partial run.
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { errorFields, finalReason, requireRedis } from "@/jobs/tenant-services";
import { claimOperation, failOperation, succeedOperation } from "@/lib/domain/operations";
import { deprovisionTenantRedis } from "@/lib/infra/tenant-redis";

export const tenantRedisDeprovision = defineTask(catalog.tenant_redis__deprovision, {
  async run({ redisId, operationId }, { db, log }) {
    if (!(await claimOperation(db, operationId))) return;
    const row = await db.tenantRedis.findUnique({ where: { id: redisId } });
    if (!row) {
      await succeedOperation(db, operationId);
      return;
    }
    if (row.status !== "deleting") {
      await failOperation(db, operationId, "The Redis instance is no longer marked for deletion.");
      return;
    }
    const jobLog = log.child({ teamId: row.teamId, operationId, redisId });
    const config = requireRedis();
    try {
      const { keysDeleted } = await deprovisionTenantRedis(config.admin, { resourceId: row.id });
      jobLog.info({ keysDeleted }, "tenant Redis user and keys removed");
    } catch (error) {
      const reason = finalReason(error);
      if (reason === null) throw error;
      // The row stays, marked deleting with the reason: deleting again queues a new attempt.
      await db.tenantRedis.updateMany({ where: { id: redisId, status: "deleting" }, data: { error: reason } });
      await failOperation(db, operationId, reason);
      jobLog.warn(errorFields(error), "tenant Redis deprovisioning failed");
      return;
    }
    await db.tenantRedis.deleteMany({ where: { id: redisId, status: "deleting" } });
    await succeedOperation(db, operationId);
  },
  async onGiveUp({ redisId, operationId }, reason, { db }) {
    await db.tenantRedis.updateMany({ where: { id: redisId, status: "deleting" }, data: { error: reason } });
    await failOperation(db, operationId, reason);
  },
});
