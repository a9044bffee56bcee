// Where the platform keeps files in its data directory. Only the worker and the upload endpoint touch them; paths
// never reach a response.
import path from "node:path";

export function deploymentLogPath(dataDir: string, deploymentId: string): string {
  return path.join(dataDir, "logs", "deployments", `${deploymentId}.log`);
}

export function uploadPath(dataDir: string, uploadId: string): string {
  return path.join(dataDir, "uploads", `${uploadId}.tar.gz`);
}

export function buildWorkspace(dataDir: string, deploymentId: string): string {
  return path.join(dataDir, "builds", deploymentId);
}

/** The runtime log of an app's containers, as the worker collects it (lib/engine/app-logs.ts). */
export function appLogPath(dataDir: string, appId: string): string {
  return path.join(dataDir, "logs", "apps", `${appId}.log`);
}

/** How far the collector got in each container's log, so the next collection appends only what is new. */
export function appLogCursorPath(dataDir: string, appId: string): string {
  return path.join(dataDir, "logs", "apps", `${appId}.cursor.json`);
}

/** What a one-off or cron run printed (lib/engine/runs.ts), read by GET /api/v1/runs/{id}/logs. */
export function runLogPath(dataDir: string, runId: string): string {
  return path.join(dataDir, "logs", "runs", `${runId}.log`);
}

/** The combined CA bundle for TUSSILAGO_GIT_CA_FILE lives here, shared by every worker process (source-git/https-auth). */
export function gitCaBundleDir(dataDir: string): string {
  return path.join(dataDir, "git");
}

/** Caddy's JSON access log of the tenant routes, which the metrics sampler reads (lib/engine/metrics/access-log.ts). */
export function caddyAccessLogPath(dataDir: string): string {
  return path.join(dataDir, "logs", "caddy", "access.log");
}

/** The local backup store's directory, when no bucket is configured (lib/infra/backup-store). */
export function backupsDir(dataDir: string): string {
  return path.join(dataDir, "backups");
}
