// The deployment endpoints: list, create, redeploy, get, cancel and the build log (split from apps.ts by concern).
import { z } from "zod";
import { defineEndpoint } from "@/lib/api/endpoint";
import { idParams, iso, isoDate, pageOf } from "@/lib/api/endpoints/common";
import {
  EXAMPLE_IDS,
  exampleDeployment,
  exampleOperation,
  examplePage,
  exampleQueuedDeployment,
} from "@/lib/api/endpoints/examples";
import { operationSchema } from "@/lib/api/endpoints/identity";
import { pageQuery, queryInt } from "@/lib/api/query";
import type { DeploymentView } from "@/lib/domain/deployments";
import { lineText } from "@/lib/domain/text";

const appParams = z.strictObject({ appId: z.uuid() });

const phaseSchema = z.object({
  name: z.string(),
  status: z.enum(["pending", "running", "succeeded", "failed", "cancelled"]),
  startedAt: isoDate.nullable(),
  finishedAt: isoDate.nullable(),
});

export const deploymentSchema = z.object({
  id: z.uuid(),
  appId: z.uuid(),
  number: z.number().int(),
  status: z.enum(["queued", "building", "built", "releasing", "running", "failed", "superseded", "cancelled"]),
  source: z.union([
    z.object({
      type: z.literal("git"),
      url: z.string().nullable(),
      ref: z.string().nullable(),
      commitSha: z.string().nullable(),
      commitMessage: z.string().nullable().describe("The first line of the commit's message"),
      commitAuthor: z.string().nullable().describe("The commit's author name"),
      commitUrl: z.string().nullable().describe("The commit's page on its forge, when known"),
    }),
    z.object({ type: z.literal("upload"), commitSha: z.null() }),
  ]),
  trigger: z
    .enum(["push", "manual", "api", "rollback", "redeploy"])
    .describe("What started it: a webhook push, the portal, the API, a redeploy"),
  redeployOfId: z.uuid().nullable().describe("The deployment this one deploys again"),
  supersededById: z.uuid().nullable().describe("The newer deployment that cancelled this one"),
  plan: z
    .object({
      builder: z.enum(["containerfile", "python"]),
      installer: z.enum(["uv", "poetry", "pipenv", "pdm", "pip", "none"]),
      pythonVersion: z.string(),
      processes: z.record(z.string(), z.string()),
      release: z.string().nullable(),
      reasons: z.array(z.string()),
    })
    .nullable()
    .describe("How the source is built, and which file decided what"),
  imageBuilt: z.boolean(),
  phases: z.array(phaseSchema),
  error: z.string().nullable(),
  failureSide: z
    .enum(["tenant", "operator"])
    .nullable()
    .describe(
      "Whose a failure is to fix: `tenant` (the app's source, its build steps, its start) or `operator` (the host, e.g. a base image the server could not fetch); null unless failed",
    ),
  cancelRequested: z.boolean(),
  createdAt: isoDate,
  finishedAt: isoDate.nullable(),
});

export function deploymentJson(deployment: DeploymentView): z.input<typeof deploymentSchema> {
  return {
    ...deployment,
    plan: deployment.plan as z.input<typeof deploymentSchema>["plan"],
    createdAt: iso(deployment.createdAt),
    finishedAt: iso(deployment.finishedAt),
  };
}

export const listDeploymentsEndpoint = defineEndpoint({
  id: "listDeployments",
  method: "GET",
  path: "/api/v1/apps/{appId}/deployments",
  summary: "The app's deployments, newest first",
  description:
    "The app's deployments, newest first: status, source and commit, trigger, plan, phases with timings and error.",
  examples: { responses: { 200: examplePage(exampleDeployment) } },
  tags: ["deployments"],
  auth: { scope: "read", permission: "apps:read" },
  errors: [],
  params: appParams,
  query: pageQuery,
  responses: { 200: { description: "A page of deployments", schema: pageOf(deploymentSchema) } },
});

export const createDeploymentBody = z.strictObject({
  source: z
    .discriminatedUnion("type", [
      z.strictObject({
        type: z.literal("git"),
        url: lineText().max(2048).optional(),
        ref: lineText().max(255).optional(),
      }),
      z.strictObject({ type: z.literal("upload"), uploadId: z.uuid() }),
    ])
    .optional()
    .describe("Defaults to the app's git source"),
});

