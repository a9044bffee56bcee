// Tenant data services: PostgreSQL databases and Redis instances, created asynchronously (202 and an operation),
// attached to an app with PATCH {"appId"}, credentials behind the write scope and audited.
import { z } from "zod";
import { defineEndpoint } from "@/lib/api/endpoint";
import { backupSettingsChange, backupSettingsJson, backupSettingsSchema } from "@/lib/api/endpoints/backup-settings";
import { idParams, iso, isoDate, pageOf } from "@/lib/api/endpoints/common";
import {
  EXAMPLE_IDS,
  EXAMPLE_TIME,
  exampleDatabase,
  exampleOperationOf,
  examplePage,
  exampleRedis,
} from "@/lib/api/endpoints/examples";
import { operationSchema } from "@/lib/api/endpoints/identity";
import { pageQuery } from "@/lib/api/query";
import type { DatabaseView } from "@/lib/domain/databases";
import type { RedisView } from "@/lib/domain/redis";
import { databaseLimits, databaseLimitsChange, serviceName } from "@/lib/domain/tenant-service-rules";

const status = z
  .enum(["provisioning", "ready", "failed", "deleting"])
  .describe("provisioning → ready | failed; deleting until the server side is gone");

export const databaseSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  status,
  appId: z.uuid().nullable().describe("The app it is attached to: it gets DATABASE_URL and PG* variables"),
  limits: z.object({
    connectionLimit: z.number().int(),
    statementTimeoutMs: z.number().int(),
    idleInTransactionMs: z.number().int(),
  }),
  error: z.string().nullable().describe("Why the last provisioning, rotation or deletion failed"),
  backups: backupSettingsSchema.describe("Backup schedule and retention (docs/backups.md)"),
  createdAt: isoDate,
  updatedAt: isoDate,
});

export function databaseJson(database: DatabaseView): z.input<typeof databaseSchema> {
  return {
    ...database,
    backups: backupSettingsJson(database.backups),
    createdAt: iso(database.createdAt),
    updatedAt: iso(database.updatedAt),
  };
}

export const redisSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  status,
  appId: z.uuid().nullable().describe("The app it is attached to: it gets REDIS_URL and REDIS_* variables"),
  error: z.string().nullable().describe("Why the last provisioning, rotation or deletion failed"),
  createdAt: isoDate,
  updatedAt: isoDate,
});

export function redisJson(redis: RedisView): z.input<typeof redisSchema> {
  return { ...redis, createdAt: iso(redis.createdAt), updatedAt: iso(redis.updatedAt) };
}

// Asynchronous answers: the resource as it is now, and the operation to poll (also in the Location header).
const databaseAccepted = {
  description: "Accepted; poll the operation",
  schema: z.object({ database: databaseSchema, operation: operationSchema }),
};
const redisAccepted = {
  description: "Accepted; poll the operation",
  schema: z.object({ redis: redisSchema, operation: operationSchema }),
};

const attachBody = z.strictObject({
  appId: z.uuid().nullable().describe("An app of the team to attach to, or null to detach"),
});

// Databases

export const listDatabasesEndpoint = defineEndpoint({
  id: "listDatabases",
  method: "GET",
  path: "/api/v1/databases",
  summary: "The team's PostgreSQL databases, newest first",
  description: "The team's PostgreSQL databases, newest first, with status, attached app and limits.",
  examples: { responses: { 200: examplePage(exampleDatabase) } },
  tags: ["databases"],
  auth: { scope: "read", permission: "databases:read" },
  errors: [],
  query: pageQuery,
  responses: { 200: { description: "A page of databases", schema: pageOf(databaseSchema) } },
});

export const createDatabaseBody = z.strictObject({
  name: serviceName,
  appId: z.uuid().nullable().optional().describe("Attach it to this app of the team right away"),
  limits: databaseLimits.partial().optional(),
});

