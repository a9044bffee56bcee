// Apps, env vars, uploads and deployments.
import { z } from "zod";
import { defineEndpoint } from "@/lib/api/endpoint";
import { iso, isoDate, pageOf } from "@/lib/api/endpoints/common";
import { operationSchema } from "@/lib/api/endpoints/identity";
import { pageQuery, queryDateTime, queryInt } from "@/lib/api/query";
import { appName, appSettings, envKey } from "@/lib/domain/app-rules";
import type { AppView } from "@/lib/domain/apps";
import { type EnvVarView, envChanges } from "@/lib/domain/env-vars";
import { MAX_REPLICAS } from "@/lib/domain/lifecycle";
import { lineText } from "@/lib/domain/text";
import type { UploadView } from "@/lib/domain/uploads";

const appParams = z.strictObject({ appId: z.uuid() });

const gitSource = z.strictObject({
  type: z.literal("git"),
  url: lineText().max(2048),
  ref: lineText().max(255).optional(),
  autoDeploy: z
    .boolean()
    .optional()
    .describe("Deploy each push to ref that the app's webhook receives (unchanged when omitted; default false)"),
});

const processSchema = z.object({
  desired: z.number().int(),
  running: z.number().int(),
  crashed: z.number().int().describe("Containers that kept exiting and are no longer restarted"),
  lastCrash: z
    .object({
      exitCode: z.number().int().nullable(),
      at: isoDate,
      logTail: z.string().describe("The last lines the container printed"),
    })
    .nullable(),
});

export const appSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  status: z.enum(["created", "deploying", "running", "stopped", "failed", "deleting"]),
  url: z.string().nullable().describe("Where the app is served; null when its release has no web process"),
  replicas: z.number().int().describe("Containers of the web process (the same as processes.web.desired)"),
  processes: z
    .record(z.string(), processSchema)
    .optional()
    .describe("Per process type of the current release (web before the first release); in GET answers only"),
  currentDeploymentId: z.uuid().nullable(),
  source: z
    .union([
      z.object({ type: z.literal("git"), url: z.string(), ref: z.string(), autoDeploy: z.boolean() }),
      z.object({ type: z.literal("upload") }),
    ])
    .nullable(),
  settings: z.object({
    subdirectory: z.string().nullable(),
    pythonVersion: z.string().nullable(),
    installCommand: z.string().nullable(),
    webCommand: z.string().nullable(),
    releaseCommand: z.string().nullable(),
    memoryMb: z.number().int(),
    cpuMillis: z.number().int(),
    healthCheckPath: z.string(),
    processes: z
      .record(z.string(), z.string())
      .nullable()
      .describe("Process types added or overridden on top of the Procfile ({name: command})"),
  }),
  createdAt: isoDate,
  updatedAt: isoDate,
});

export function appJson(app: AppView): z.input<typeof appSchema> {
  const { processes, ...rest } = app;
  return {
    ...rest,
    ...(processes
      ? {
          processes: Object.fromEntries(
            Object.entries(processes).map(([type, view]) => [
              type,
              { ...view, lastCrash: view.lastCrash && { ...view.lastCrash, at: iso(view.lastCrash.at) } },
            ]),
          ),
        }
      : {}),
    createdAt: iso(app.createdAt),
    updatedAt: iso(app.updatedAt),
  };
}

export const listAppsEndpoint = defineEndpoint({
  id: "listApps",
  method: "GET",
  path: "/api/v1/apps",
  summary: "The team's apps, newest first",
  tags: ["apps"],
  auth: { scope: "read", permission: "apps:read" },
  errors: [],
  query: pageQuery,
  responses: { 200: { description: "A page of apps", schema: pageOf(appSchema) } },
});

export const createAppBody = z.strictObject({
  name: appName,
  source: gitSource.nullable().optional(),
  settings: appSettings.optional(),
});

export const createAppEndpoint = defineEndpoint({
  id: "createApp",
  method: "POST",
  path: "/api/v1/apps",
  summary: "Create an app (a git source is optional: tarballs can be uploaded per deployment)",
  tags: ["apps"],
  auth: { scope: "write", permission: "apps:write" },
  errors: ["conflict", "quota_exceeded"],
  idempotent: true,
  body: createAppBody,
  responses: {
    201: { description: "The app", schema: z.object({ app: appSchema }) },
    409: { description: "The name is taken in this team" },
  },
});

