// The REST API as a tenant uses it: a token-bearing client, operations, uploads and deployments.
import { DEPLOY_DEADLINE_MS, execFileAsync, fail, OPERATION_DEADLINE_MS, say, waitUntil } from "./support";

export type Json = Record<string, unknown>;
export type Api = (method: string, url: string, body?: Json | Buffer, expect?: number[]) => Promise<Json>;

export function apiClient(origin: string, token: string): Api {
  return async (method, url, body, expect = [200, 201, 202]) => {
    const isTarball = Buffer.isBuffer(body);
    const response = await fetch(`${origin}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": isTarball ? "application/gzip" : "application/json" }),
      },
      body: body === undefined ? undefined : isTarball ? new Uint8Array(body) : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    if (!expect.includes(response.status)) fail(`${method} ${url} answered ${response.status}: ${text.slice(0, 500)}`);
    return text ? (JSON.parse(text) as Json) : {};
  };
}

export function field<T>(value: Json, key: string): T {
  return value[key] as T;
}

export type Operation = { id: string; status: string; error: string | null };
export type Deployment = {
  id: string;
  status: string;
  error: string | null;
  phases: { name: string; startedAt: string | null; finishedAt: string | null }[];
};
export type App = { id: string; status: string; url: string; replicas: number; currentDeploymentId: string | null };

export async function waitForOperation(api: Api, operation: Operation, what: string): Promise<void> {
  const done = await waitUntil(what, OPERATION_DEADLINE_MS, async () => {
    const current = field<Operation>(await api("GET", `/api/v1/operations/${operation.id}`), "operation");
    return current.status === "succeeded" || current.status === "failed" ? current : null;
  });
  if (done.status === "failed") fail(`${what} failed: ${done.error ?? "no reason given"}`);
}

export async function getApp(api: Api, appId: string): Promise<App> {
  return field<App>(await api("GET", `/api/v1/apps/${appId}`), "app");
}

export async function tarball(dir: string): Promise<Buffer> {
  const { stdout } = await execFileAsync("tar", ["-C", dir, "-czf", "-", "."], {
    encoding: "buffer",
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/** Uploads the source and creates a deployment, without waiting for it. */
export async function startDeploy(api: Api, appId: string, source: Buffer): Promise<Deployment> {
  const upload = field<{ id: string }>(await api("POST", "/api/v1/uploads", source), "upload");
  const created = await api("POST", `/api/v1/apps/${appId}/deployments`, {
    source: { type: "upload", uploadId: upload.id },
  });
  return field<Deployment>(created, "deployment");
}

export async function deploy(api: Api, appId: string, source: Buffer): Promise<Deployment> {
  return await waitDeployed(api, await startDeploy(api, appId, source));
}

/** Waits for a deployment's final state; anything but running fails the smoke with the end of its log. */
export async function waitDeployed(api: Api, deployment: Deployment): Promise<Deployment> {
  const final = await waitUntil(`deployment ${deployment.id}`, DEPLOY_DEADLINE_MS, async () => {
    const current = field<Deployment>(await api("GET", `/api/v1/deployments/${deployment.id}`), "deployment");
    return ["running", "failed", "cancelled", "superseded"].includes(current.status) ? current : null;
  });
  if (final.status !== "running") {
    const logs = field<string>(await api("GET", `/api/v1/deployments/${deployment.id}/logs`), "text") ?? "";
    fail(`deployment ended ${final.status}: ${final.error ?? ""}\n--- log (end) ---\n${logs.slice(-4000)}`);
  }
  for (const step of final.phases) {
    if (step.startedAt && step.finishedAt) {
      const ms = Date.parse(step.finishedAt) - Date.parse(step.startedAt);
      say(`    ${step.name.padEnd(10)} ${(ms / 1000).toFixed(1)} s`);
    }
  }
  return final;
}
