// Backups of tenant databases and Redis exports (#16): take, list, show, delete, restore; Redis export and import.
import { z } from "zod";
import { defineEndpoint } from "@/lib/api/endpoint";
import { idParams, iso, isoDate, pageOf } from "@/lib/api/endpoints/common";
import { EXAMPLE_IDS, EXAMPLE_LATER, EXAMPLE_TIME, exampleOperationOf } from "@/lib/api/endpoints/examples";
import { operationSchema } from "@/lib/api/endpoints/identity";
import { pageQuery } from "@/lib/api/query";
import type { BackupView } from "@/lib/domain/backup-rules";

const verificationSchema = z
  .union([
    z.object({ ok: z.literal(true), tables: z.number().int(), rows: z.number().int() }),
    z.object({ ok: z.literal(false), reason: z.string() }),
  ])
  .nullable()
  .describe("The scratch restore's result: tables and rows matched, or why not; null until verified");

export const backupSchema = z.object({
  id: z.uuid(),
  kind: z.enum(["postgres", "redis"]),
  databaseId: z.uuid().nullable().describe("The database it was taken of; null once that database is deleted"),
  redisId: z.uuid().nullable(),
  sourceName: z.string().describe("The source's name when the backup was taken"),
  status: z
    .enum(["running", "verifying", "verified", "succeeded", "failed"])
    .describe("postgres: running → verifying → verified | failed; redis exports: running → succeeded | failed"),
  trigger: z.enum(["manual", "scheduled", "safety"]),
  sizeBytes: z.number().int().nullable().describe("The dump's size in bytes (before encryption)"),
  verification: verificationSchema,
  error: z.string().nullable().describe("Why it failed, readable by people"),
  startedAt: isoDate,
  finishedAt: isoDate.nullable(),
});

export function backupJson(view: BackupView): z.input<typeof backupSchema> {
  return { ...view, startedAt: iso(view.startedAt), finishedAt: iso(view.finishedAt) };
}

const BACKUP_ID = "17a0a7c9-d8eb-4acd-9e2f-7ab5cbd7e8f9";
const exampleBackup: z.output<typeof backupSchema> = {
  id: BACKUP_ID,
  kind: "postgres",
  databaseId: EXAMPLE_IDS.database,
  redisId: null,
  sourceName: "orders",
  status: "verified",
  trigger: "manual",
  sizeBytes: 482_113,
  verification: { ok: true, tables: 4, rows: 10_233 },
  error: null,
  startedAt: EXAMPLE_TIME,
  finishedAt: EXAMPLE_LATER,
};

const accepted = (what: string) => ({
  description: `Accepted; poll the operation (${what})`,
  schema: z.object({ backup: backupSchema, operation: operationSchema }),
});

export const createBackupEndpoint = defineEndpoint({
  id: "createBackup",
  method: "POST",
  path: "/api/v1/databases/{id}/backups",
  summary: "Back up a database now",
  description:
    "Starts a backup (operation `backup.run`): the worker dumps the database, stores the dump encrypted, restores it into a scratch database and compares every table's row count with the dump's snapshot. Only then is it `verified`; otherwise `failed` with the reason. `409` when a backup of the database is running, the database is not ready, or the team's backup quota is reached.",
  examples: {
    responses: {
      202: {
        backup: { ...exampleBackup, status: "running", sizeBytes: null, verification: null, finishedAt: null },
        operation: exampleOperationOf("backup.run", BACKUP_ID),
      },
    },
  },
  tags: ["backups"],
  auth: { scope: "write", permission: "backups:create" },
  errors: ["conflict", "quota_exceeded"],
  idempotent: true,
  params: idParams,
  responses: { 202: accepted("backup.run") },
});

export const listBackupsEndpoint = defineEndpoint({
  id: "listBackups",
  method: "GET",
  path: "/api/v1/databases/{id}/backups",
  summary: "The database's backups, newest first",
  description: "Manual, scheduled and safety backups of the database, newest first.",
  examples: { responses: { 200: { items: [exampleBackup], nextCursor: null } } },
  tags: ["backups"],
  auth: { scope: "read", permission: "databases:read" },
  errors: [],
  params: idParams,
  query: pageQuery,
  responses: { 200: { description: "A page of backups", schema: pageOf(backupSchema) } },
});

export const getBackupEndpoint = defineEndpoint({
  id: "getBackup",
  method: "GET",
  path: "/api/v1/backups/{id}",
  summary: "One backup",
  description: "One backup or Redis export: status, size, verification and the error.",
  examples: { responses: { 200: { backup: exampleBackup } } },
  tags: ["backups"],
  auth: { scope: "read", permission: "databases:read" },
  errors: [],
  params: idParams,
  responses: { 200: { description: "The backup", schema: z.object({ backup: backupSchema }) } },
});

export const deleteBackupEndpoint = defineEndpoint({
  id: "deleteBackup",
  method: "DELETE",
  path: "/api/v1/backups/{id}",
  summary: "Delete a backup (its stored file, then the record)",
  description: "Deletes the stored file, then the record (operation `backup.delete`). `409` while it is running.",
  examples: { responses: { 202: { operation: exampleOperationOf("backup.delete", BACKUP_ID) } } },
  tags: ["backups"],
  auth: { scope: "write", permission: "databases:manage" },
  errors: ["conflict"],
  params: idParams,
  responses: { 202: { description: "Accepted; poll the operation", schema: z.object({ operation: operationSchema }) } },
});

