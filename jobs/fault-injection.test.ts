// Fault injection: the real worker (jobs/worker.ts) runs as a child process against this file's database, the fake
// podman and the fake Caddy, and is killed with SIGKILL at a step of a release; a new worker must then converge
// without help: the deployment final, one container per desired replica, the new release routed, the old one gone.
// The fake podman's kill switch (FAKE_PODMAN_KILL_ON) kills the worker right after a given podman call.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import fs from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { makeWorkerUtils, type WorkerUtils } from "graphile-worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueue } from "@/jobs/enqueue";
import { appQueue } from "@/jobs/queues";
import { unlockStaleWorkers } from "@/jobs/unlock-stale";
import { deploymentLogPath } from "@/lib/data-paths";
import { workerLogger } from "@/lib/database/migrate";
import { getDb } from "@/lib/db";
import { createDeployment } from "@/lib/domain/deployments";
import { createUpload } from "@/lib/domain/uploads";
import { releaseDeployment } from "@/lib/engine/release";
import { getEnv } from "@/lib/env";
import { getInfra } from "@/lib/services/infra";
import { type FakeCaddy, startFakeCaddy } from "@/test/fake-caddy";
import { type FakePodman, installFakePodman } from "@/test/fake-podman/install";
import { fakeContainers, seedApp, seedBuiltDeployment, silentLog, testDeps, upstreamsOf } from "@/test/release-helpers";

const REPLICAS = 2;
const WAIT_MS = 90_000;

let podman: FakePodman;
let caddy: FakeCaddy;
let utils: WorkerUtils;

beforeAll(async () => {
  podman = await installFakePodman();
  await fs.mkdir(podman.stateDir, { recursive: true });
  // Containers answer HTTP themselves: the worker in its own process runs real health checks against them.
  await fs.writeFile(path.join(podman.stateDir, "serve-http"), "");
  caddy = await startFakeCaddy();
  utils = await makeWorkerUtils({
    connectionString: getEnv().databaseDirectUrl ?? "",
    logger: workerLogger(silentLog),
  });
});

