// `npm run smoke:host`: the real deploy path on a host prepared by scripts/host-setup.sh, outside the test suite.
// Starts the platform with the host's configuration (podman, gVisor, the host's Caddy) and a throwaway data directory,
// then through the REST API, for each example that needs no package index: upload, build, release under gVisor and a
// request through Caddy; a redeploy while a probe loop hits the app (no failed request during the cutover); a
// rollback; scale to 2 and back; stop; delete. Before the examples, a hostile Containerfile (`ADD` of a loopback URL)
// must be refused by the build policy with nothing reaching the host's loopback. Prints each phase's time and exits
// non-zero on the first failure.
// Where the base image is missing (no registry here), it is built from Debian packages first (docs/operations.md).
//
//   sudo npm run smoke:host [-- --keep-data] [-- --example wsgi-stdlib]
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { request } from "undici";
import { baseImageFor } from "@/lib/build/containerfile";
import { detectPlan, fsSourceTree } from "@/lib/build/plan";
import { freePort } from "@/lib/database/embedded";
import { DEFAULT_HOST_CONFIG, defaultPythonVersion, type Env, parseEnv, readHostConfig } from "@/lib/env";
import { teamNetworkName } from "@/lib/engine/release";

const execFileAsync = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const EXAMPLES_DIR = path.join(REPO_ROOT, "examples");

const STARTUP_DEADLINE_MS = 15 * 60_000;
const DEPLOY_DEADLINE_MS = 10 * 60_000;
const OPERATION_DEADLINE_MS = 5 * 60_000;
const SERVE_DEADLINE_MS = 60_000;
const PROBE_INTERVAL_MS = 25;
/** The cutover must be seen by the probe loop: keep probing this long after the new release is live. */
const PROBE_TAIL_MS = 3_000;
const COMMAND_TIMEOUT_MS = 10 * 60_000;

class SmokeFailure extends Error {}

function fail(message: string): never {
  throw new SmokeFailure(message);
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const timings: { name: string; ms: number }[] = [];

async function phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  say(`… ${name}`);
  const result = await fn();
  const ms = performance.now() - started;
  timings.push({ name, ms });
  say(`✓ ${name} (${(ms / 1000).toFixed(1)} s)`);
  return result;
}

async function waitUntil<T>(what: string, deadlineMs: number, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  let delay = 200;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) fail(`timed out after ${Math.round(deadlineMs / 1000)} s waiting for ${what}`);
    await sleep(delay);
    delay = Math.min(delay * 2, 2_000);
  }
}

// --- the host ---------------------------------------------------------------------------------------------------

async function podman(env: Env, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(env.infra.podmanPath, args, { timeout: COMMAND_TIMEOUT_MS });
  return stdout;
}