export const downloadBackupEndpoint = defineEndpoint({
  id: "downloadBackup",
  method: "GET",
  path: "/api/v1/backups/{id}/download",
  summary: "Download a backup's file",
  description:
    "Streams the backup decrypted: a `pg_dump` custom-format archive (`pg_restore --no-owner --no-acl -d <url> " +
    "<file>` restores it), or a Redis export. The file name (`Content-Disposition`) is `<source name>-<UTC time>." +
    "dump`. Audited as `backup.downloaded`. Every chunk is authenticated before it is sent: a damaged or modified " +
    "stored file aborts the transfer (the connection is cut, never ended cleanly), so an incomplete download " +
    "cannot pass for a whole one. `409` for a backup that is not finished and successful.",
  examples: { responses: {} },
  tags: ["backups"],
  auth: { scope: "read", permission: "databases:manage" },
  errors: ["conflict", "unavailable"],
  params: idParams,
  responses: { 200: { description: "The backup's file", binary: { contentType: "application/octet-stream" } } },
});

export const restoreBackupBody = z.discriminatedUnion("target", [
  z.strictObject({
    target: z.literal("new").describe("Into a new database of the team (then attachable)"),
    name: z.string().optional().describe("The new database's name; default `<source>-restored`"),
  }),
  z.strictObject({
    target: z.literal("same").describe("Over the original, after a safety backup; its connections are closed"),
  }),
]);

export const restoreBackupEndpoint = defineEndpoint({
  id: "restoreBackup",
  method: "POST",
  path: "/api/v1/backups/{id}/restore",
  summary: "Restore a verified backup into a new database or over its own",
  description:
    "`new`: creates a database of the team (quota-checked; operation `database.provision`) and restores into it. `same`: takes a safety backup of the database first (trigger `safety`; a failed one stops the restore), then replaces its contents with the app's connections closed and new ones refused meanwhile. Both are operation `backup.restore`. `409` when the backup is not verified, its database is gone (`same`), or a backup or restore of the database is in progress.",
  examples: {
    request: { target: "new", name: "orders-copy" },
    responses: {
      202: {
        operation: exampleOperationOf("backup.restore", EXAMPLE_IDS.database),
        databaseId: EXAMPLE_IDS.database,
        safetyBackupId: null,
      },
    },
  },
  tags: ["backups"],
  auth: { scope: "write", permission: "databases:manage" },
  errors: ["conflict", "quota_exceeded"],
  idempotent: true,
  params: idParams,
  body: restoreBackupBody,
  responses: {
    202: {
      description: "Accepted; poll the operation",
      schema: z.object({
        operation: operationSchema,
        databaseId: z.uuid().describe("The database restored into"),
        safetyBackupId: z.uuid().nullable().describe("`same`: the backup taken just before"),
      }),
    },
  },
});

export const createRedisExportEndpoint = defineEndpoint({
  id: "createRedisExport",
  method: "POST",
  path: "/api/v1/redis/{id}/exports",
  summary: "Export a Redis instance's keys (for moving data; not a verified backup)",
  description:
    "Copies every key of the instance with its TTL into the backup store (operation `redis.export`; status `running` → `succeeded` | `failed`). Counts against the backup quota.",
  examples: {
    responses: {
      202: {
        backup: {
          ...exampleBackup,
          kind: "redis",
          databaseId: null,
          redisId: EXAMPLE_IDS.redis,
          status: "running",
          sizeBytes: null,
          verification: null,
          finishedAt: null,
        },
        operation: exampleOperationOf("redis.export", BACKUP_ID),
      },
    },
  },
  tags: ["backups"],
  auth: { scope: "write", permission: "backups:create" },
  errors: ["conflict", "quota_exceeded"],
  idempotent: true,
  params: idParams,
  responses: { 202: accepted("redis.export") },
});

export const importRedisBody = z.strictObject({
  exportId: z.uuid().describe("A succeeded export of this team"),
  mode: z.enum(["merge", "replace"]).describe("replace empties the instance's keys first; merge keeps the others"),
});

export const importRedisEndpoint = defineEndpoint({
  id: "importRedis",
  method: "POST",
  path: "/api/v1/redis/{id}/imports",
  summary: "Import an export into a Redis instance",
  description: "Writes the export's keys (with their TTLs) into the instance (operation `redis.import`).",
  examples: {
    request: { exportId: BACKUP_ID, mode: "merge" },
    responses: { 202: { operation: exampleOperationOf("redis.import", EXAMPLE_IDS.redis) } },
  },
  tags: ["backups"],
  auth: { scope: "write", permission: "databases:manage" },
  errors: ["conflict"],
  idempotent: true,
  params: idParams,
  body: importRedisBody,
  responses: { 202: { description: "Accepted; poll the operation", schema: z.object({ operation: operationSchema }) } },
});

export const backupEndpoints = [
  createBackupEndpoint,
  listBackupsEndpoint,
  getBackupEndpoint,
  deleteBackupEndpoint,
  downloadBackupEndpoint,
  restoreBackupEndpoint,
  createRedisExportEndpoint,
  importRedisEndpoint,
];
