// Tenant data services: PostgreSQL databases and Redis instances, created asynchronously (202 and an operation),
// attached to an app with PATCH {"appId"}, credentials behind the write scope and audited.
import { z } from "zod";
import { defineEndpoint } from "@/lib/api/endpoint";
import { idParams, iso, isoDate, pageOf } from "@/lib/api/endpoints/common";
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
  createdAt: isoDate,
  updatedAt: isoDate,
});

export function databaseJson(database: DatabaseView): z.input<typeof databaseSchema> {
  return { ...database, createdAt: iso(database.createdAt), updatedAt: iso(database.updatedAt) };
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
  })
  .refine((body) => body.appId !== undefined || body.limits !== undefined, "Give appId, limits, or both.")
  // The refinement, as JSON Schema says it: the object has only these two fields, so one of them must be there.
  .meta({ minProperties: 1 });

export const updateDatabaseEndpoint = defineEndpoint({
  id: "updateDatabase",
  method: "PATCH",
  path: "/api/v1/databases/{id}",
  summary:
    "Attach the database to an app or detach it (takes effect when the app restarts), and/or change its limits " +
    "(asynchronous: 202 with an operation)",
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
  tags: ["redis"],
  auth: { scope: "write", permission: "databases:manage" },
  errors: ["conflict"],
  params: idParams,
  responses: {
    200: { description: "The credentials", schema: redisCredentialsSchema },
    409: { description: "The instance is still being created, or is being deleted" },
  },
});
