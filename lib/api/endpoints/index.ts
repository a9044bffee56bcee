// Every endpoint the platform serves. Registering here puts it in /api/v1/openapi.json; a test checks that every
// route handler under app/api is registered.
import type { Endpoint } from "@/lib/api/endpoint";
import {
  cancelDeploymentEndpoint,
  createAppEndpoint,
  createDeploymentEndpoint,
  createUploadEndpoint,
  deleteAppEndpoint,
  deploymentLogsEndpoint,
  getAppEndpoint,
  getDeploymentEndpoint,
  getEnvEndpoint,
  listAppsEndpoint,
  listDeploymentsEndpoint,
  putEnvEndpoint,
  updateAppEndpoint,
} from "@/lib/api/endpoints/apps";
import { getHealthEndpoint } from "@/lib/api/endpoints/health";
import {
  createInvitationEndpoint,
  getOperationEndpoint,
  getTeamEndpoint,
  listAuditEventsEndpoint,
  listInvitationsEndpoint,
  listMembersEndpoint,
  revokeInvitationEndpoint,
} from "@/lib/api/endpoints/identity";
import { getOpenApiEndpoint } from "@/lib/api/endpoints/openapi";

export const endpoints: readonly Endpoint[] = [
  getHealthEndpoint,
  getOpenApiEndpoint,
  getTeamEndpoint,
  listMembersEndpoint,
  listInvitationsEndpoint,
  createInvitationEndpoint,
  revokeInvitationEndpoint,
  listAuditEventsEndpoint,
  getOperationEndpoint,
  listAppsEndpoint,
  createAppEndpoint,
  getAppEndpoint,
  updateAppEndpoint,
  deleteAppEndpoint,
  getEnvEndpoint,
  putEnvEndpoint,
  createUploadEndpoint,
  listDeploymentsEndpoint,
  createDeploymentEndpoint,
  getDeploymentEndpoint,
  cancelDeploymentEndpoint,
  deploymentLogsEndpoint,
];