export const getAppEndpoint = defineEndpoint({
  id: "getApp",
  method: "GET",
  path: "/api/v1/apps/{appId}",
  summary: "One app",
  tags: ["apps"],
  auth: { scope: "read", permission: "apps:read" },
  errors: [],
  params: appParams,
  responses: { 200: { description: "The app", schema: z.object({ app: appSchema }) } },
});

export const updateAppBody = z.strictObject({
  name: appName.optional(),
  source: gitSource.nullable().optional(),
  settings: appSettings.optional(),
});

export const updateAppEndpoint = defineEndpoint({
  id: "updateApp",
  method: "PATCH",
  path: "/api/v1/apps/{appId}",
  summary: "Rename an app or change its source and settings (takes effect at the next deployment)",
  tags: ["apps"],
  auth: { scope: "write", permission: "apps:write" },
  errors: ["conflict"],
  params: appParams,
  body: updateAppBody,
  responses: { 200: { description: "The app", schema: z.object({ app: appSchema }) } },
});

export const deleteAppEndpoint = defineEndpoint({
  id: "deleteApp",
  method: "DELETE",
  path: "/api/v1/apps/{appId}",
  summary: "Delete an app: its containers, route, images and data go asynchronously",
  tags: ["apps"],
  auth: { scope: "write", permission: "apps:write" },
  errors: [],
  params: appParams,
  responses: {
    202: {
      description: "Deletion started; poll the operation",
      schema: z.object({ app: appSchema, operation: operationSchema }),
    },
  },
});

// Env vars

const maskedEnv = z.object({
  env: z.record(z.string(), z.string()).describe("Every value is masked"),
  variables: z.array(z.object({ key: z.string(), updatedAt: isoDate })),
});

export function envJson(variables: EnvVarView[]): z.input<typeof maskedEnv> {
  return {
    env: Object.fromEntries(variables.map((variable) => [variable.key, variable.value])),
    variables: variables.map((variable) => ({ key: variable.key, updatedAt: iso(variable.updatedAt) })),
  };
}

export const getEnvEndpoint = defineEndpoint({
  id: "getAppEnv",
  method: "GET",
  path: "/api/v1/apps/{appId}/env",
  summary: "The app's environment variables, values masked",
  tags: ["apps"],
  auth: { scope: "read", permission: "env:read" },
  errors: [],
  params: appParams,
  responses: { 200: { description: "The variables", schema: maskedEnv } },
});

// The keys are checked one by one in envChanges (each with its own message); the document says the same rule as
// propertyNames, generated from the same schema.
const { $schema: _schema, ...envKeyJsonSchema } = z.toJSONSchema(envKey, { target: "draft-2020-12" });

export const putEnvEndpoint = defineEndpoint({
  id: "putAppEnv",
  method: "PUT",
  path: "/api/v1/apps/{appId}/env",
  summary: 'Set and unset variables: {"env": {"KEY": "value", "OLD_KEY": null}}; null unsets',
  tags: ["apps"],
  auth: { scope: "write", permission: "env:write" },
  errors: ["conflict"],
  params: appParams,
  body: z.strictObject({ env: envChanges.meta({ propertyNames: envKeyJsonSchema }) }),
  responses: { 200: { description: "The variables after the change, values masked", schema: maskedEnv } },
});

// Uploads

export const uploadSchema = z.object({
  id: z.uuid(),
  sizeBytes: z.number().int(),
  sha256: z.string(),
  expiresAt: isoDate,
});

export function uploadJson(upload: UploadView): z.input<typeof uploadSchema> {
  return { id: upload.id, sizeBytes: upload.sizeBytes, sha256: upload.sha256, expiresAt: iso(upload.expiresAt) };
}

export const createUploadEndpoint = defineEndpoint({
  id: "createUpload",
  method: "POST",
  path: "/api/v1/uploads",
  summary: "Upload a source tarball (Content-Type: application/gzip); deploy it within 24 hours",
  tags: ["deployments"],
  auth: { scope: "write", permission: "deployments:create" },
  rawBody: {
    contentTypes: ["application/gzip", "application/x-gzip", "application/x-tar+gzip", "application/octet-stream"],
    description: "The source as a gzip-compressed tarball (.tar.gz), streamed",
  },
  errors: ["quota_exceeded"],
  responses: {
    201: { description: "The upload", schema: z.object({ upload: uploadSchema }) },
    413: { description: "Larger than the upload limit" },
  },
});

