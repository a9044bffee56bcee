// Creates a tenant database on the tenant PostgreSQL: role, settings, database, privileges (lib/infra/tenant-postgres).
// Each step is look-then-act, so a retry after a crash at any point converges on the same result; the password was
// sealed into the row before this job was queued, so every attempt applies the same one.
import { catalog, type TaskPayload } from "@/jobs/catalog";
import { defineTask, type TaskContext } from "@/jobs/define";
import { errorFields, finalReason, openPassword, requirePostgres } from "@/jobs/tenant-services";
import { requestSystemRestart } from "@/lib/domain/lifecycle";
import { claimOperation, failOperation, succeedOperation } from "@/lib/domain/operations";
import { runTenantProvisionSteps, TENANT_PROVISION_STEPS, type TenantProvisionStep } from "@/lib/infra/tenant-postgres";
import { syncTenantPgBouncer } from "@/lib/services/tenant-services-pgbouncer";

/** The task's work, with the steps injectable so tests can interrupt a provision after any step. */
export async function provisionTenantDb(
  { databaseId, operationId }: TaskPayload<"tenant_db__provision">,
  ctx: TaskContext,
  options: { steps?: readonly TenantProvisionStep[] } = {},
): Promise<void> {
  const { db, log } = ctx;
  if (!(await claimOperation(db, operationId))) return;
  const row = await db.tenantDatabase.findUnique({ where: { id: databaseId } });
  if (!row || row.status === "deleting") {
    await failOperation(db, operationId, "The database was deleted before it was ready.");
    return;
  }
  // A duplicate or late job: the row already says how it ended.
  if (row.status === "ready") {
    await succeedOperation(db, operationId);
    return;
  }
  if (row.status === "failed") {
    await failOperation(db, operationId, row.error ?? "Creating the database failed.");
    return;
  }
  const jobLog = log.child({ teamId: row.teamId, operationId, databaseId });
  const config = requirePostgres();
  try {
    await runTenantProvisionSteps(
      config.adminUrl,
      {
        resourceId: row.id,
        password: openPassword(row.passwordEncrypted),
        limits: {
          connectionLimit: row.connectionLimit,
          statementTimeoutMs: row.statementTimeoutMs,
          idleInTransactionTimeoutMs: row.idleInTransactionMs,
        },
        protectDatabases: config.protectDatabases,
      },
      options.steps ?? TENANT_PROVISION_STEPS,
    );
  } catch (error) {
    const reason = finalReason(error);
    if (reason === null) throw error;
    await db.tenantDatabase.updateMany({
      where: { id: databaseId, status: "provisioning" },
      data: { status: "failed", error: reason },
    });
    await failOperation(db, operationId, reason);
    jobLog.warn(errorFields(error), "tenant database provisioning failed");
    return;
  }
  // PgBouncer learns the role before anyone holds its credentials (they are revealed and injected once ready).
  await syncTenantPgBouncer(db, jobLog, { required: true });
  // Conditional: a deletion requested meanwhile wins, and its job removes what was just created. An app attached at
  // creation restarts to receive the variables, in the same transaction as the status that makes them available.
  await db.$transaction(async (tx) => {
    const done = await tx.tenantDatabase.updateMany({
      where: { id: databaseId, status: "provisioning" },
      data: { status: "ready", error: null },
    });
    if (done.count !== 1) return;
    const current = await tx.tenantDatabase.findUnique({ where: { id: databaseId }, select: { appId: true } });
    if (current?.appId) await requestSystemRestart(tx, current.appId, "database ready");
  });
  await succeedOperation(db, operationId);
  jobLog.info("tenant database provisioned");
}

export const tenantDbProvision = defineTask(catalog.tenant_db__provision, {
  run: (input, ctx) => provisionTenantDb(input, ctx),
  async onGiveUp({ databaseId, operationId }, reason, { db }) {
    await db.tenantDatabase.updateMany({
      where: { id: databaseId, status: "provisioning" },
      data: { status: "failed", error: reason },
    });
    await failOperation(db, operationId, reason);
  },
});
