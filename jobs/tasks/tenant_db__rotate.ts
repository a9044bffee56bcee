// Applies the password the domain sealed into the row: converges the whole database first (so a failed one is
// repaired too), then sets the password and ends every session of the role, so the old password stops working.
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { errorFields, finalReason, openPassword, requirePostgres } from "@/jobs/tenant-services";
import { requestSystemRestart } from "@/lib/domain/lifecycle";
import { claimOperation, failOperation, succeedOperation } from "@/lib/domain/operations";
import { provisionTenantDatabase, rotateTenantPassword } from "@/lib/infra/tenant-postgres";
import { syncTenantPgBouncer } from "@/lib/services/tenant-services-pgbouncer";

const ROTATABLE = ["ready", "failed"] as const;

export const tenantDbRotate = defineTask(catalog.tenant_db__rotate, {
  async run({ databaseId, operationId }, { db, log }) {
    if (!(await claimOperation(db, operationId))) return;
    const row = await db.tenantDatabase.findUnique({ where: { id: databaseId } });
    if (!row || row.status === "deleting") {
      await failOperation(db, operationId, "The database was deleted.");
      return;
    }
    if (row.status === "provisioning") {
      await failOperation(db, operationId, "The database is still being created; rotate again when it is ready.");
      return;
    }
    const jobLog = log.child({ teamId: row.teamId, operationId, databaseId });
    const config = requirePostgres();
    try {
      // Re-read at run time, not carried in the payload: of several queued rotations, each applies the newest.
      const password = openPassword(row.passwordEncrypted);
      await provisionTenantDatabase(config.adminUrl, {
        resourceId: row.id,
        password,
        limits: {
          connectionLimit: row.connectionLimit,
          statementTimeoutMs: row.statementTimeoutMs,
          idleInTransactionTimeoutMs: row.idleInTransactionMs,
        },
        protectDatabases: config.protectDatabases,
      });
      await rotateTenantPassword(config.adminUrl, { resourceId: row.id, password });
    } catch (error) {
      const reason = finalReason(error);
      if (reason === null) throw error;
      const message = `Rotating the password failed: ${reason}`;
      await db.tenantDatabase.updateMany({
        where: { id: databaseId, status: { in: [...ROTATABLE] } },
        data: { status: "failed", error: message },
      });
      await failOperation(db, operationId, message);
      jobLog.warn(errorFields(error), "tenant database password rotation failed");
      return;
    }
    // PgBouncer takes the new verifier before the app restarts with the new password.
    await syncTenantPgBouncer(db, jobLog, { required: true });
    // The old password stopped working: the attached app restarts with the new one, in the same transaction as the
    // status that says it is in place.
    await db.$transaction(async (tx) => {
      const done = await tx.tenantDatabase.updateMany({
        where: { id: databaseId, status: { in: [...ROTATABLE] } },
        data: { status: "ready", error: null },
      });
      // Deleted meanwhile: the deletion took care of the app.
      if (done.count !== 1) return;
      const current = await tx.tenantDatabase.findUnique({ where: { id: databaseId }, select: { appId: true } });
      if (current?.appId) await requestSystemRestart(tx, current.appId, "database password rotated");
    });
    await succeedOperation(db, operationId);
    jobLog.info("tenant database password rotated");
  },
  async onGiveUp({ databaseId, operationId }, reason, { db }) {
    // The stored password may no longer match the server's: say so rather than show "ready".
    const message = `Rotating the password failed: ${reason}`;
    await db.tenantDatabase.updateMany({
      where: { id: databaseId, status: { in: [...ROTATABLE] } },
      data: { status: "failed", error: message },
    });
    await failOperation(db, operationId, message);
  },
});
