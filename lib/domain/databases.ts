// Tenant PostgreSQL databases: create, list, show, attach to an app, rotate the password, reveal the credentials,
// delete. Every change writes its intent (the row, an Operation) and enqueues its job in one transaction; the jobs
// (jobs/tasks/tenant_db__*.ts) do the work on the tenant server. The password is generated here and stored sealed
// before the job runs, so a retried job applies the same password.
import type { z } from "zod";
import { enqueue } from "@/jobs/enqueue";
import { decryptSecret, encryptSecret } from "@/lib/crypto";
import type { Db, Tx } from "@/lib/db";
import { recordAudit } from "@/lib/domain/audit";
import { type BackupSettingsInput, type BackupSettingsView, backupSettingsView } from "@/lib/domain/backup-rules";
import { changeBackupSettingsInTx } from "@/lib/domain/backups";
import { authorize, type Ctx } from "@/lib/domain/context";
import { createOperation } from "@/lib/domain/operations";
import { afterCursor, type Page, type PageInput, toPage } from "@/lib/domain/pagination";
import { enforceDatabaseQuota, lockTeamForQuota } from "@/lib/domain/quotas";
import { restartAppsForServiceChange } from "@/lib/domain/service-env";
import {
  busyConflict,
  CREDENTIAL_STATUSES,
  type DatabaseLimits,
  type DatabaseLimitsInput,
  databaseLimits,
  databaseLimitsChange,
  lockAppForAttachment,
  parseOrInvalid,
  serviceName,
  serviceNotFound,
  serviceUnavailable,
} from "@/lib/domain/tenant-service-rules";
import { AppError } from "@/lib/errors";
import { type Operation, Prisma, type TenantDatabase } from "@/lib/generated/prisma/client";
import { generateTenantPassword, tenantConnectionInfo } from "@/lib/infra/tenant-postgres/names";
import type { TenantConnectionInfo } from "@/lib/infra/tenant-postgres/types";
import { type TenantPostgresConfig, tenantPostgresConfig } from "@/lib/services/tenant-services";

export type DatabaseView = {
  id: string;
  name: string;
  status: TenantDatabase["status"];
  appId: string | null;
  limits: { connectionLimit: number; statementTimeoutMs: number; idleInTransactionMs: number };
  /** Why the last provisioning, rotation or deletion failed, readable by people. */
  error: string | null;
  /** Schedule and retention of its backups (#16). */
  backups: BackupSettingsView;
  createdAt: Date;
  updatedAt: Date;
};

