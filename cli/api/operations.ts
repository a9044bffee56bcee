// Every request the CLI can make: method, path template (as the OpenAPI document writes it), the success status and
// the schema of its answer. The client only sends what is listed here, so cli/api/operations.test.ts can check the
// whole list against the document.
import type { z } from "zod";
import { responses } from "./schemas";

export type OperationSpec = {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  status: number;
  response: z.ZodType | null;
  /** The endpoint honours Idempotency-Key: the client sends one, so a retried request does no new work. */
  idempotent?: boolean;
};

export const operations = {
  getTeam: { method: "GET", path: "/api/v1/team", status: 200, response: responses.team },
  listApps: { method: "GET", path: "/api/v1/apps", status: 200, response: responses.appPage },
  createApp: { method: "POST", path: "/api/v1/apps", status: 201, response: responses.app, idempotent: true },
  getApp: { method: "GET", path: "/api/v1/apps/{appId}", status: 200, response: responses.app },
  deleteApp: { method: "DELETE", path: "/api/v1/apps/{appId}", status: 202, response: responses.appOperation },
  getEnv: { method: "GET", path: "/api/v1/apps/{appId}/env", status: 200, response: responses.env },
  putEnv: { method: "PUT", path: "/api/v1/apps/{appId}/env", status: 200, response: responses.env },
  createUpload: { method: "POST", path: "/api/v1/uploads", status: 201, response: responses.upload },
  listDeployments: {
    method: "GET",
    path: "/api/v1/apps/{appId}/deployments",
    status: 200,
    response: responses.deploymentPage,
  },
  createDeployment: {
    method: "POST",
    path: "/api/v1/apps/{appId}/deployments",
    status: 202,
    response: responses.deploymentOperation,
    idempotent: true,
  },
  getDeployment: { method: "GET", path: "/api/v1/deployments/{id}", status: 200, response: responses.deployment },
  getDeploymentLogs: {
    method: "GET",
    path: "/api/v1/deployments/{id}/logs",
    status: 200,
    response: responses.logChunk,
  },
  restartApp: {
    method: "POST",
    path: "/api/v1/apps/{appId}/actions/restart",
    status: 202,
    response: responses.appOperation,
    idempotent: true,
  },
  rollbackApp: {
    method: "POST",
    path: "/api/v1/apps/{appId}/actions/rollback",
    status: 202,
    response: responses.appOperation,
    idempotent: true,
  },
  scaleApp: {
    method: "POST",
    path: "/api/v1/apps/{appId}/actions/scale",
    status: 202,
    response: responses.appOperation,
    idempotent: true,
  },
  getAppLogs: { method: "GET", path: "/api/v1/apps/{appId}/logs", status: 200, response: responses.appLogs },
  createRun: {
    method: "POST",
    path: "/api/v1/apps/{appId}/runs",
    status: 202,
    response: responses.runOperation,
    idempotent: true,
  },
  getRun: { method: "GET", path: "/api/v1/runs/{id}", status: 200, response: responses.run },
  getRunLogs: { method: "GET", path: "/api/v1/runs/{id}/logs", status: 200, response: responses.logChunk },
  getOperation: { method: "GET", path: "/api/v1/operations/{id}", status: 200, response: responses.operation },
  listDomains: { method: "GET", path: "/api/v1/apps/{appId}/domains", status: 200, response: responses.domainPage },
  createDomain: {
    method: "POST",
    path: "/api/v1/apps/{appId}/domains",
    status: 201,
    response: responses.domain,
    idempotent: true,
  },
  listDatabases: { method: "GET", path: "/api/v1/databases", status: 200, response: responses.databasePage },
  createDatabase: {
    method: "POST",
    path: "/api/v1/databases",
    status: 202,
    response: responses.databaseOperation,
    idempotent: true,
  },
  getDatabaseCredentials: {
    method: "GET",
    path: "/api/v1/databases/{id}/credentials",
    status: 200,
    response: responses.credentials,
  },
} as const satisfies Record<string, OperationSpec>;

export type OperationName = keyof typeof operations;
export type ResponseOf<N extends OperationName> = (typeof operations)[N]["response"] extends z.ZodType
  ? z.infer<(typeof operations)[N]["response"]>
  : null;