export const createDeploymentEndpoint = defineEndpoint({
  id: "createDeployment",
  method: "POST",
  path: "/api/v1/apps/{appId}/deployments",
  summary: "Deploy: build the source into an image (then release it); older unfinished deployments are cancelled",
  description:
    "Deploys: builds the source into an image and, when the build succeeds, releases it (operation `app.deploy`; follow the deployment and its log). The source is the app's git source by default, another git URL or ref, or an upload. Older unfinished deployments of the app are cancelled (superseded). `409` when the upload was already used or expired, or the app is being deleted; `422` for an SSH URL without a deploy key.",
  examples: {
    request: { source: { type: "upload", uploadId: EXAMPLE_IDS.upload } },
    responses: {
      202: {
        deployment: { ...exampleQueuedDeployment, source: { type: "upload", commitSha: null } },
        operation: exampleOperation,
      },
    },
  },
  tags: ["deployments"],
  auth: { scope: "write", permission: "deployments:create" },
  errors: ["conflict"],
  idempotent: true,
  params: appParams,
  body: createDeploymentBody,
  responses: {
    202: {
      description: "Queued; poll the operation or the deployment",
      schema: z.object({ deployment: deploymentSchema, operation: operationSchema }),
    },
  },
});

export const redeployDeploymentEndpoint = defineEndpoint({
  id: "redeployDeployment",
  method: "POST",
  path: "/api/v1/deployments/{id}/redeploy",
  summary: "Deploy a deployment's source again: the same commit, or the same upload while it is kept",
  description:
    "Deploys a deployment's source again as a new deployment (`trigger: redeploy`): the same pinned commit, or the same upload while it is kept. `409` once the upload is no longer kept, or while the app is being deleted.",
  examples: {
    responses: {
      202: {
        deployment: { ...exampleQueuedDeployment, trigger: "redeploy", redeployOfId: EXAMPLE_IDS.previousDeployment },
        operation: exampleOperation,
      },
    },
  },
  tags: ["deployments"],
  auth: { scope: "write", permission: "deployments:create" },
  errors: ["conflict"],
  idempotent: true,
  params: idParams,
  responses: {
    202: {
      description: "Queued; poll the operation or the deployment",
      schema: z.object({ deployment: deploymentSchema, operation: operationSchema }),
    },
    409: { description: "The upload is no longer kept, or the app is being deleted" },
  },
});

export const getDeploymentEndpoint = defineEndpoint({
  id: "getDeployment",
  method: "GET",
  path: "/api/v1/deployments/{id}",
  summary: "A deployment: status, plan, phase timings, error",
  description:
    "One deployment: status, source and commit, trigger, the build plan (and which file decided what), phases with timings, and the error when it failed.",
  examples: { responses: { 200: { deployment: exampleDeployment } } },
  tags: ["deployments"],
  auth: { scope: "read", permission: "apps:read" },
  errors: [],
  params: idParams,
  responses: { 200: { description: "The deployment", schema: z.object({ deployment: deploymentSchema }) } },
});

export const cancelDeploymentEndpoint = defineEndpoint({
  id: "cancelDeployment",
  method: "POST",
  path: "/api/v1/deployments/{id}/cancel",
  summary: "Cancel a queued or building deployment",
  description:
    "Cancels a queued or building deployment: a queued one ends `cancelled` at once, a building one when the worker stops its build. `409` when it already finished building.",
  examples: {
    responses: {
      200: { deployment: { ...exampleQueuedDeployment, status: "building", cancelRequested: true } },
    },
  },
  tags: ["deployments"],
  auth: { scope: "write", permission: "deployments:create" },
  errors: ["conflict"],
  idempotent: true,
  params: idParams,
  responses: {
    200: { description: "Cancellation requested", schema: z.object({ deployment: deploymentSchema }) },
    409: { description: "The deployment already finished building" },
  },
});

export const deploymentLogsEndpoint = defineEndpoint({
  id: "getDeploymentLogs",
  method: "GET",
  path: "/api/v1/deployments/{id}/logs",
  summary: "The build log from a byte offset; poll with ?offset=<nextOffset> until complete",
  description:
    "The build and release log from a byte offset. Poll with `offset` set to the answer's `nextOffset` until `complete` is true.",
  examples: {
    responses: {
      200: {
        text: "Fetching https://github.com/example/shop.git at main\nPlanning: uv.lock found\n",
        nextOffset: 74,
        complete: false,
      },
    },
  },
  tags: ["deployments"],
  auth: { scope: "read", permission: "apps:read" },
  errors: [],
  params: idParams,
  query: z.strictObject({
    offset: queryInt({ min: 0, max: 2 ** 31 - 1, default: 0, description: "A byte offset into the log" }),
  }),
  responses: {
    200: {
      description: "A chunk of the log",
      schema: z.object({ text: z.string(), nextOffset: z.number().int(), complete: z.boolean() }),
    },
  },
});
