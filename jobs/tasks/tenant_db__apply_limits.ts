// Applies a database's limits after a change (changeDatabaseLimits): CONNECTION LIMIT on the role and its defaults
// for statement_timeout and idle_in_transaction_session_timeout. It runs the whole, idempotent provisioning with the
// row's current values, so several changes in a row converge on the newest and nothing else drifts meanwhile.
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { errorFields, finalReason, openPassword, requirePostgres } from "@/jobs/tenant-services";
import { claimOperation, failOperation, succeedOperation } from "@/lib/domain/operations";
import { provisionTenantDatabase } from "@/lib/infra/tenant-postgres";
import { syncTenantPgBouncer } from "@/lib/services/tenant-services-pgbouncer";

export const tenantDbApplyLimits = defineTask(catalog.tenant_db__apply_limits, {
  async run({ databaseId, operationId }, { db, log }) {
    if (!(await claimOperation(db, operationId))) return;
    const row = await db.tenantDatabase.findUnique({ where: { id: databaseId } });
    if (!row || row.status === "deleting") {
      await failOperation(db, operationId, "The database was deleted.");
      return;
    }
    if (row.status !== "ready") {
      await failOperation(db, operationId, "The database is not ready; its limits apply once it is.");
      return;
    }
    const jobLog = log.child({ teamId: row.teamId, operationId, databaseId });
    const config = requirePostgres();
    const limits = {
      connectionLimit: row.connectionLimit,
      statementTimeoutMs: row.statementTimeoutMs,
      idleInTransactionTimeoutMs: row.idleInTransactionMs,
    };
    try {
      await provisionTenantDatabase(config.adminUrl, {
        resourceId: row.id,
        // Re-applying the stored password changes nothing on the server: it is the one in place.
        password: openPassword(row.passwordEncrypted),
        limits,
        protectDatabases: config.protectDatabases,
      });
    } catch (error) {
      const reason = finalReason(error);
      if (reason === null) throw error;
      const message = `Changing the limits failed: ${reason}`;
      await db.tenantDatabase.updateMany({ where: { id: databaseId, status: "ready" }, data: { error: message } });
      await failOperation(db, operationId, message);
      jobLog.warn(errorFields(error), "tenant database limits not applied");
      return;
    }
    await db.tenantDatabase.updateMany({ where: { id: databaseId, status: "ready" }, data: { error: null } });
    // PgBouncer's per-user cap follows, where the platform manages one.
    await syncTenantPgBouncer(db, jobLog);
    await succeedOperation(db, operationId);
    jobLog.info({ limits }, "tenant database limits applied");
  },
  async onGiveUp({ databaseId, operationId }, reason, { db }) {
    const message = `Changing the limits failed: ${reason}`;
    await db.tenantDatabase.updateMany({ where: { id: databaseId, status: "ready" }, data: { error: message } });
    await failOperation(db, operationId, message);
  },
});