// Lifecycle

const lifecycleAnswer = {
  202: {
    description: "Queued; poll the operation",
    schema: z.object({ app: appSchema, operation: operationSchema }),
  },
  409: { description: "Not possible in the app's current state (e.g. no release yet, being deleted)" },
} as const;

export const startAppEndpoint = defineEndpoint({
  id: "startApp",
  method: "POST",
  path: "/api/v1/apps/{appId}/actions/start",
  summary: "Start the app's current release again (after a stop)",
  tags: ["apps"],
  auth: { scope: "write", permission: "apps:write" },
  errors: ["conflict"],
  idempotent: true,
  params: appParams,
  responses: lifecycleAnswer,
});

export const stopAppEndpoint = defineEndpoint({
  id: "stopApp",
  method: "POST",
  path: "/api/v1/apps/{appId}/actions/stop",
  summary: "Stop the app: its route answers 503 and its containers are removed",
  tags: ["apps"],
  auth: { scope: "write", permission: "apps:write" },
  errors: ["conflict"],
  idempotent: true,
  params: appParams,
  responses: lifecycleAnswer,
});

export const restartAppEndpoint = defineEndpoint({
  id: "restartApp",
  method: "POST",
  path: "/api/v1/apps/{appId}/actions/restart",
  summary: "Replace the app's containers with fresh ones, without downtime (also done when env vars change)",
  tags: ["apps"],
  auth: { scope: "write", permission: "apps:write" },
  errors: ["conflict"],
  idempotent: true,
  params: appParams,
  responses: lifecycleAnswer,
});

export const rollbackAppEndpoint = defineEndpoint({
  id: "rollbackApp",
  method: "POST",
  path: "/api/v1/apps/{appId}/actions/rollback",
  summary: "Release an earlier successful deployment's image again, without rebuilding",
  tags: ["apps"],
  auth: { scope: "write", permission: "apps:write" },
  errors: ["conflict"],
  idempotent: true,
  params: appParams,
  body: z.strictObject({ deploymentId: z.uuid() }),
  responses: lifecycleAnswer,
});

export const scaleAppEndpoint = defineEndpoint({
  id: "scaleApp",
  method: "POST",
  path: "/api/v1/apps/{appId}/actions/scale",
  summary:
    "Set the number of containers per process type (0 to 20 each): {replicas} for web, or {processes: {web, worker, ...}} " +
    "for types of the current release (another type: 422); a running app converges to it",
  tags: ["apps"],
  auth: { scope: "write", permission: "apps:write" },
  errors: ["conflict"],
  idempotent: true,
  params: appParams,
  body: z.strictObject({
    replicas: z.number().int().min(0).max(MAX_REPLICAS).optional().describe("The web process's count"),
    processes: z
      .record(z.string().max(30), z.number().int().min(0).max(MAX_REPLICAS))
      .optional()
      .describe("Counts per process type of the current release; web here is the same as replicas"),
  }),
  responses: lifecycleAnswer,
});

// Runtime logs

export const appLogsEndpoint = defineEndpoint({
  id: "getAppLogs",
  method: "GET",
  path: "/api/v1/apps/{appId}/logs",
  summary:
    "What the app's containers printed, oldest first, labelled by replica; poll with ?since=<time of the last line>",
  tags: ["apps"],
  auth: { scope: "read", permission: "apps:read" },
  errors: [],
  params: appParams,
  query: z.strictObject({
    tail: queryInt({ min: 1, max: 1000, default: 200, description: "How many of the newest lines" }),
    since: queryDateTime("Only lines at or after this time").optional(),
  }),
  responses: {
    200: {
      description: "The newest lines, collected by the worker a moment ago",
      schema: z.object({
        lines: z.array(
          z.object({
            time: isoDate,
            replica: z.number().int().describe("Which replica of its process type printed it (0, 1, ...)"),
            process: z.string().describe('The process type of that replica ("web", "worker", ...)'),
            stream: z.enum(["stdout", "stderr"]),
            text: z.string(),
          }),
        ),
      }),
    },
  },
});
