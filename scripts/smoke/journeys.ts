// What the smoke proves, through the REST API on the real host: an example's life (deploy, serve, redeploy without a
// failed request, a worker SIGKILLed mid-release that converges, roll back, scale, stop, delete) and the refusal of a
// hostile Containerfile.
import fs from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { baseImageFor } from "@/lib/build/containerfile";
import { defaultPythonVersion, type Env } from "@/lib/env";
import {
  type Api,
  type App,
  type Deployment,
  deploy,
  field,
  getApp,
  type Operation,
  startDeploy,
  tarball,
  waitDeployed,
  waitForOperation,
} from "./api";
import { type Front, fetchThroughCaddy, probeLoop, waitServed } from "./caddy";
import { type SmokeTls, smokeCustomDomain } from "./domains";
import { containersOf, imagesOf, podman, workerPid } from "./host";
import {
  DEPLOY_DEADLINE_MS,
  EXAMPLES_DIR,
  fail,
  OPERATION_DEADLINE_MS,
  PROBE_TAIL_MS,
  phase,
  say,
  sleep,
  waitUntil,
} from "./support";

/** The crash step's release command: long enough to find the deployment releasing and kill the worker there. */
const HOLD_RELEASE_COMMAND = 'python3 -c "import time; time.sleep(12)"';

/**
 * `dataDir`: the platform under test's data directory (which tells its worker process apart). `tls`: the local ACME
 * CA the platform was started with, for the custom domain and HTTPS step; null skips it.
 */
export async function smokeExample(
  api: Api,
  env: Env,
  front: Front,
  example: string,
  dataDir: string,
  tls: SmokeTls | null = null,
): Promise<void> {
  const source = await tarball(path.join(EXAMPLES_DIR, example));
  const app = field<App>(
    await api("POST", "/api/v1/apps", { name: `smoke-${example}`.slice(0, 40), settings: { healthCheckPath: "/" } }),
    "app",
  );
  const greets = (body: string) => body.length > 0;

  const first = await phase(`${example}: first deploy (upload, build under gVisor, release)`, () =>
    deploy(api, app.id, source),
  );
  await phase(`${example}: first request through Caddy`, () => waitServed(front, app.url, greets));
  await phase(`${example}: replicas run under the sandbox runtime`, async () => {
    const names = await containersOf(env, app.id);
    if (names.length === 0) fail("no running container for the app");
    for (const name of names) {
      const runtime = (await podman(env, ["inspect", "--format", "{{.OCIRuntime}}", name])).trim();
      if (runtime !== env.infra.ociRuntime) fail(`${name} runs under ${runtime}, not ${env.infra.ociRuntime}`);
    }
    say(`    ${names.length} container(s) under ${env.infra.ociRuntime}`);
  });
  if (tls) await smokeCustomDomain(api, front, tls, app, greets);

  const second = await phase(`${example}: redeploy while probing (no failed request)`, async () => {
    const probe = probeLoop(front, app.url);
    let deployment: Deployment;
    try {
      deployment = await deploy(api, app.id, source);
      await sleep(PROBE_TAIL_MS);
    } finally {
      const result = await probe.stop();
      say(`    probe: ${result.ok} answers 200, ${result.failures.length} failures`);
      if (result.failures.length > 0)
        fail(`requests failed during the cutover: ${result.failures.slice(0, 5).join("; ")}`);
      if (result.ok === 0) fail("the probe loop got no answer at all");
    }
    return deployment;
  });
  if (second.id === first.id) fail("the redeploy did not create a new deployment");

  await phase(`${example}: worker SIGKILLed mid-release, the deployment converges`, async () => {
    // A cached build releases in well under a second, faster than the poll below can see `releasing`: a release
    // command that sleeps holds the deployment there long enough to kill the worker in the middle of it.
    await api("PATCH", `/api/v1/apps/${app.id}`, { settings: { releaseCommand: HOLD_RELEASE_COMMAND } });
    const started = await startDeploy(api, app.id, source);
    await waitUntil("the deployment to be releasing", DEPLOY_DEADLINE_MS, async () => {
      const current = field<Deployment>(await api("GET", `/api/v1/deployments/${started.id}`), "deployment");
      if (["running", "failed", "cancelled"].includes(current.status)) fail(`it ended ${current.status} first`);
      return current.status === "releasing" ? current : null;
    });
    const killed = await workerPid(dataDir);
    if (killed === null) fail("no worker process of this platform found");
    process.kill(killed, "SIGKILL");
    say(`    killed the worker (pid ${killed}) while it released`);
    // The supervisor starts a new worker; it releases the dead one's locks once its heartbeat is stale, and resumes.
    await waitDeployed(api, started);
    const replacement = await workerPid(dataDir);
    if (replacement === null || replacement === killed) fail("the supervisor did not start a new worker");
    // Running means traffic moved; the previous release's containers go after the drain.
    const expected = (await getApp(api, app.id)).replicas;
    await waitUntil(`exactly ${expected} running container(s) of the app`, OPERATION_DEADLINE_MS, async () =>
      (await containersOf(env, app.id)).length === expected ? true : null,
    );
    const current = await getApp(api, app.id);
    if (current.currentDeploymentId !== started.id) fail("the converged deployment is not the app's current one");
    await waitServed(front, app.url, greets);
    await api("PATCH", `/api/v1/apps/${app.id}`, { settings: { releaseCommand: null } });
  });

  await phase(`${example}: roll back to the first deployment`, async () => {
    const answer = await api("POST", `/api/v1/apps/${app.id}/actions/rollback`, { deploymentId: first.id });
    await waitForOperation(api, field<Operation>(answer, "operation"), "rollback");
    const current = await getApp(api, app.id);
    if (current.currentDeploymentId === second.id) fail("after the rollback the second deployment is still current");
    await waitServed(front, app.url, greets);
  });

  for (const replicas of [2, 1]) {
    await phase(`${example}: scale to ${replicas}`, async () => {
      const answer = await api("POST", `/api/v1/apps/${app.id}/actions/scale`, { replicas });
      await waitForOperation(api, field<Operation>(answer, "operation"), `scale to ${replicas}`);
      const running = await containersOf(env, app.id);
      if (running.length !== replicas) fail(`expected ${replicas} running containers, found ${running.length}`);
      await waitServed(front, app.url, greets);
    });
  }

  await phase(`${example}: stop`, async () => {
    const answer = await api("POST", `/api/v1/apps/${app.id}/actions/stop`, {});
    await waitForOperation(api, field<Operation>(answer, "operation"), "stop");
    const running = await containersOf(env, app.id);
    if (running.length !== 0) fail(`containers still running after stop: ${running.join(", ")}`);
    const answerAfter = await fetchThroughCaddy(front, app.url).catch(() => ({ status: 0, body: "" }));
    if (answerAfter.status === 200) fail("the app still answers 200 through Caddy after stop");
    const current = await getApp(api, app.id);
    if (current.status !== "stopped") fail(`app status is ${current.status} after stop`);
  });

  await phase(`${example}: delete (containers, route and images removed)`, async () => {
    await api("DELETE", `/api/v1/apps/${app.id}`, undefined, [202]);
    await waitUntil("the app to be deleted", OPERATION_DEADLINE_MS, async () => {
      const status = await api("GET", `/api/v1/apps/${app.id}`, undefined, [200, 404]);
      return status.error ? true : null;
    });
    const leftovers = await containersOf(env, app.id, true);
    if (leftovers.length > 0) fail(`containers left after delete: ${leftovers.join(", ")}`);
    const images = await imagesOf(env, app.id);
    if (images.length > 0) fail(`images left after delete: ${images.join(", ")}`);
  });
}

