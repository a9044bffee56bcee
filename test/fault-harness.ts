// The fault-injection harness shared by jobs/fault-injection*.test.ts: the real worker (jobs/worker.ts) as a child
// process against the test file's database, the fake podman and the fake Caddy. The fake podman kills the worker at
// an exact call (FAKE_PODMAN_KILL_ON after it, FAKE_PODMAN_KILL_DURING instead of it) or hangs one call
// (FAKE_PODMAN_HANG_ON); a new worker must then converge without help. Split in files so vitest runs them in parallel.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import fs from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { makeWorkerUtils, type WorkerUtils } from "graphile-worker";
import { afterAll, beforeAll, expect } from "vitest";
import { enqueue } from "@/jobs/enqueue";
import { appQueue } from "@/jobs/queues";
import { unlockStaleWorkers } from "@/jobs/unlock-stale";
import { buildWorkspace } from "@/lib/data-paths";
import { workerLogger } from "@/lib/database/migrate";
import { getDb } from "@/lib/db";
import { createDeployment } from "@/lib/domain/deployments";
import type { LifecycleResult } from "@/lib/domain/lifecycle";
import * as lifecycle from "@/lib/domain/lifecycle";
import { createUpload } from "@/lib/domain/uploads";
import { releaseDeployment, runLifecycle } from "@/lib/engine/release";
import { getEnv } from "@/lib/env";
import { getInfra } from "@/lib/services/infra";
import { type FakeCaddy, startFakeCaddy } from "@/test/fake-caddy";
import { type FakePodman, installFakePodman } from "@/test/fake-podman/install";
import { fakeContainers, seedApp, seedBuiltDeployment, silentLog, testDeps, upstreamsOf } from "@/test/release-helpers";

export const REPLICAS = 2;
const WAIT_MS = 90_000;

type Harness = { podman: FakePodman; caddy: FakeCaddy; utils: WorkerUtils };
let current: Harness | undefined;

/** The harness of this test file, set up by installFaultHarness's beforeAll. */
export function harness(): Harness {
  if (!current) throw new Error("call installFaultHarness() at the top of the test file");
  return current;
}