async function ensureBaseImage(env: Env): Promise<void> {
  const image = baseImageFor(env.infra.pythonImage, defaultPythonVersion());
  const exists = await execFileAsync(env.infra.podmanPath, ["image", "exists", image]).then(
    () => true,
    () => false,
  );
  if (exists) {
    say(`base image ${image} is present`);
    return;
  }
  if (!image.startsWith("localhost/")) {
    say(`base image ${image} is pulled by the first build`);
    return;
  }
  await phase(`build the base image ${image} from Debian packages`, async () => {
    const rootfs = await fs.mkdtemp(path.join("/var/tmp", "tussilago-smoke-rootfs-"));
    try {
      const release =
        (await fs.readFile("/etc/os-release", "utf8")).match(/^VERSION_CODENAME=(.+)$/m)?.[1] ?? "bookworm";
      await execFileAsync(
        "debootstrap",
        [
          "--variant=minbase",
          "--include=python3,python3-venv,python3-pip,ca-certificates",
          release,
          rootfs,
          "http://deb.debian.org/debian",
        ],
        { timeout: COMMAND_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
      );
      await pipe(["tar", "-C", rootfs, "-c", "."], [env.infra.podmanPath, "import", "-", image]);
    } finally {
      await fs.rm(rootfs, { recursive: true, force: true });
    }
  });
}

/** `a | b` without a shell. */
async function pipe(first: string[], second: string[]): Promise<void> {
  const [firstFile = "", ...firstArgs] = first;
  const [secondFile = "", ...secondArgs] = second;
  const producer = spawn(firstFile, firstArgs, { stdio: ["ignore", "pipe", "inherit"] });
  const consumer = spawn(secondFile, secondArgs, { stdio: ["pipe", "ignore", "inherit"] });
  producer.stdout.pipe(consumer.stdin);
  const exit = (child: ChildProcess) =>
    new Promise<number>((resolve) => child.once("exit", (code) => resolve(code ?? 1)));
  const [a, b] = await Promise.all([exit(producer), exit(consumer)]);
  if (a !== 0 || b !== 0) fail(`${first.join(" ")} | ${second.join(" ")} failed (${a}, ${b})`);
}

// --- the platform -----------------------------------------------------------------------------------------------

type Platform = { origin: string; env: NodeJS.ProcessEnv; logFile: string; stop(): Promise<void> };

async function startPlatform(dataDir: string, logFile: string, secretKey: string): Promise<Platform> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const { DATABASE_URL: _url, DATABASE_DIRECT_URL: _direct, ...inherited } = process.env;
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    TUSSILAGO_SECRET_KEY: secretKey,
    TUSSILAGO_DATA_DIR: dataDir,
    PORT: String(port),
    // A short drain keeps the smoke quick; the probe loop proves the cutover still drops nothing.
    TUSSILAGO_DRAIN_SECONDS: process.env.TUSSILAGO_DRAIN_SECONDS ?? "2",
    LOG_LEVEL: "info",
  };
  const log = await fs.open(logFile, "a");
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    cwd: REPO_ROOT,
    env,
    stdio: ["ignore", log.fd, log.fd],
    detached: true,
  });
  await log.close();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const done = await Promise.race([exited.then(() => true), sleep(60_000).then(() => false)]);
    if (!done && child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
      await exited;
    }
  };
  try {
    await waitUntil("the platform to become healthy", STARTUP_DEADLINE_MS, async () => {
      if (child.exitCode !== null) fail(`the platform exited with code ${child.exitCode}; see ${logFile}`);
      try {
        const response = await fetch(`${origin}/api/health`, { signal: AbortSignal.timeout(5_000) });
        await response.arrayBuffer();
        return response.status === 200 ? true : null;
      } catch {
        return null;
      }
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { origin, env, logFile, stop };
}

async function manage(platform: Platform, args: string[]): Promise<Record<string, unknown>> {
  try {
    const { stdout } = await execFileAsync(
      process.execPath,
      ["--import", "tsx", "scripts/manage.ts", ...args, "--json"],
      {
        cwd: REPO_ROOT,
        env: platform.env,
        timeout: 120_000,
      },
    );
    return JSON.parse(stdout) as Record<string, unknown>;
  } catch (error) {
    const err = error as { stdout?: string; stderr?: string };
    fail(`manage ${args[0]} failed: ${(err.stderr || err.stdout || String(error)).trim().slice(-2000)}`);
  }
}

// --- the API ----------------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;
type Api = (method: string, url: string, body?: Json | Buffer, expect?: number[]) => Promise<Json>;

function apiClient(origin: string, token: string): Api {
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

function field<T>(value: Json, key: string): T {
  return value[key] as T;
}

type Operation = { id: string; status: string; error: string | null };
type Deployment = {
  id: string;
  status: string;
  error: string | null;
  phases: { name: string; startedAt: string | null; finishedAt: string | null }[];
};
type App = { id: string; status: string; url: string; replicas: number; currentDeploymentId: string | null };

async function waitForOperation(api: Api, operation: Operation, what: string): Promise<void> {
  const done = await waitUntil(what, OPERATION_DEADLINE_MS, async () => {
    const current = field<Operation>(await api("GET", `/api/v1/operations/${operation.id}`), "operation");
    return current.status === "succeeded" || current.status === "failed" ? current : null;
  });
  if (done.status === "failed") fail(`${what} failed: ${done.error ?? "no reason given"}`);
}

async function getApp(api: Api, appId: string): Promise<App> {
  return field<App>(await api("GET", `/api/v1/apps/${appId}`), "app");
}

async function tarball(dir: string): Promise<Buffer> {
  const { stdout } = await execFileAsync("tar", ["-C", dir, "-czf", "-", "."], {
    encoding: "buffer",
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

async function deploy(api: Api, appId: string, source: Buffer): Promise<Deployment> {
  const upload = field<{ id: string }>(await api("POST", "/api/v1/uploads", source), "upload");
  const created = await api("POST", `/api/v1/apps/${appId}/deployments`, {
    source: { type: "upload", uploadId: upload.id },
  });
  const deployment = field<Deployment>(created, "deployment");
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

// --- requests through Caddy -------------------------------------------------------------------------------------

type Front = { port: number };

function caddyFront(env: Env): Front {
  const first = env.release.caddyListen[0] ?? ":80";
  const port = Number(first.slice(first.lastIndexOf(":") + 1));
  if (!Number.isInteger(port) || port <= 0) fail(`cannot tell Caddy's port from TUSSILAGO_CADDY_LISTEN=${first}`);
  return { port };
}

async function fetchThroughCaddy(front: Front, url: string): Promise<{ status: number; body: string }> {
  const host = new URL(url).host;
  const response = await request(`http://127.0.0.1:${front.port}/`, {
    headers: { host },
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  return { status: response.statusCode, body: await response.body.text() };
}

async function waitServed(front: Front, url: string, expected: (body: string) => boolean): Promise<void> {
  await waitUntil(`${url} to answer 200 through Caddy`, SERVE_DEADLINE_MS, async () => {
    try {
      const answer = await fetchThroughCaddy(front, url);
      return answer.status === 200 && expected(answer.body) ? true : null;
    } catch {
      return null;
    }
  });
}

/** Probes until stopped; every answer that is not a 200 (or a connection error) counts as a failure. */
function probeLoop(front: Front, url: string) {
  let stopped = false;
  let ok = 0;
  const failures: string[] = [];
  const running = (async () => {
    while (!stopped) {
      try {
        const answer = await fetchThroughCaddy(front, url);
        if (answer.status === 200) ok += 1;
        else failures.push(`HTTP ${answer.status}`);
      } catch (error) {
        failures.push((error as Error).message);
      }
      await sleep(PROBE_INTERVAL_MS);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await running;
      return { ok, failures };
    },
  };
}

async function containersOf(env: Env, appId: string, all = false): Promise<string[]> {
  const out = await podman(env, [
    "ps",
    ...(all ? ["--all"] : []),
    "--filter",
    `label=tussilago.app=${appId}`,
    "--format",
    "{{.Names}}",
  ]);
  return out.split("\n").filter(Boolean);
}

async function imagesOf(env: Env, appId: string): Promise<string[]> {
  const out = await podman(env, ["images", "--filter", `label=tussilago.app=${appId}`, "--format", "{{.ID}}"]);
  return out.split("\n").filter(Boolean);
}

// --- the journey --------------------------------------------------------------------------------------------------

async function smokeExample(api: Api, env: Env, front: Front, example: string): Promise<void> {
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
async function smokeHostileAdd(api: Api, env: Env): Promise<void> {
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

function noIndexExamples(only: string | undefined): string[] {
  const names = only ? [only] : ["django-procfile", "fastapi-uv", "flask-requirements", "wsgi-stdlib"];
  const chosen: string[] = [];
  for (const name of names) {
    const dir = path.join(EXAMPLES_DIR, name);
    if (!existsSync(dir)) fail(`no example ${name} in examples/`);
    chosen.push(name);
  }
  return chosen;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { "keep-data": { type: "boolean", default: false }, example: { type: "string" } },
  });
  if (process.getuid?.() !== 0) fail("run as root: rootful podman is what runs gVisor (sudo npm run smoke:host)");
  const hostConfig = process.env.TUSSILAGO_HOST_CONFIG ?? DEFAULT_HOST_CONFIG;
  if (hostConfig !== "none" && !existsSync(hostConfig)) {
    fail(`${hostConfig} is missing: prepare the host first with sudo scripts/host-setup.sh`);
  }
  const secretKey = randomBytes(32).toString("base64url");
  const env = parseEnv({ ...readHostConfig(process.env), ...process.env, TUSSILAGO_SECRET_KEY: secretKey });
  const front = caddyFront(env);

  const candidates = noIndexExamples(values.example);
  const examples: string[] = [];
  for (const name of candidates) {
    const plan = await detectPlan(fsSourceTree(path.join(EXAMPLES_DIR, name)), {
      defaultPythonVersion: defaultPythonVersion(),
    });
    // Only examples that install nothing can build without a package index (this host has none).
    if (plan.builder === "python" && plan.installer === "none") examples.push(name);
    else say(`skipping ${name}: its ${plan.installer} install needs a package index`);
  }
  if (examples.length === 0) fail("no example can be built without a package index");

  await ensureBaseImage(env);

  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-smoke-"));
  await fs.chmod(dataDir, 0o711);
  const logFile = path.join(os.tmpdir(), `${path.basename(dataDir)}.log`);
  say(`platform log: ${logFile}`);
  const platform = await phase("start the platform (build when sources changed)", () =>
    startPlatform(dataDir, logFile, secretKey),
  );
  let teamId: string | null = null;
  try {
    const report = await phase("host readiness (manage check)", () => manage(platform, ["check", "--no-ping"]));
    if (report.ok !== true) {
      fail(`the host is not ready:\n${JSON.stringify(report.sections, null, 2).slice(0, 4000)}`);
    }
    const email = `smoke-${randomBytes(4).toString("hex")}@example.com`;
    await manage(platform, ["create-user", "--email", email, "--password", randomBytes(18).toString("base64url")]);
    const team = await manage(platform, [
      "create-team",
      "--name",
      `Smoke ${randomBytes(3).toString("hex")}`,
      "--owner",
      email,
    ]);
    const token = await manage(platform, [
      "create-token",
      "--team",
      String(team.id),
      "--name",
      "smoke",
      "--scopes",
      "read,write",
    ]);
    teamId = String(team.id);
    const api = apiClient(platform.origin, String(token.token));
    await phase("a Containerfile ADD of a loopback URL is refused, nothing fetched", () => smokeHostileAdd(api, env));
    for (const example of examples) await smokeExample(api, env, front, example);
  } finally {
    await platform.stop();
    // The smoke's team outlives its apps; its podman network is the one thing left on the host.
    if (teamId) {
      await execFileAsync(env.infra.podmanPath, ["network", "rm", "--force", teamNetworkName(teamId)]).catch(() => {});
    }
    if (!values["keep-data"]) await fs.rm(dataDir, { recursive: true, force: true });
  }
  say("");
  say("phase times:");
  for (const { name, ms } of timings) say(`  ${(ms / 1000).toFixed(1).padStart(7)} s  ${name}`);
  say("smoke: ok");
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`smoke: FAILED: ${error instanceof SmokeFailure ? error.message : String(error)}\n`);
    if (!(error instanceof SmokeFailure) && error instanceof Error && error.stack)
      process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  },
);