export const createDatabaseEndpoint = defineEndpoint({
  id: "createDatabase",
  method: "POST",
  path: "/api/v1/databases",
  summary: "Create a PostgreSQL database (its own role and database on the tenant server)",
  description:
    "Creates a PostgreSQL database with its own role on the tenant server (operation `database.provision`; poll it until `ready`). With `appId` it is attached at once: the app gets `DATABASE_URL` and `PG*` at its next restart. `409` when the name is taken, the app already has a database or a quota is reached; `404` for an app of another team; `503` when this installation has no tenant PostgreSQL.",
  examples: {
    request: { name: "orders", appId: EXAMPLE_IDS.app, limits: { connectionLimit: 20 } },
    responses: {
      202: {
        database: { ...exampleDatabase, status: "provisioning", updatedAt: EXAMPLE_TIME },
        operation: exampleOperationOf("database.provision", EXAMPLE_IDS.database),
      },
    },
  },
  tags: ["databases"],
  auth: { scope: "write", permission: "databases:manage" },
  errors: ["conflict", "quota_exceeded", "not_found"],
  idempotent: true,
  body: createDatabaseBody,
  responses: {
    202: databaseAccepted,
    409: { description: "The name is taken, the app already has a database, or the team's limit is reached" },
    503: { description: "PostgreSQL databases are not available on this installation" },
  },
});

export const getDatabaseEndpoint = defineEndpoint({
  id: "getDatabase",
  method: "GET",
  path: "/api/v1/databases/{id}",
  summary: "One database",
  description: "One database: status, attached app, limits and the last error.",
  examples: { responses: { 200: { database: exampleDatabase } } },
  tags: ["databases"],
  auth: { scope: "read", permission: "databases:read" },
  errors: [],
  params: idParams,
  responses: { 200: { description: "The database", schema: z.object({ database: databaseSchema }) } },
});

export const updateDatabaseBody = z
  .strictObject({
    appId: z.uuid().nullable().optional().describe("An app of the team to attach to, or null to detach"),
    limits: databaseLimitsChange
      .optional()
      .describe("New limits; the ones left out stay. They apply to sessions opened after the change"),
    backups: backupSettingsChange.optional(),
  })
  .refine(
    (body) => body.appId !== undefined || body.limits !== undefined || body.backups !== undefined,
    "Give appId, limits, backups, or several.",
  )
  // The refinement, as JSON Schema says it: the object has only these fields, so one of them must be there.
  .meta({ minProperties: 1 });

export const updateDatabaseEndpoint = defineEndpoint({
  id: "updateDatabase",
  method: "PATCH",
  path: "/api/v1/databases/{id}",
  summary:
    "Attach the database to an app or detach it (takes effect when the app restarts), and/or change its limits " +
    "(asynchronous: 202 with an operation)",
  description:
    "Attaches the database to an app or detaches it (`200`; a running app restarts to get or lose the variables), and/or changes its limits (`202` with operation `database.limits`; sessions opened afterwards get them). Both in one body apply both or neither. `409` when the app already has a database, or the database is provisioning, deleting or failed.",
  examples: {
    request: { limits: { statementTimeoutMs: 15000 } },
    responses: {
      200: { database: exampleDatabase },
      202: {
        database: { ...exampleDatabase, limits: { ...exampleDatabase.limits, statementTimeoutMs: 15000 } },
        operation: exampleOperationOf("database.limits", EXAMPLE_IDS.database),
      },
    },
  },
  tags: ["databases"],
  auth: { scope: "write", permission: "databases:manage" },
  errors: ["conflict", "quota_exceeded"],
  params: idParams,
  body: updateDatabaseBody,
  responses: {
    200: {
      description: "The database (nothing asynchronous to wait for)",
      schema: z.object({ database: databaseSchema }),
    },
    202: { description: "The limits are being applied; poll the operation", schema: databaseAccepted.schema },
    409: {
      description: "The app already has a database, or the database is being created, deleted, or in a failed state",
    },
  },
});

export const deleteDatabaseEndpoint = defineEndpoint({
  id: "deleteDatabase",
  method: "DELETE",
  path: "/api/v1/databases/{id}",
  summary: "Delete a database and all its data",
  description:
    "Deletes the database and all its data (operation `database.delete`); an attached app restarts without it.",
  examples: {
    responses: {
      202: {
        database: { ...exampleDatabase, status: "deleting" },
        operation: exampleOperationOf("database.delete", EXAMPLE_IDS.database),
      },
    },
  },
  tags: ["databases"],
  auth: { scope: "write", permission: "databases:manage" },
  errors: [],
  params: idParams,
  responses: { 202: databaseAccepted },
});

