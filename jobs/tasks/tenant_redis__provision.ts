// Creates a tenant's Redis ACL user on the tenant Redis server (lib/infra/tenant-redis): one SETUSER with the full
// rule set, verified with ACL DRYRUN, then ACL SAVE. Running it again converges on the same user; the password was sealed into
// the row before this job was queued, so every attempt applies the same one.
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { errorFields, finalReason, openPassword, requireRedis } from "@/jobs/tenant-services";
import { requestSystemRestart } from "@/lib/domain/lifecycle";
import { claimOperation, failOperation, succeedOperation } from "@/lib/domain/operations";
import { provisionTenantRedis } from "@/lib/infra/tenant-redis";

export const tenantRedisProvision = defineTask(catalog.tenant_redis__provision, {
  async run({ redisId, operationId }, { db, log }) {
    if (!(await claimOperation(db, operationId))) return;
    const row = await db.tenantRedis.findUnique({ where: { id: redisId } });
    if (!row || row.status === "deleting") {
      await failOperation(db, operationId, "The Redis instance was deleted before it was ready.");
      return;
    }
    // A duplicate or late job: the row already says how it ended.
    if (row.status === "ready") {
      await succeedOperation(db, operationId);
      return;
    }
    if (row.status === "failed") {
      await failOperation(db, operationId, row.error ?? "Creating the Redis instance failed.");
      return;
    }
    const jobLog = log.child({ teamId: row.teamId, operationId, redisId });
    const config = requireRedis();
    try {
      await provisionTenantRedis(config.admin, { resourceId: row.id, password: openPassword(row.passwordEncrypted) });
    } catch (error) {
      const reason = finalReason(error);
      if (reason === null) throw error;
      await db.tenantRedis.updateMany({
        where: { id: redisId, status: "provisioning" },
        data: { status: "failed", error: reason },
      });
      await failOperation(db, operationId, reason);
      jobLog.warn(errorFields(error), "tenant Redis provisioning failed");
      return;
    }
    // Conditional: a deletion requested meanwhile wins, and its job removes the user again. An app attached at
    // creation restarts to receive the variables, in the same transaction as the status that makes them available.
    await db.$transaction(async (tx) => {
      const done = await tx.tenantRedis.updateMany({
        where: { id: redisId, status: "provisioning" },
        data: { status: "ready", error: null },
      });
      if (done.count !== 1) return;
      const current = await tx.tenantRedis.findUnique({ where: { id: redisId }, select: { appId: true } });
      if (current?.appId) await requestSystemRestart(tx, current.appId, "redis ready");
    });
    await succeedOperation(db, operationId);
    jobLog.info("tenant Redis provisioned");
  },
  async onGiveUp({ redisId, operationId }, reason, { db }) {
    await db.tenantRedis.updateMany({
      where: { id: redisId, status: "provisioning" },
      data: { status: "failed", error: reason },
    });
    await failOperation(db, operationId, reason);
  },
});