export function databaseView(row: TenantDatabase): DatabaseView {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    appId: row.appId,
    limits: {
      connectionLimit: row.connectionLimit,
      statementTimeoutMs: row.statementTimeoutMs,
      idleInTransactionMs: row.idleInTransactionMs,
    },
    error: row.error,
    backups: backupSettingsView(row),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const TARGET = "database";

function requireConfig(): TenantPostgresConfig {
  const config = tenantPostgresConfig();
  if (!config) throw serviceUnavailable("database");
  return config;
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
}

/** Locks the team's row for the rest of the transaction: concurrent rotations, attachments and deletions queue. */
async function lockDatabase(tx: Tx, ctx: Ctx, id: string): Promise<TenantDatabase> {
  await tx.$queryRaw`SELECT id FROM "TenantDatabase" WHERE id = ${id}::uuid AND "teamId" = ${ctx.teamId}::uuid FOR UPDATE`;
  const row = await tx.tenantDatabase.findFirst({ where: { id, teamId: ctx.teamId } });
  if (!row) throw serviceNotFound("database");
  return row;
}

function checkId(id: string): void {
  // Not a UUID names nothing; without this PostgreSQL would answer the cast with an error (a 500).
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw serviceNotFound("database");
}

export type CreateDatabaseInput = { name: string; appId?: string | null; limits?: DatabaseLimitsInput };

export async function createDatabase(
  db: Db,
  ctx: Ctx,
  input: CreateDatabaseInput,
): Promise<{ database: DatabaseView; operation: Operation }> {
  authorize(ctx, "databases:manage");
  const name = parseOrInvalid(serviceName, input.name, "name");
  const limits = parseOrInvalid(databaseLimits, input.limits ?? {}, "limits");
  requireConfig();
  const passwordEncrypted = encryptSecret(generateTenantPassword());
  try {
    return await db.$transaction(async (tx) => {
      // The team's row first (every quota check takes it first), then the app's.
      await enforceDatabaseQuota(tx, ctx.teamId, { newLimit: limits.connectionLimit, previousLimit: null });
      const appId = input.appId ?? null;
      if (appId) await lockAppForAttachment(tx, { teamId: ctx.teamId, appId, kind: "database" });
      const row = await tx.tenantDatabase.create({
        data: { teamId: ctx.teamId, name, appId, ...limits, passwordEncrypted, status: "provisioning" },
      });
      const operation = await createOperation(tx, {
        kind: "database.provision",
        teamId: ctx.teamId,
        target: { type: TARGET, id: row.id },
        requestId: ctx.meta.requestId,
      });
      await enqueue(tx, "tenant_db__provision", { databaseId: row.id, operationId: operation.id });
      await recordAudit(tx, ctx, {
        action: "database.created",
        target: { type: TARGET, id: row.id },
        metadata: { name, appId, limits },
      });
      return { database: databaseView(row), operation };
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError("conflict", `A database named "${name}" already exists.`);
    throw error;
  }
}

export async function listDatabases(db: Db, ctx: Ctx, page: PageInput): Promise<Page<DatabaseView>> {
  authorize(ctx, "databases:read");
  const rows = await db.tenantDatabase.findMany({
    where: { teamId: ctx.teamId, ...afterCursor(page.cursor) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: page.limit + 1,
  });
  return toPage(rows, page.limit, databaseView);
}

export async function getDatabase(db: Db, ctx: Ctx, id: string): Promise<DatabaseView> {
  authorize(ctx, "databases:read");
  checkId(id);
  const row = await db.tenantDatabase.findFirst({ where: { id, teamId: ctx.teamId } });
  if (!row) throw serviceNotFound("database");
  return databaseView(row);
}

export type DatabaseLimitsChange = z.input<typeof databaseLimitsChange>;

/** What `PATCH /api/v1/databases/{id}` and the portal's forms change; a field left out stays as it is. */
export type UpdateDatabaseInput = {
  /** An app of the team to attach to, or null to detach. Takes effect when the app restarts. */
  appId?: string | null;
  limits?: DatabaseLimitsChange;
  /** Backup schedule and retention (lib/domain/backup-rules.ts); admins, like the rest of this PATCH. */
  backups?: BackupSettingsInput;
};

/**
 * Attaches or detaches the database (`appId`) and changes its connection limit and role defaults (`limits`), in one
 * transaction: a refused part (a quota, a database still provisioning) leaves the other undone too. New limits are
 * written to the row and tenant_db__apply_limits converges the server to it (the operation); new sessions get them,
 * open ones keep theirs until they reconnect. Nothing asynchronous to do: no operation (null).
 */
export async function updateDatabase(
  db: Db,
  ctx: Ctx,
  id: string,
  input: UpdateDatabaseInput,
): Promise<{ database: DatabaseView; operation: Operation | null }> {
  authorize(ctx, "databases:manage");
  checkId(id);
  const change = input.limits === undefined ? undefined : parseOrInvalid(databaseLimitsChange, input.limits, "limits");
  if (change) requireConfig();
  return await db.$transaction(async (tx) => {
    // A raised connection limit is checked against the quotas: the team's row is locked before the database's.
    if (change?.connectionLimit !== undefined) await lockTeamForQuota(tx, ctx.teamId);
    const before = await lockDatabase(tx, ctx, id);
    if (before.status === "deleting") throw busyConflict("database", before.status);
    if (change) {
      if (before.status === "provisioning") throw busyConflict("database", before.status);
      if (before.status !== "ready") {
        throw new AppError("conflict", "The database is in a failed state; rotate its credentials to repair it first.");
      }
    }
    const attachedOnly = input.appId === undefined ? before : await attachInTx(tx, ctx, before, input.appId);
    const attached =
      input.backups === undefined ? attachedOnly : await changeBackupSettingsInTx(tx, ctx, attachedOnly, input.backups);
    if (!change) return { database: databaseView(attached), operation: null };
    return await changeLimitsInTx(tx, ctx, attached, change);
  });
}

/** Changes only the limits (the portal's limits form); see updateDatabase. */
export async function changeDatabaseLimits(
  db: Db,
  ctx: Ctx,
  id: string,
  input: DatabaseLimitsChange,
): Promise<{ database: DatabaseView; operation: Operation | null }> {
  return await updateDatabase(db, ctx, id, { limits: input });
}

async function attachInTx(tx: Tx, ctx: Ctx, before: TenantDatabase, appId: string | null): Promise<TenantDatabase> {
  if (before.appId === appId) return before;
  const id = before.id;
  if (appId) await lockAppForAttachment(tx, { teamId: ctx.teamId, appId, kind: "database", serviceId: id });
  const row = await tx.tenantDatabase.update({ where: { id }, data: { appId } });
  await recordAudit(tx, ctx, {
    action: appId ? "database.attached" : "database.detached",
    target: { type: TARGET, id },
    metadata: { appId, previousAppId: before.appId },
  });
  // While provisioning there is nothing to inject yet: the app gets the variables once it is ready.
  if (CREDENTIAL_STATUSES.some((status) => status === row.status)) {
    await restartAppsForServiceChange(tx, ctx, [before.appId, appId]);
  }
  return row;
}

async function changeLimitsInTx(
  tx: Tx,
  ctx: Ctx,
  before: TenantDatabase,
  change: z.output<typeof databaseLimitsChange>,
): Promise<{ database: DatabaseView; operation: Operation | null }> {
  const id = before.id;
  const limits: DatabaseLimits = {
    connectionLimit: change.connectionLimit ?? before.connectionLimit,
    statementTimeoutMs: change.statementTimeoutMs ?? before.statementTimeoutMs,
    idleInTransactionMs: change.idleInTransactionMs ?? before.idleInTransactionMs,
  };
  const previous: DatabaseLimits = {
    connectionLimit: before.connectionLimit,
    statementTimeoutMs: before.statementTimeoutMs,
    idleInTransactionMs: before.idleInTransactionMs,
  };
  if (
    limits.connectionLimit === previous.connectionLimit &&
    limits.statementTimeoutMs === previous.statementTimeoutMs &&
    limits.idleInTransactionMs === previous.idleInTransactionMs
  ) {
    return { database: databaseView(before), operation: null };
  }
  await enforceDatabaseQuota(tx, ctx.teamId, {
    newLimit: limits.connectionLimit,
    previousLimit: previous.connectionLimit,
  });
  const row = await tx.tenantDatabase.update({ where: { id }, data: limits });
  const operation = await createOperation(tx, {
    kind: "database.limits",
    teamId: ctx.teamId,
    target: { type: TARGET, id },
    requestId: ctx.meta.requestId,
  });
  await enqueue(tx, "tenant_db__apply_limits", { databaseId: id, operationId: operation.id });
  await recordAudit(tx, ctx, {
    action: "database.limits_changed",
    target: { type: TARGET, id },
    metadata: { limits, previous },
  });
  return { database: databaseView(row), operation };
}

/**
 * Stores a new password and queues the job that sets it on the server, ends the sessions using the old one and then
 * restarts the attached app. Also repairs a failed database: the job converges everything before it rotates.
 */
export async function rotateDatabasePassword(
  db: Db,
  ctx: Ctx,
  id: string,
): Promise<{ database: DatabaseView; operation: Operation }> {
  authorize(ctx, "databases:manage");
  checkId(id);
  requireConfig();
  const passwordEncrypted = encryptSecret(generateTenantPassword());
  return await db.$transaction(async (tx) => {
    const before = await lockDatabase(tx, ctx, id);
    if (before.status === "provisioning" || before.status === "deleting") throw busyConflict("database", before.status);
    const row = await tx.tenantDatabase.update({ where: { id }, data: { passwordEncrypted } });
    const operation = await createOperation(tx, {
      kind: "database.rotate",
      teamId: ctx.teamId,
      target: { type: TARGET, id },
      requestId: ctx.meta.requestId,
    });
    await enqueue(tx, "tenant_db__rotate", { databaseId: id, operationId: operation.id });
    await recordAudit(tx, ctx, { action: "database.credentials_rotated", target: { type: TARGET, id } });
    return { database: databaseView(row), operation };
  });
}

/**
 * Marks the database for deletion; tenant_db__deprovision drops it and its role, then the row. The portal passes
 * the name the user typed as `confirmName`; the API's DELETE is confirmation enough.
 */
export async function deleteDatabase(
  db: Db,
  ctx: Ctx,
  id: string,
  options: { confirmName?: string } = {},
): Promise<{ database: DatabaseView; operation: Operation }> {
  authorize(ctx, "databases:manage");
  checkId(id);
  return await db.$transaction(async (tx) => {
    const row = await lockDatabase(tx, ctx, id);
    if (options.confirmName !== undefined && options.confirmName !== row.name) {
      throw new AppError("invalid", "Type the database's name to confirm.", {
        details: [{ path: "confirmName", message: "does not match the database's name" }],
      });
    }
    const existing = await tx.operation.findFirst({
      where: { teamId: ctx.teamId, kind: "database.delete", targetId: id, status: { in: ["queued", "running"] } },
    });
    if (row.status === "deleting" && existing) return { database: databaseView(row), operation: existing };
    const updated = await tx.tenantDatabase.update({ where: { id }, data: { status: "deleting", error: null } });
    const operation = await createOperation(tx, {
      kind: "database.delete",
      teamId: ctx.teamId,
      target: { type: TARGET, id },
      requestId: ctx.meta.requestId,
    });
    await enqueue(tx, "tenant_db__deprovision", { databaseId: id, operationId: operation.id });
    await recordAudit(tx, ctx, {
      action: "database.deletion_requested",
      target: { type: TARGET, id },
      metadata: { name: row.name, appId: row.appId },
    });
    // Its variables are gone from now on (resolveServiceEnvForApp skips deleting rows).
    if (CREDENTIAL_STATUSES.some((status) => status === row.status)) {
      await restartAppsForServiceChange(tx, ctx, [row.appId]);
    }
    return { database: databaseView(updated), operation };
  });
}

/**
 * The connection details with the password: admins (and write tokens) only, audited. The answer goes to the caller
 * and nowhere else: not into the audit row, not into a log.
 */
export async function revealDatabaseCredentials(db: Db, ctx: Ctx, id: string): Promise<TenantConnectionInfo> {
  authorize(ctx, "databases:manage");
  checkId(id);
  const config = requireConfig();
  const row = await db.tenantDatabase.findFirst({ where: { id, teamId: ctx.teamId } });
  if (!row) throw serviceNotFound("database");
  if (!row.passwordEncrypted || !CREDENTIAL_STATUSES.some((status) => status === row.status)) {
    throw busyConflict("database", row.status);
  }
  const info = tenantConnectionInfo({
    host: config.publicHost,
    port: config.publicPort,
    resourceId: row.id,
    password: decryptSecret(row.passwordEncrypted),
  });
  await recordAudit(db, ctx, { action: "database.credentials_revealed", target: { type: TARGET, id } });
  return info;
}