export const rotateDatabaseEndpoint = defineEndpoint({
  id: "rotateDatabasePassword",
  method: "POST",
  path: "/api/v1/databases/{id}/rotate",
  summary: "Replace the password; sessions using the old one end and attached apps restart",
  description:
    "Replaces the database's password (operation `database.rotate`): sessions using the old one end, and the attached app restarts with the new one. `409` while it is provisioning or being deleted.",
  examples: {
    responses: {
      202: { database: exampleDatabase, operation: exampleOperationOf("database.rotate", EXAMPLE_IDS.database) },
    },
  },
  tags: ["databases"],
  auth: { scope: "write", permission: "databases:manage" },
  errors: ["conflict"],
  idempotent: true,
  params: idParams,
  responses: {
    202: databaseAccepted,
    409: { description: "The database is still being created, or is being deleted" },
  },
});

export const databaseCredentialsSchema = z.object({
  url: z.string(),
  host: z.string(),
  port: z.number().int(),
  database: z.string(),
  user: z.string(),
  password: z.string(),
});

export const databaseCredentialsEndpoint = defineEndpoint({
  id: "getDatabaseCredentials",
  method: "GET",
  path: "/api/v1/databases/{id}/credentials",
  summary: "The connection details with the password (write scope; every call is audited)",
  description:
    "The connection details, password included. Needs the write scope and an admin role, and every call is audited (`database.credentials_revealed`). `409` while the database is provisioning or being deleted.",
  examples: {
    responses: {
      200: {
        url: "postgresql://t_acme_orders:s3cr3t-Pa55@db.example.org:5432/t_acme_orders",
        host: "db.example.org",
        port: 5432,
        database: "t_acme_orders",
        user: "t_acme_orders",
        password: "s3cr3t-Pa55",
      },
    },
  },
  tags: ["databases"],
  auth: { scope: "write", permission: "databases:manage" },
  errors: ["conflict"],
  params: idParams,
  responses: {
    200: { description: "The credentials", schema: databaseCredentialsSchema },
    409: { description: "The database is still being created, or is being deleted" },
  },
});

// Redis

export const listRedisEndpoint = defineEndpoint({
  id: "listRedis",
  method: "GET",
  path: "/api/v1/redis",
  summary: "The team's Redis instances, newest first",
  description: "The team's Redis instances, newest first, with status and attached app.",
  examples: { responses: { 200: examplePage(exampleRedis) } },
  tags: ["redis"],
  auth: { scope: "read", permission: "databases:read" },
  errors: [],
  query: pageQuery,
  responses: { 200: { description: "A page of Redis instances", schema: pageOf(redisSchema) } },
});

export const createRedisBody = z.strictObject({
  name: serviceName,
  appId: z.uuid().nullable().optional().describe("Attach it to this app of the team right away"),
});

export const createRedisEndpoint = defineEndpoint({
  id: "createRedis",
  method: "POST",
  path: "/api/v1/redis",
  summary: "Create a Redis instance (an ACL user confined to its own key prefix on the tenant server)",
  description:
    "Creates a Redis instance: an ACL user confined to its own key prefix on the tenant server (operation `redis.provision`; poll it until `ready`). With `appId` it is attached at once: the app gets `REDIS_URL` and `REDIS_*` at its next restart. `409` when the name is taken, the app already has one or a quota is reached; `404` for an app of another team; `503` when this installation has no tenant Redis.",
  examples: {
    request: { name: "cache", appId: EXAMPLE_IDS.app },
    responses: {
      202: {
        redis: { ...exampleRedis, status: "provisioning", updatedAt: EXAMPLE_TIME },
        operation: exampleOperationOf("redis.provision", EXAMPLE_IDS.redis),
      },
    },
  },
  tags: ["redis"],
  auth: { scope: "write", permission: "databases:manage" },
  errors: ["conflict", "quota_exceeded", "not_found"],
  idempotent: true,
  body: createRedisBody,
  responses: {
    202: redisAccepted,
    409: { description: "The name is taken, the app already has a Redis instance, or the team's limit is reached" },
    503: { description: "Redis is not available on this installation" },
  },
});

