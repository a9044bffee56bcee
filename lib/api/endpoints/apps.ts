// Apps, uploads, lifecycle actions and runtime logs (env vars: env.ts; deployments: deployments.ts).
import { z } from "zod";
import { defineEndpoint } from "@/lib/api/endpoint";
import { appLogsQuery } from "@/lib/api/endpoints/app-logs-query";
import { iso, isoDate, pageOf } from "@/lib/api/endpoints/common";
import {
  EXAMPLE_IDS,
  EXAMPLE_LATER,
  EXAMPLE_TIME,
  exampleApp,
  exampleOperationOf,
  examplePage,
  exampleUpload,
} from "@/lib/api/endpoints/examples";
import { operationSchema } from "@/lib/api/endpoints/identity";
import { pageQuery } from "@/lib/api/query";
import { appName, appSettings } from "@/lib/domain/app-rules";
import type { AppView } from "@/lib/domain/apps";
import { MAX_REPLICAS } from "@/lib/domain/lifecycle";
import { lineText } from "@/lib/domain/text";
import type { UploadView } from "@/lib/domain/uploads";

export const appParams = z.strictObject({ appId: z.uuid() });

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
    djangoSetup: z
      .boolean()
      .describe(
        "Django projects: propose manage.py migrate as the release command and run collectstatic at build time",
      ),
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
  description: "The team's apps, newest first, each with its status, address, processes, source and settings.",
  examples: { responses: { 200: examplePage(exampleApp) } },
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
  description:
    "Creates an app: a name unique in the team, an optional git source (`autoDeploy` lets its webhook deploy pushes) and optional settings. Nothing is built yet: deploy it with `POST /api/v1/apps/{appId}/deployments`. `409` when the name is taken in the team or the team's app quota is reached. Audited as `app.created`.",
  examples: {
    request: { name: "shop", source: { type: "git", url: "https://github.com/example/shop.git", ref: "main" } },
    responses: {
      201: {
        app: {
          ...exampleApp,
          status: "created",
          url: null,
          replicas: 1,
          processes: undefined,
          currentDeploymentId: null,
          source: { type: "git", url: "https://github.com/example/shop.git", ref: "main", autoDeploy: false },
          updatedAt: EXAMPLE_TIME,
        },
      },
    },
  },
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
  description:
    "One app: its status, address, per-process-type counts (desired, running, crashed, the last crash), current deployment, source and settings.",
  examples: { responses: { 200: { app: exampleApp } } },
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
  description:
    "Renames an app or changes its source and settings; they take effect at the next deployment. Only fields whose value differs are written. `409` when the new name is taken or the app is being deleted. Audited as `app.updated`.",
  examples: {
    request: { settings: { memoryMb: 1024, releaseCommand: "python manage.py migrate" } },
    responses: { 200: { app: { ...exampleApp, settings: { ...exampleApp.settings, memoryMb: 1024 } } } },
  },
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
  description:
    "Deletes an app: the answer is immediate (`status: deleting`), and the worker then removes its containers, route, images, logs and rows (operation `app.delete`; poll it). Audited as `app.deletion_requested`.",
  examples: {
    responses: {
      202: { app: { ...exampleApp, status: "deleting" }, operation: exampleOperationOf("app.delete", EXAMPLE_IDS.app) },
    },
  },
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
  description:
    'Uploads a source tarball (`.tar.gz`) as the request body, streamed and checked as a readable tarball on arrival. Deploy it within 24 hours with `POST /api/v1/apps/{appId}/deployments` and `{"source": {"type": "upload", "uploadId"}}`. `413` past the upload limit (`TUSSILAGO_UPLOAD_MAX_MB`), `409` when the team\'s upload quota is reached.',
  examples: { responses: { 201: { upload: exampleUpload } } },
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
  description:
    "Starts the app's current release again after a stop (operation `app.start`; poll it). `409` when the app has no release yet or is being deleted.",
  examples: {
    responses: {
      202: { app: { ...exampleApp, status: "deploying" }, operation: exampleOperationOf("app.start", EXAMPLE_IDS.app) },
    },
  },
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
  description:
    "Stops the app: its containers are removed and its address answers `503` until it is started again (operation `app.stop`). `409` when there is nothing to stop or the app is being deleted.",
  examples: {
    responses: {
      202: { app: exampleApp, operation: exampleOperationOf("app.stop", EXAMPLE_IDS.app) },
    },
  },
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
  description:
    "Replaces the app's containers with fresh ones from the same release, one at a time behind the route, so there is no downtime (operation `app.restart`). `409` when the app has no release or is being deleted.",
  examples: {
    responses: {
      202: { app: exampleApp, operation: exampleOperationOf("app.restart", EXAMPLE_IDS.app) },
    },
  },
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
  description:
    "Releases an earlier successful deployment's kept image again, without rebuilding (operation `app.rollback`). `409` when that deployment's image is no longer kept or the app is being deleted; `404` for a deployment of another app.",
  examples: {
    request: { deploymentId: EXAMPLE_IDS.previousDeployment },
    responses: {
      202: { app: exampleApp, operation: exampleOperationOf("app.rollback", EXAMPLE_IDS.app) },
    },
  },
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
  description:
    "Sets the number of containers per process type, 0 to 20 each: `replicas` for web, or `processes` for any type of the current release (another type is refused with `422`). A running app converges to the new counts (operation `app.scale`). `409` when the app has never been released, is being deleted, or the team's process quota would be exceeded.",
  examples: {
    request: { processes: { web: 3, worker: 1 } },
    responses: {
      202: {
        app: { ...exampleApp, replicas: 3 },
        operation: exampleOperationOf("app.scale", EXAMPLE_IDS.app),
      },
    },
  },
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
  description:
    "What the app's containers printed, oldest first, each line labelled with its process type and replica. The worker collects logs when someone polls, so the first answer may be short: poll with `since` set to the `time` of the last line seen.",
  examples: {
    responses: {
      200: {
        lines: [
          {
            time: EXAMPLE_TIME,
            replica: 0,
            process: "web",
            stream: "stdout",
            text: "Listening at: http://0.0.0.0:8080",
          },
          { time: EXAMPLE_LATER, replica: 0, process: "worker", stream: "stderr", text: "Connected to redis" },
        ],
      },
    },
  },
  tags: ["apps"],
  auth: { scope: "read", permission: "apps:read" },
  errors: [],
  params: appParams,
  query: appLogsQuery,
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