afterAll(async () => {
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
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

type Child = { process: ChildProcess; exited: Promise<NodeJS.Signals | number | null> };

/** The real worker entry point in its own process, as `npm run worker` starts it. */
async function startWorkerProcess(killOn?: string, fakeEnv: Record<string, string> = {}): Promise<Child> {
  await podman.configure(killOn ? { ...fakeEnv, KILL_ON: killOn } : fakeEnv);
  const child = spawn(process.execPath, ["--import", "tsx", "jobs/worker.ts"], {
    cwd: path.resolve(import.meta.dirname, ".."),
    env: {
      ...process.env,
      TUSSILAGO_PODMAN_PATH: podman.path,
      TUSSILAGO_CADDY_ADMIN: caddy.url,
      TUSSILAGO_DRAIN_SECONDS: "1",
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once("exit", (code, signal) => resolve(signal ?? code)),
  );
  return { process: child, exited };
}

/** Kills a worker that is still running; a killed one's locks are released as a restarted worker would. */
async function crashed(child: Child): Promise<void> {
  if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill("SIGKILL");
  expect(await child.exited).toBe("SIGKILL");
  // jobs/unlock-stale.ts with no grace: no other worker runs, so every lock holder is the dead one.
  await unlockStaleWorkers({ db: getDb(), utils, log: silentLog, staleAfterMs: 0 });
}

async function stopped(child: Child): Promise<void> {
  child.process.kill("SIGTERM");
  await child.exited;
}

async function resetKillSwitch() {
  for (const name of await fs.readdir(podman.stateDir)) {
    if (name === "killed" || name.startsWith("kill-on-")) await fs.rm(path.join(podman.stateDir, name));
  }
}

/** An app serving deployment #1, and deployment #2 built with its release queued, as deployment__build leaves it. */
async function releaseQueued() {
  const { app } = await seedApp({ replicas: REPLICAS });
  const first = await seedBuiltDeployment(app);
  await releaseDeployment(testDeps(caddy, { drainMs: 0 }), {
    deploymentId: first.deployment.id,
    operationId: first.operation.id,
  });
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
async function buildQueued() {
  const { app, ctx } = await seedApp({ replicas: REPLICAS });
  const tarball = path.join(podman.stateDir, `${app.id}.tar.gz`);
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

async function assertConverged(seeded: {
  app: { id: string };
  second: { deployment: { id: string }; operation: { id: string } };
}) {
  const { app, second } = seeded;
  const mine = async () => (await fakeContainers(podman)).filter((c) => c.labels["tussilago.app"] === app.id);
  const deployment = await waitFor("the deployment to end", async () => {
    const row = await getDb().deployment.findUniqueOrThrow({ where: { id: second.deployment.id } });
    const operation = await getDb().operation.findUniqueOrThrow({ where: { id: second.operation.id } });
    return operation.status === "succeeded" || operation.status === "failed" ? row : undefined;
  });
  // With its error in the message when it is not.
  expect({ status: deployment.status, error: deployment.error }).toEqual({ status: "running", error: null });
  // The drain finished: only the new release's containers are left, one per replica, all running.
  const containers = await waitFor("the old containers to go", async () => {
    const list = await mine();
    return list.length === REPLICAS ? list : undefined;
  });
  expect(containers.every((c) => c.state === "running")).toBe(true);
  expect(new Set(containers.map((c) => c.labels["tussilago.deployment"]))).toEqual(new Set([second.deployment.id]));
  const dials = containers.map((c) => `127.0.0.1:${c.ports[0]?.host_port}`).sort();
  expect(upstreamsOf(caddy.config, app.id)).toEqual(dials);
  const replicas = await getDb().replica.findMany({ where: { appId: app.id } });
  expect(replicas.map((r) => [r.deploymentId, r.status])).toEqual(
    Array.from({ length: REPLICAS }, () => [second.deployment.id, "healthy"]),
  );
  expect(await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).toMatchObject({
    status: "running",
    currentDeploymentId: second.deployment.id,
  });
}

describe("a worker killed during a release", { timeout: 300_000 }, () => {
  // <podman command>:<n>: the worker dies right after the n-th such call of the release.
  it.each([
    ["after the first new replica started", "RUN:1"],
    ["after every new replica started, before the health check and the switch", "RUN:2"],
    ["during the drain, after the first old container was removed", "RM:1"],
  ])("converges when killed %s", async (_label, killOn) => {
    const seeded = await releaseQueued();
    await resetKillSwitch();
    const child = await startWorkerProcess(killOn);
    // The fake podman kills it: wait for that rather than killing it here.
    await child.exited;
    await crashed(child);
    expect(await fs.readFile(path.join(podman.stateDir, "killed"), "utf8")).toContain(killOn);

    const restarted = await startWorkerProcess();
    try {
      await assertConverged(seeded);
    } finally {
      await stopped(restarted);
    }
  });

  it("converges when killed after the Caddy switch, while the old release drains", async () => {
    const seeded = await releaseQueued();
    await resetKillSwitch();
    const child = await startWorkerProcess();
    // The switch commits the deployment as running together with the route; the drain waits a second after it.
    await waitFor("the switch", async () => {
      const row = await getDb().deployment.findUniqueOrThrow({ where: { id: seeded.second.deployment.id } });
      return row.status === "running" ? true : undefined;
    });
    await crashed(child);
    const oldLeft = (await fakeContainers(podman)).filter(
      (c) => c.labels["tussilago.deployment"] === seeded.first.deployment.id,
    );
    expect(oldLeft.length).toBe(REPLICAS);

    const restarted = await startWorkerProcess();
    try {
      await assertConverged(seeded);
    } finally {
      await stopped(restarted);
    }
  });
});

/** Free loopback ports, for replicas that only answer once the test listens on them. */
async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    ports.push((server.address() as AddressInfo).port);
    await new Promise((resolve) => server.close(resolve));
  }
  return ports;
}

describe("a worker killed between the health check and the committed switch", { timeout: 300_000 }, () => {
  it("converges when killed while its Caddy switch is in flight", async () => {
    const seeded = await releaseQueued();
    await resetKillSwitch();
    // The new replicas get ports nobody listens on yet, so the release waits in its health check until the test
    // is ready to hold the switch.
    await fs.rm(path.join(podman.stateDir, "serve-http"));
    const ports = await freePorts(REPLICAS);
    const fakeEnv = { HOST_PORTS: ports.join(",") };
    const child = await startWorkerProcess(undefined, fakeEnv);
    const servers: Server[] = [];
    try {
      await waitFor("the new replicas", async () => {
        const mine = (await fakeContainers(podman)).filter(
          (c) => c.labels["tussilago.deployment"] === seeded.second.deployment.id,
        );
        return mine.length === REPLICAS ? true : undefined;
      });
      // The next Caddy request (the switch) never gets an answer; the health check passes once the ports answer.
      const mark = caddy.requests.length;
      caddy.hangNext(1);
      for (const port of ports) {
        const server = createServer((_req, res) => res.end("ok\n"));
        await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
        servers.push(server);
      }
      const logFile = deploymentLogPath(getEnv().dataDir, seeded.second.deployment.id);
      await waitFor("the switch to be in flight", async () => {
        const text = await fs.readFile(logFile, "utf8").catch(() => "");
        return text.includes("Health check passed") && caddy.requests.length > mark ? true : undefined;
      });
      await crashed(child);
      // Killed before the switch committed: the database still has the old release live.
      expect((await getDb().deployment.findUniqueOrThrow({ where: { id: seeded.second.deployment.id } })).status).toBe(
        "releasing",
      );

      const restarted = await startWorkerProcess(undefined, fakeEnv);
      try {
        await assertConverged(seeded);
      } finally {
        await stopped(restarted);
      }
    } finally {
      await fs.writeFile(path.join(podman.stateDir, "serve-http"), "");
      for (const server of servers) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    }
  });
});

describe("a worker killed during a build", { timeout: 300_000 }, () => {
  it("converges when killed after the image was built, before the build was recorded", async () => {
    const seeded = await buildQueued();
    await resetKillSwitch();
    const child = await startWorkerProcess("BUILD:1");
    await child.exited;
    await crashed(child);
    expect((await getDb().deployment.findUniqueOrThrow({ where: { id: seeded.second.deployment.id } })).status).toBe(
      "building",
    );

    const restarted = await startWorkerProcess();
    try {
      await assertConverged(seeded);
    } finally {
      await stopped(restarted);
    }
  });
});