export const getRedisEndpoint = defineEndpoint({
  id: "getRedis",
  method: "GET",
  path: "/api/v1/redis/{id}",
  summary: "One Redis instance",
  description: "One Redis instance: status, attached app and the last error.",
  examples: { responses: { 200: { redis: exampleRedis } } },
  tags: ["redis"],
  auth: { scope: "read", permission: "databases:read" },
  errors: [],
  params: idParams,
  responses: { 200: { description: "The Redis instance", schema: z.object({ redis: redisSchema }) } },
});

export const updateRedisEndpoint = defineEndpoint({
  id: "updateRedis",
  method: "PATCH",
  path: "/api/v1/redis/{id}",
  summary: "Attach the Redis instance to an app, or detach it (takes effect when the app restarts)",
  description:
    "Attaches the Redis instance to an app (`appId`) or detaches it (`null`); a running app restarts to get or lose the variables. `409` when the app already has one or this one is being deleted.",
  examples: { request: { appId: null }, responses: { 200: { redis: { ...exampleRedis, appId: null } } } },
  tags: ["redis"],
  auth: { scope: "write", permission: "databases:manage" },
  errors: ["conflict"],
  params: idParams,
  body: attachBody,
  responses: {
    200: { description: "The Redis instance", schema: z.object({ redis: redisSchema }) },
    409: { description: "The app already has a Redis instance, or this one is being deleted" },
  },
});

export const deleteRedisEndpoint = defineEndpoint({
  id: "deleteRedis",
  method: "DELETE",
  path: "/api/v1/redis/{id}",
  summary: "Delete a Redis instance and all its keys",
  description:
    "Deletes the Redis user and all its keys (operation `redis.delete`); an attached app restarts without it.",
  examples: {
    responses: {
      202: {
        redis: { ...exampleRedis, status: "deleting" },
        operation: exampleOperationOf("redis.delete", EXAMPLE_IDS.redis),
      },
    },
  },
  tags: ["redis"],
  auth: { scope: "write", permission: "databases:manage" },
  errors: [],
  params: idParams,
  responses: { 202: redisAccepted },
});

export const rotateRedisEndpoint = defineEndpoint({
  id: "rotateRedisPassword",
  method: "POST",
  path: "/api/v1/redis/{id}/rotate",
  summary: "Replace the password; clients using the old one are disconnected and attached apps restart",
  description:
    "Replaces the password (operation `redis.rotate`): clients using the old one are disconnected and the attached app restarts with the new one. `409` while it is provisioning or being deleted.",
  examples: {
    responses: {
      202: { redis: exampleRedis, operation: exampleOperationOf("redis.rotate", EXAMPLE_IDS.redis) },
    },
  },
  tags: ["redis"],
  auth: { scope: "write", permission: "databases:manage" },
  errors: ["conflict"],
  idempotent: true,
  params: idParams,
  responses: {
    202: redisAccepted,
    409: { description: "The instance is still being created, or is being deleted" },
  },
});

export const redisCredentialsSchema = z.object({
  url: z.string(),
  host: z.string(),
  port: z.number().int(),
  user: z.string(),
  password: z.string(),
  keyPrefix: z.string().describe("Every key and channel must start with `<keyPrefix>:`"),
});

export const redisCredentialsEndpoint = defineEndpoint({
  id: "getRedisCredentials",
  method: "GET",
  path: "/api/v1/redis/{id}/credentials",
  summary: "The connection details with the password (write scope; every call is audited)",
  description:
    "The connection details, password included; every key and channel must start with `keyPrefix:`. Needs the write scope and an admin role, and every call is audited (`redis.credentials_revealed`). `409` while it is provisioning or being deleted.",
  examples: {
    responses: {
      200: {
        url: "redis://t_acme_cache:s3cr3t-Pa55@redis.example.org:6379",
        host: "redis.example.org",
        port: 6379,
        user: "t_acme_cache",
        password: "s3cr3t-Pa55",
        keyPrefix: "t_acme_cache",
      },
    },
  },
  tags: ["redis"],
  auth: { scope: "write", permission: "databases:manage" },
  errors: ["conflict"],
  params: idParams,
  responses: {
    200: { description: "The credentials", schema: redisCredentialsSchema },
    409: { description: "The instance is still being created, or is being deleted" },
  },
});