/** Registers the file's set-up and tear-down: the fake podman (its containers answer HTTP), the fake Caddy. */
export function installFaultHarness(): void {
  beforeAll(async () => {
    const podman = await installFakePodman();
    await fs.mkdir(podman.stateDir, { recursive: true });
    // Containers answer HTTP themselves: the worker in its own process runs real health checks against them.
    await fs.writeFile(path.join(podman.stateDir, "serve-http"), "");
    const caddy = await startFakeCaddy();
    const utils = await makeWorkerUtils({
      connectionString: getEnv().databaseDirectUrl ?? "",
      logger: workerLogger(silentLog),
    });
    current = { podman, caddy, utils };
  });
  afterAll(async () => {
    if (!current) return;
    const { podman, caddy, utils } = current;
    await utils.release();
    await caddy.close();
    // Removing the containers stops the fake's detached HTTP servers.
    for (const container of await fakeContainers(podman)) {
      await getInfra()
        .podman()
        .remove(container.name)
        .catch(() => undefined);
    }
    await podman.cleanup();
    current = undefined;
  });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    // A worker that died on its own (not killed by the fake or the test) will never get there: say so at once.
    const worker = latest;
    if (worker && !worker.ending && (worker.process.exitCode !== null || worker.process.signalCode !== null)) {
      throw new Error(`the worker exited while waiting for ${what}; its last log lines:\n${worker.logTail()}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}; the worker's last log lines:\n${latest?.logTail() ?? ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export type Child = {
  process: ChildProcess;
  exited: Promise<NodeJS.Signals | number | null>;
  /** Set when the test stops or kills it: its exit is then expected. */
  ending: boolean;
  /** Its last log lines, for the message of a failing wait. */
  logTail(): string;
};

const LOG_TAIL_LINES = 40;
let latest: Child | undefined;

/** The real worker entry point in its own process, as `npm run worker` starts it. */
export async function startWorkerProcess(
  killOn?: string,
  fakeEnv: Record<string, string> = {},
  env: Record<string, string> = {},
): Promise<Child> {
  const { podman, caddy } = harness();
  await podman.configure(killOn ? { ...fakeEnv, KILL_ON: killOn } : fakeEnv);
  const child = spawn(process.execPath, ["--import", "tsx", "jobs/worker.ts"], {
    cwd: path.resolve(import.meta.dirname, ".."),
    env: {
      ...process.env,
      TUSSILAGO_PODMAN_PATH: podman.path,
      TUSSILAGO_CADDY_ADMIN: caddy.url,
      TUSSILAGO_DRAIN_SECONDS: "1",
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "info",
      ...env,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once("exit", (code, signal) => resolve(signal ?? code)),
  );
  const lines: string[] = [];
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    // TEST_LOG_LEVEL shows the workers' logs as they come.
    if (process.env.TEST_LOG_LEVEL) process.stdout.write(chunk);
    lines.push(...chunk.split("\n").filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - LOG_TAIL_LINES));
  });
  latest = { process: child, exited, ending: false, logTail: () => lines.join("\n") };
  return latest;
}

/** Kills a worker that is still running; a killed one's locks are released as a restarted worker would. */
export async function crashed(child: Child): Promise<void> {
  child.ending = true;
  if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill("SIGKILL");
  expect(await child.exited).toBe("SIGKILL");
  // jobs/unlock-stale.ts with no grace: no other worker runs, so every lock holder is the dead one.
  await unlockStaleWorkers({ db: getDb(), utils: harness().utils, log: silentLog, staleAfterMs: 0 });
}

/** Waits for the fake podman to kill the worker (its kill switch), then releases the dead worker's locks. */
export async function killedByFake(child: Child, expected: string): Promise<void> {
  await child.exited;
  await crashed(child);
  expect(await fs.readFile(path.join(harness().podman.stateDir, "killed"), "utf8")).toContain(expected);
}

export async function stopped(child: Child): Promise<void> {
  child.ending = true;
  child.process.kill("SIGTERM");
  await child.exited;
}

/** Starts a worker, runs `check` against it, and stops it whatever happened. */
export async function withWorker(
  check: () => Promise<void>,
  fakeEnv: Record<string, string> = {},
  env: Record<string, string> = {},
): Promise<void> {
  const restarted = await startWorkerProcess(undefined, fakeEnv, env);
  try {
    await check();
  } finally {
    await stopped(restarted);
  }
}

/** Forgets which switches fired and their counts, so the next test's switch counts from zero. */
export async function resetKillSwitch(): Promise<void> {
  const { stateDir } = harness().podman;
  for (const name of await fs.readdir(stateDir)) {
    if (["killed", "hung"].includes(name) || /^(kill-on|kill-during|hang-on)-/.test(name)) {
      await fs.rm(path.join(stateDir, name));
    }
  }
}

/** The podman calls since `mark` (an index into the calls log) whose argv starts with `command`. */
export async function callsSince(mark: number, ...command: string[]): Promise<string[][]> {
  const calls = (await harness().podman.calls()).slice(mark);
  return calls.filter((argv) => command.every((word, i) => argv[i] === word));
}

export async function appContainers(appId: string) {
  return (await fakeContainers(harness().podman)).filter((c) => c.labels["tussilago.app"] === appId);
}

type FakeImage = { id: string; names: string[]; labels: Record<string, string> };

/** The fake podman's images, straight from its state file. */
export async function fakeImages(): Promise<FakeImage[]> {
  const text = await fs.readFile(path.join(harness().podman.stateDir, "state.json"), "utf8").catch(() => "");
  return text ? (JSON.parse(text) as { images: FakeImage[] }).images : [];
}

/** An app serving its first deployment with `replicas` containers, released in this process. */
export async function servingApp(replicas = REPLICAS) {
  const seeded = await seedApp({ replicas });
  const first = await seedBuiltDeployment(seeded.app);
  await releaseDeployment(testDeps(harness().caddy, { drainMs: 0 }), {
    deploymentId: first.deployment.id,
    operationId: first.operation.id,
  });
  return { ...seeded, first };
}

/** An app serving deployment #1, and deployment #2 built with its release queued, as deployment__build leaves it. */
export async function releaseQueued() {
  const { app, first } = await servingApp();
  const second = await seedBuiltDeployment(app);
  await getDb().$transaction((tx) =>
    enqueue(
      tx,
      "deployment__release",
      { deploymentId: second.deployment.id, operationId: second.operation.id },
      { queue: appQueue(app.id), jobKey: `release:${second.deployment.id}` },
    ),
  );
  return { app, first, second };
}

/** A first deployment of an app from an uploaded example, its build queued, as the API leaves it. */
export async function buildQueued() {
  const { app, ctx } = await seedApp({ replicas: REPLICAS });
  const tarball = path.join(harness().podman.stateDir, `${app.id}.tar.gz`);
  await promisify(execFile)("tar", ["-czf", tarball, "-C", "examples/wsgi-stdlib", "."]);
  const upload = await createUpload(
    getDb(),
    ctx,
    (async function* () {
      yield await fs.readFile(tarball);
    })(),
  );
  const created = await createDeployment(getDb(), ctx, app.id, { type: "upload", uploadId: upload.id });
  return { app, second: { deployment: created.deployment, operation: created.operation } };
}

/** Waits for an operation to end and returns it. */
export async function operationEnded(operationId: string) {
  return await waitFor("the operation to end", async () => {
    const row = await getDb().operation.findUniqueOrThrow({ where: { id: operationId } });
    return row.status === "succeeded" || row.status === "failed" ? row : undefined;
  });
}

/**
 * The app serves `deploymentId` and nothing else: exactly `replicas` running containers of it (none left of another
 * deployment), Caddy routing exactly those, one healthy replica row each, the app running it.
 */
export async function assertServing(appId: string, deploymentId: string, replicas = REPLICAS): Promise<void> {
  const { caddy } = harness();
  const containers = await waitFor("exactly the desired containers", async () => {
    const list = await appContainers(appId);
    return list.length === replicas ? list : undefined;
  });
  expect(containers.every((c) => c.state === "running")).toBe(true);
  expect(new Set(containers.map((c) => c.labels["tussilago.deployment"]))).toEqual(new Set([deploymentId]));
  const dials = containers.map((c) => `127.0.0.1:${c.ports[0]?.host_port}`).sort();
  expect(upstreamsOf(caddy.config, appId)).toEqual(dials);
  const rows = await getDb().replica.findMany({ where: { appId } });
  expect(rows.map((r) => [r.deploymentId, r.status])).toEqual(
    Array.from({ length: replicas }, () => [deploymentId, "healthy"]),
  );
  expect(await getDb().app.findUniqueOrThrow({ where: { id: appId } })).toMatchObject({
    status: "running",
    currentDeploymentId: deploymentId,
  });
}

/** The deployment's operation ended, the deployment running and served by exactly its replicas. */
export async function assertConverged(seeded: {
  app: { id: string };
  second: { deployment: { id: string }; operation: { id: string } };
}): Promise<void> {
  const { app, second } = seeded;
  await operationEnded(second.operation.id);
  const deployment = await getDb().deployment.findUniqueOrThrow({ where: { id: second.deployment.id } });
  // With its error in the message when it is not.
  expect({ status: deployment.status, error: deployment.error }).toEqual({ status: "running", error: null });
  await assertServing(app.id, second.deployment.id);
  // No build workspace left behind (the build removes it; a killed build's is removed by the next attempt).
  await expect(fs.stat(buildWorkspace(getEnv().dataDir, second.deployment.id))).rejects.toThrow();
}

/** Free loopback ports, for replicas that only answer once the test listens on them. */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    ports.push((server.address() as AddressInfo).port);
    await new Promise((resolve) => server.close(resolve));
  }
  return ports;
}

export type Serving = Awaited<ReturnType<typeof servingApp>>;

/** Stops the app in this process (its queued stop job then finds the operation done and does nothing). */
export async function stoppedApp(): Promise<Serving> {
  const seeded = await servingApp();
  const { operation } = await lifecycle.stopApp(getDb(), seeded.ctx, seeded.app.id);
  await runLifecycle(testDeps(harness().caddy, { drainMs: 0 }), {
    operationId: operation.id,
    appId: seeded.app.id,
    action: "stop",
  });
  expect(await appContainers(seeded.app.id)).toEqual([]);
  return seeded;
}

export type LifecycleCase = {
  label: string;
  killOn: string;
  seed: () => Promise<Serving>;
  request: (seeded: Serving) => Promise<LifecycleResult>;
  replicas: number;
};

/**
 * Requests the case's action, lets the fake podman kill the worker at `killOn`, and asserts a restarted worker
 * finishes it once: the operation succeeded, exactly the desired containers (none of the old ones after a restart,
 * only old ones after a scale down), routed, or none and no route when stopped.
 */
export async function assertLifecycleConverges(c: LifecycleCase): Promise<void> {
  const seeded = await c.seed();
  const appId = seeded.app.id;
  const before = new Set((await appContainers(appId)).map((container) => container.name));
  const { operation } = await c.request(seeded);
  await resetKillSwitch();
  const child = await startWorkerProcess(c.killOn);
  await killedByFake(child, c.killOn);
  expect((await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } })).status).toBe("running");

  await withWorker(async () => {
    const ended = await operationEnded(operation.id);
    expect({ status: ended.status, error: ended.error }).toEqual({ status: "succeeded", error: null });
    if (c.replicas === 0) {
      expect(await getDb().app.findUniqueOrThrow({ where: { id: appId } })).toMatchObject({ status: "stopped" });
      expect(await appContainers(appId)).toEqual([]);
      expect(upstreamsOf(harness().caddy.config, appId)).toEqual([]);
      expect(await getDb().replica.count({ where: { appId } })).toBe(0);
      return;
    }
    await assertServing(appId, seeded.first.deployment.id, c.replicas);
    const after = (await appContainers(appId)).map((container) => container.name);
    // A restart replaces every container; the others keep the ones still wanted.
    if (c.label.startsWith("restart")) expect(after.filter((name) => before.has(name))).toEqual([]);
    if (c.label.startsWith("scale down")) expect(after.every((name) => before.has(name))).toBe(true);
  });
}