/**
 * A Containerfile whose ADD fetches from a listener on the host's loopback: root podman would fetch it from the host's
 * network namespace. The build policy must refuse the deployment, naming the line, and the listener see nothing.
 */
export async function smokeHostileAdd(api: Api, env: Env): Promise<void> {
  let hits = 0;
  const listener = createServer((_request, response) => {
    hits += 1;
    response.end("should never be fetched\n");
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const { port } = listener.address() as AddressInfo;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-smoke-hostile-"));
  try {
    await fs.writeFile(path.join(dir, "app.py"), "print('never built')\n");
    const base = baseImageFor(env.infra.pythonImage, defaultPythonVersion());
    await fs.writeFile(path.join(dir, "Containerfile"), `FROM ${base}\nADD http://127.0.0.1:${port}/ /x\n`);
    const app = field<App>(await api("POST", "/api/v1/apps", { name: "smoke-hostile-add" }), "app");
    const upload = field<{ id: string }>(await api("POST", "/api/v1/uploads", await tarball(dir)), "upload");
    const created = await api("POST", `/api/v1/apps/${app.id}/deployments`, {
      source: { type: "upload", uploadId: upload.id },
    });
    const deployment = field<Deployment>(created, "deployment");
    const final = await waitUntil(`deployment ${deployment.id}`, DEPLOY_DEADLINE_MS, async () => {
      const current = field<Deployment>(await api("GET", `/api/v1/deployments/${deployment.id}`), "deployment");
      return ["running", "failed", "cancelled", "superseded", "built"].includes(current.status) ? current : null;
    });
    if (final.status !== "failed") fail(`the hostile Containerfile was not refused: the deployment is ${final.status}`);
    if (!final.error?.includes("Containerfile line 2: ADD")) {
      fail(`the refusal does not name the line and instruction: ${final.error ?? "no error"}`);
    }
    if (hits > 0) fail(`the loopback listener received ${hits} request(s)`);
    say(`    refused: ${final.error.split("\n")[1]?.trim() ?? final.error}`);
    await api("DELETE", `/api/v1/apps/${app.id}`, undefined, [202]);
  } finally {
    listener.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}
