// Removes a tenant database: ends its sessions, drops the database and the role (lib/infra/tenant-postgres,
// idempotent), then the row. Whatever an earlier attempt already removed counts as done.
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { errorFields, finalReason, requirePostgres } from "@/jobs/tenant-services";
import { claimOperation, failOperation, succeedOperation } from "@/lib/domain/operations";
import { deprovisionTenantDatabase } from "@/lib/infra/tenant-postgres";
import { syncTenantPgBouncer } from "@/lib/services/tenant-services-pgbouncer";

export const tenantDbDeprovision = defineTask(catalog.tenant_db__deprovision, {
  async run({ databaseId, operationId }, { db, log }) {
    if (!(await claimOperation(db, operationId))) return;
    const row = await db.tenantDatabase.findUnique({ where: { id: databaseId } });
    if (!row) {
      await succeedOperation(db, operationId);
      return;
    }
    if (row.status !== "deleting") {
      await failOperation(db, operationId, "The database is no longer marked for deletion.");
      return;
    }
    const jobLog = log.child({ teamId: row.teamId, operationId, databaseId });
    const config = requirePostgres();
    try {
      await deprovisionTenantDatabase(config.adminUrl, { resourceId: row.id });
    } catch (error) {
      const reason = finalReason(error);
      if (reason === null) throw error;
      // The row stays, marked deleting with the reason: deleting again queues a new attempt.
      await db.tenantDatabase.updateMany({ where: { id: databaseId, status: "deleting" }, data: { error: reason } });
      await failOperation(db, operationId, reason);
      jobLog.warn(errorFields(error), "tenant database deprovisioning failed");
      return;
    }
    await db.tenantDatabase.deleteMany({ where: { id: databaseId, status: "deleting" } });
    await succeedOperation(db, operationId);
    jobLog.info("tenant database deleted");
    await syncTenantPgBouncer(db, jobLog);
  },
  async onGiveUp({ databaseId, operationId }, reason, { db }) {
    await db.tenantDatabase.updateMany({ where: { id: databaseId, status: "deleting" }, data: { error: reason } });
    await failOperation(db, operationId, reason);
  },
});
