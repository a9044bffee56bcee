// The release of a built deployment against the real podman adapter driving the fake podman binary (which refuses
// `run` without the hardening flags), a fake Caddy admin API, and small HTTP servers answering health checks on the
// host ports the fake hands out. Time is virtual: sleeps (backoff, drain) advance an injected clock.
import fs from "node:fs/promises";
import path from "node:path";
import { type JobHelpers, runOnce } from "graphile-worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalog } from "@/jobs/catalog";
import { buildTaskList, wrapTask } from "@/jobs/runner";
import { deploymentRelease } from "@/jobs/tasks/deployment__release";
import { workerLogger } from "@/lib/database/migrate";
import { getDb } from "@/lib/db";
import { createDeployment } from "@/lib/domain/deployments";
import { createUpload } from "@/lib/domain/uploads";
import { deploymentLimitMs, expiryLimitsFromConfig } from "@/lib/engine/expire";
import { type ReleaseDeps, releaseDeployment } from "@/lib/engine/release";
import { getEnv, resetEnvForTests } from "@/lib/env";
import { AppError } from "@/lib/errors";
import type { App, Deployment, Operation } from "@/lib/generated/prisma/client";
import { createCaddyClient } from "@/lib/infra/caddy";
import { resetInfraForTests } from "@/lib/services/infra";
import { type FakeCaddy, startFakeCaddy } from "@/test/fake-caddy";
import { type FakePodman, installFakePodman } from "@/test/fake-podman/install";
import {
  fakeClock,
  fakeContainers,
  oneOffExits,
  type ReplicaServers,
  replicaServers,
  seedApp,
  seedBuiltDeployment,
  silentLog,
  testDeps,
  upstreamsOf,
} from "@/test/release-helpers";

const DRAIN_MS = 10_000;

let podman: FakePodman;
let caddy: FakeCaddy;
let servers: ReplicaServers;
let fakeEnv: Record<string, string> = oneOffExits(0);

beforeAll(async () => {
  podman = await installFakePodman();
  caddy = await startFakeCaddy();
  servers = replicaServers(podman, () => fakeEnv);
});

afterAll(async () => {
  await servers.close();
  await caddy.close();
  await podman.cleanup();
});

type Seeded = { deployment: Deployment; operation: Operation };

function input(seeded: Seeded) {
  return { deploymentId: seeded.deployment.id, operationId: seeded.operation.id };
}

function dials(ports: number[]): string[] {
  return ports.map((port) => `127.0.0.1:${port}`).sort();
}

async function containersOf(appId: string) {
  return (await fakeContainers(podman)).filter((c) => c.labels["tussilago.app"] === appId);
}

async function namesOf(appId: string): Promise<string[]> {
  return (await containersOf(appId)).map((c) => c.name).sort();
}

function hex(app: App): string {
  return app.id.replaceAll("-", "");
}

/** An app already serving deployment #1 on two replicas. */
async function runningApp(options: { replicas?: number } = {}) {
  const seeded = await seedApp({ replicas: options.replicas ?? 2 });
  const first = await seedBuiltDeployment(seeded.app);
  const ports = await servers.offer(options.replicas ?? 2);
  await releaseDeployment(testDeps(caddy, { drainMs: 0 }), input(first));
  expect((await getDb().deployment.findUniqueOrThrow({ where: { id: first.deployment.id } })).status).toBe("running");
  return { ...seeded, first, ports };
}

async function deploymentLog(deploymentId: string): Promise<string> {
  return await fs.readFile(path.join(getEnv().dataDir, "logs", "deployments", `${deploymentId}.log`), "utf8");
}

async function replicaRows(appId: string) {
  return await getDb().replica.findMany({ where: { appId }, orderBy: { index: "asc" } });
}

// Every fake podman call starts a node process: generous limits for machines under load.
describe("deployment__release", { timeout: 300_000 }, () => {
  it("runs the release command, starts hardened replicas, switches Caddy, then drains and removes the old ones", async () => {
    fakeEnv = oneOffExits(0);
    const { app, teamSlug } = await seedApp({ replicas: 2 });
    const first = await seedBuiltDeployment(app, { plan: { release: "python manage.py migrate --noinput" } });
    const ports1 = await servers.offer(2);
    await releaseDeployment(testDeps(caddy), input(first));

    const deployment = await getDb().deployment.findUniqueOrThrow({ where: { id: first.deployment.id } });
    expect(deployment).toMatchObject({ status: "running", error: null });
    expect(deployment.finishedAt).toBeInstanceOf(Date);
    const phases = deployment.phases as { name: string; status: string }[];
    expect(phases.find((phase) => phase.name === "releasing")).toMatchObject({ status: "succeeded" });
    expect(await getDb().operation.findUniqueOrThrow({ where: { id: first.operation.id } })).toMatchObject({
      status: "succeeded",
      error: null,
    });
    expect(await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).toMatchObject({
      status: "running",
      currentDeploymentId: first.deployment.id,
    });

    // Two replicas under deterministic names, labelled, with PORT; the one-off release container is gone.
    const containers = await containersOf(app.id);
    expect(containers.map((c) => c.name).sort()).toEqual([`tsl-${hex(app)}-1-0`, `tsl-${hex(app)}-1-1`]);
    for (const container of containers) {
      expect(container.state).toBe("running");
      expect(container.labels).toMatchObject({
        "tussilago.team": app.teamId,
        "tussilago.app": app.id,
        "tussilago.deployment": first.deployment.id,
        "tussilago.process": "web",
      });
      expect(container.env.PORT).toBe("8000");
    }
    const runs = (await podman.calls()).filter((argv) => argv.includes("run") && argv.join(" ").includes(hex(app)));
    expect(runs).toHaveLength(3);
    for (const argv of runs) {
      expect(argv).toEqual(
        expect.arrayContaining([
          "--cap-drop=all",
          "--security-opt=no-new-privileges",
          "--read-only",
          "--init",
          "--pull=never",
          "--network",
          `tsl-${app.teamId.replaceAll("-", "")}`,
        ]),
      );
    }
    const releaseRun = runs.find((argv) => argv.includes(`tsl-${hex(app)}-1-release`)) ?? [];
    expect(releaseRun.slice(-3)).toEqual(["/bin/sh", "-c", "python manage.py migrate --noinput"]);
    for (const argv of runs.filter((a) => a !== releaseRun)) {
      expect(argv).toEqual(expect.arrayContaining(["--publish", "127.0.0.1::8000/tcp"]));
    }

    // Rows and route match the containers; the probes asked for the app's own hostname.
    const rows = await replicaRows(app.id);
    expect(rows.map((row) => [row.index, row.status])).toEqual([
      [0, "healthy"],
      [1, "healthy"],
    ]);
    expect(rows.map((row) => row.hostPort).sort()).toEqual([...ports1].sort());
    expect(upstreamsOf(caddy.config, app.id)).toEqual(dials(ports1));
    expect(servers.requests(ports1[0] ?? 0)[0]).toEqual({ path: "/", host: `${app.name}-${teamSlug}.localhost` });

    const log = await fs.readFile(
      path.join(getEnv().dataDir, "logs", "deployments", `${first.deployment.id}.log`),
      "utf8",
    );
    expect(log).toContain("==> Running the release command: python manage.py migrate --noinput");
    expect(log).toContain("fake-podman: started /bin/sh -c python manage.py migrate --noinput");
    expect(log).toContain("==> Deployment #1 is live");

    // The next deployment replaces these, with traffic moved before the old containers stop.
    const second = await seedBuiltDeployment(app);
    const ports2 = await servers.offer(2);
    const atDrain: { names: string[]; upstreams: string[] }[] = [];
    const clock = fakeClock(async (ms) => {
      if (ms === DRAIN_MS) atDrain.push({ names: await namesOf(app.id), upstreams: upstreamsOf(caddy.config, app.id) });
    });
    await releaseDeployment(testDeps(caddy, { drainMs: DRAIN_MS, sleep: clock.sleep, now: clock.now }), input(second));
    expect(atDrain).toEqual([
      {
        names: [`tsl-${hex(app)}-1-0`, `tsl-${hex(app)}-1-1`, `tsl-${hex(app)}-2-0`, `tsl-${hex(app)}-2-1`],
        upstreams: dials(ports2),
      },
    ]);
    expect(await namesOf(app.id)).toEqual([`tsl-${hex(app)}-2-0`, `tsl-${hex(app)}-2-1`]);
    expect(upstreamsOf(caddy.config, app.id)).toEqual(dials(ports2));
    expect((await replicaRows(app.id)).map((row) => [row.deploymentId, row.status])).toEqual([
      [second.deployment.id, "healthy"],
      [second.deployment.id, "healthy"],
    ]);
    expect((await getDb().deployment.findUniqueOrThrow({ where: { id: first.deployment.id } })).status).toBe(
      "superseded",
    );
    expect(await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).toMatchObject({
      status: "running",
      currentDeploymentId: second.deployment.id,
    });
  });

  it("keeps the previous release serving when the new containers fail their health check", async () => {
    fakeEnv = oneOffExits(0);
    const { app, first, ports } = await runningApp();
    const configBefore = caddy.config;
    const loadsBefore = caddy.loads;
    const second = await seedBuiltDeployment(app);
    await servers.offer(2, 503);
    const clock = fakeClock();
    await releaseDeployment(testDeps(caddy, { sleep: clock.sleep, now: clock.now }), input(second));

    const failed = await getDb().deployment.findUniqueOrThrow({ where: { id: second.deployment.id } });
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(
      /^The new containers did not pass the health check: GET \/ got HTTP 503 within 60 seconds\. The previous release keeps serving\./,
    );
    // Container names and host ports are the platform's business (the output lines are the app's own).
    expect(failed.error).not.toContain(`tsl-${hex(app)}-2-`);
    expect(failed.error).not.toMatch(/127\.0\.0\.1|:\d{4,5}\b/);
    expect(await getDb().operation.findUniqueOrThrow({ where: { id: second.operation.id } })).toMatchObject({
      status: "failed",
      error: failed.error,
    });
    // The old release is untouched: its containers, rows, route, and the app's current deployment.
    expect(await namesOf(app.id)).toEqual([`tsl-${hex(app)}-1-0`, `tsl-${hex(app)}-1-1`]);
    expect((await replicaRows(app.id)).map((row) => [row.deploymentId, row.status, row.hostPort])).toEqual(
      // Replica i got the i-th offered port (the fake hands them out in order).
      ports.map((port) => [first.deployment.id, "healthy", port]),
    );
    expect(upstreamsOf(caddy.config, app.id)).toEqual(dials(ports));
    expect(caddy.config).toEqual(configBefore);
    expect(caddy.loads).toBe(loadsBefore);
    expect(await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).toMatchObject({
      status: "running",
      currentDeploymentId: first.deployment.id,
    });
    // Bounded exponential backoff until the deadline, starting fast (#19).
    expect(clock.sleeps.slice(0, 3)).toEqual([25, 50, 100]);
    expect(Math.max(...clock.sleeps)).toBe(5_000);
    expect(clock.sleeps.reduce((sum, ms) => sum + ms, 0)).toBe(60_000);
  });

  it("fails at once, with the app's output, when a new container exits before answering", async () => {
    fakeEnv = oneOffExits(0);
    const { app, first } = await runningApp();
    const second = await seedBuiltDeployment(app);
    fakeEnv = { RUN_EXIT_CODE: "1", RUN_EXIT_MATCH: "-2-[0-9]+$" };
    await servers.offer(2, null);
    const clock = fakeClock();
    await releaseDeployment(testDeps(caddy, { sleep: clock.sleep, now: clock.now }), input(second));
    fakeEnv = oneOffExits(0);
    const failed = await getDb().deployment.findUniqueOrThrow({ where: { id: second.deployment.id } });
    expect(failed.error).toMatch(/^Replica 1 of 2 stopped with exit code 1 before it passed its health check\./);
    expect(failed.error).toContain("The end of its output:\nfake-podman: started");
    expect(clock.sleeps).toEqual([]);
    expect(await namesOf(app.id)).toEqual([`tsl-${hex(app)}-1-0`, `tsl-${hex(app)}-1-1`]);
    expect((await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).currentDeploymentId).toBe(
      first.deployment.id,
    );
  });

  it("fails with the release command's output and starts nothing when it exits non-zero", async () => {
    fakeEnv = oneOffExits(0);
    const { app, ports } = await runningApp();
    const second = await seedBuiltDeployment(app, { plan: { release: "./migrate.sh" } });
    fakeEnv = oneOffExits(3);
    await servers.offer(2);
    await releaseDeployment(testDeps(caddy), input(second));
    fakeEnv = oneOffExits(0);
    const failed = await getDb().deployment.findUniqueOrThrow({ where: { id: second.deployment.id } });
    expect(failed.status).toBe("failed");
    expect(failed.error).toBe(
      "The release command failed with exit code 3. The end of its output:\nfake-podman: started /bin/sh -c ./migrate.sh\nfake-podman: listening on 0 published port(s)",
    );
    expect(await namesOf(app.id)).toEqual([`tsl-${hex(app)}-1-0`, `tsl-${hex(app)}-1-1`]);
    expect(upstreamsOf(caddy.config, app.id)).toEqual(dials(ports));
    // The log shows the command's output once; its failure line is the summary only (#18: it printed it twice).
    const log = await deploymentLog(second.deployment.id);
    expect(log.split("fake-podman: started /bin/sh -c ./migrate.sh").length - 1).toBe(1);
    expect(log).toContain("==> Failed: The release command failed with exit code 3.\n");
  });

  it("marks a first deployment's app failed when its release fails, with no route for it", async () => {
    fakeEnv = oneOffExits(0);
    const { app } = await seedApp({ replicas: 1 });
    const first = await seedBuiltDeployment(app);
    await servers.offer(1, 500);
    const clock = fakeClock();
    await releaseDeployment(testDeps(caddy, { sleep: clock.sleep, now: clock.now }), input(first));
    expect((await getDb().deployment.findUniqueOrThrow({ where: { id: first.deployment.id } })).error).toMatch(
      /got HTTP 500 within 60 seconds\. Nothing was switched\./,
    );
    expect(await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).toMatchObject({
      status: "failed",
      currentDeploymentId: null,
    });
    expect(await namesOf(app.id)).toEqual([]);
    expect(await replicaRows(app.id)).toEqual([]);
  });

  it("retries Caddy in the attempt, fails on a rejected config, and leaves a Caddy outage to the job's retry", async () => {
    fakeEnv = oneOffExits(0);
    const { app, ports } = await runningApp();

    // Two failures, then Caddy answers: the release goes through.
    const second = await seedBuiltDeployment(app);
    const ports2 = await servers.offer(2);
    caddy.failNext(2, 503);
    const clock = fakeClock();
    await releaseDeployment(testDeps(caddy, { sleep: clock.sleep, now: clock.now, drainMs: 0 }), input(second));
    expect((await getDb().deployment.findUniqueOrThrow({ where: { id: second.deployment.id } })).status).toBe(
      "running",
    );
    expect(clock.sleeps).toHaveLength(2);
    expect(upstreamsOf(caddy.config, app.id)).toEqual(dials(ports2));
    expect(ports2).not.toEqual(ports);

    // Caddy refuses our config (a 4xx): another attempt cannot help. The switch is rolled back, the new containers
    // go, the deployment fails with a reason.
    const third = await seedBuiltDeployment(app);
    await servers.offer(2);
    caddy.failNext(1, 400);
    await releaseDeployment(testDeps(caddy, { drainMs: 0 }), input(third));
    const failed = await getDb().deployment.findUniqueOrThrow({ where: { id: third.deployment.id } });
    expect(failed).toMatchObject({
      status: "failed",
      error:
        "The router (Caddy) rejected the configuration. Traffic was not switched. The previous release keeps serving.",
    });
    expect(await namesOf(app.id)).toEqual([`tsl-${hex(app)}-2-0`, `tsl-${hex(app)}-2-1`]);
    expect((await replicaRows(app.id)).every((row) => row.deploymentId === second.deployment.id)).toBe(true);
    expect(upstreamsOf(caddy.config, app.id)).toEqual(dials(ports2));
    expect((await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).currentDeploymentId).toBe(
      second.deployment.id,
    );

    // Caddy erroring (5xx) or not answering past the attempt's own backoff: the attempt fails retryably, the
    // deployment stays releasing with a note, its healthy containers stay up and traffic stays where it was; the
    // job's next attempt, with Caddy answering again, converges.
    let live = { deployment: second.deployment, ports: ports2 };
    for (const outage of ["server_error", "timeout"] as const) {
      const next = await seedBuiltDeployment(app);
      const n = next.deployment.number;
      const nextPorts = await servers.offer(2);
      if (outage === "timeout") caddy.hangNext(3);
      else caddy.failNext(3, 500);
      const error: unknown = await releaseDeployment(
        testDeps(caddy, { drainMs: 0, caddy: createCaddyClient({ adminEndpoint: caddy.url, timeoutMs: 200 }) }),
        input(next),
      ).then(
        () => null,
        (thrown: unknown) => thrown,
      );
      expect(error, outage).toBeInstanceOf(AppError);
      expect(error, outage).toMatchObject({
        retryable: true,
        message: `${outage === "timeout" ? "The router (Caddy) did not answer in time." : "The router (Caddy) reported an internal error."} Traffic was not switched. The previous release keeps serving.`,
      });
      expect(await getDb().deployment.findUniqueOrThrow({ where: { id: next.deployment.id } }), outage).toMatchObject({
        status: "releasing",
        error: null,
      });
      expect((await getDb().operation.findUniqueOrThrow({ where: { id: next.operation.id } })).status).toBe("running");
      expect(await deploymentLog(next.deployment.id)).toContain(
        "==> Waiting for the proxy (Caddy) to come back; retrying",
      );
      const liveNumber = live.deployment.number;
      expect((await containersOf(app.id)).map((c) => [c.name, c.state]).sort(), outage).toEqual([
        [`tsl-${hex(app)}-${liveNumber}-0`, "running"],
        [`tsl-${hex(app)}-${liveNumber}-1`, "running"],
        [`tsl-${hex(app)}-${n}-0`, "running"],
        [`tsl-${hex(app)}-${n}-1`, "running"],
      ]);
      expect(upstreamsOf(caddy.config, app.id), outage).toEqual(dials(live.ports));
      expect((await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).currentDeploymentId).toBe(
        live.deployment.id,
      );

      await releaseDeployment(testDeps(caddy, { drainMs: 0 }), input(next));
      expect((await getDb().deployment.findUniqueOrThrow({ where: { id: next.deployment.id } })).status).toBe(
        "running",
      );
      expect((await getDb().operation.findUniqueOrThrow({ where: { id: next.operation.id } })).status).toBe(
        "succeeded",
      );
      expect(await namesOf(app.id), outage).toEqual([`tsl-${hex(app)}-${n}-0`, `tsl-${hex(app)}-${n}-1`]);
      expect(upstreamsOf(caddy.config, app.id), outage).toEqual(dials(nextPorts));
      live = { deployment: next.deployment, ports: nextPorts };
    }
  });

  it("converges after a crash between any two steps, with no duplicate container", async () => {
    fakeEnv = oneOffExits(0);
    // One app throughout: each round deploys its next number over the previous round's release.
    const { app } = await runningApp();
    const steps: string[] = [];
    const reference = await seedBuiltDeployment(app, { plan: { release: "true" } });
    await servers.offer(2);
    await releaseDeployment(
      testDeps(caddy, { drainMs: 0, checkpoint: (name) => void steps.push(name) }),
      input(reference),
    );
    expect(steps).toEqual([
      "releasing",
      "network",
      "release_command:exited",
      "release_command",
      "plan",
      "start:0",
      "start:1",
      "health",
      "switch:applied",
      "switch",
      "drain:waited",
      "drain:removed",
      "drain:removed",
    ]);

    let previous = reference.deployment;
    for (const crashAt of [...new Set(steps)]) {
      const next = await seedBuiltDeployment(app, { plan: { release: "true" } });
      const n = next.deployment.number;
      const ports = await servers.offer(2);
      let crashed = false;
      const crashing: ReleaseDeps = testDeps(caddy, {
        drainMs: 0,
        checkpoint: (name) => {
          if (name === crashAt && !crashed) {
            crashed = true;
            throw new Error(`worker died after ${name}`);
          }
        },
      });
      await expect(releaseDeployment(crashing, input(next)), crashAt).rejects.toThrow("worker died");
      // The retry, as graphile-worker would run it.
      await releaseDeployment(testDeps(caddy, { drainMs: 0 }), input(next));

      expect((await getDb().deployment.findUniqueOrThrow({ where: { id: next.deployment.id } })).status, crashAt).toBe(
        "running",
      );
      expect((await getDb().operation.findUniqueOrThrow({ where: { id: next.operation.id } })).status, crashAt).toBe(
        "succeeded",
      );
      expect((await getDb().deployment.findUniqueOrThrow({ where: { id: previous.id } })).status, crashAt).toBe(
        "superseded",
      );
      const containers = await containersOf(app.id);
      expect(
        containers.map((c) => [c.name, c.state]),
        crashAt,
      ).toEqual([
        [`tsl-${hex(app)}-${n}-0`, "running"],
        [`tsl-${hex(app)}-${n}-1`, "running"],
      ]);
      expect(
        (await replicaRows(app.id)).map((r) => [r.containerName, r.status]),
        crashAt,
      ).toEqual([
        [`tsl-${hex(app)}-${n}-0`, "healthy"],
        [`tsl-${hex(app)}-${n}-1`, "healthy"],
      ]);
      expect(upstreamsOf(caddy.config, app.id), crashAt).toEqual(dials(ports));
      // The release command ran once: the retry found its exited container instead of running it again.
      const releaseRuns = (await podman.calls()).filter(
        (argv) => argv.includes("run") && argv.includes(`tsl-${hex(app)}-${n}-release`),
      );
      expect(releaseRuns, crashAt).toHaveLength(1);
      previous = next.deployment;
    }
  }, 900_000);
});

describe("giving up", { timeout: 300_000 }, () => {
  it("fails the deployment with podman's reason after the last attempt and removes what it started", async () => {
    fakeEnv = oneOffExits(0);
    const { app, first, ports } = await runningApp();
    const second = await seedBuiltDeployment(app);
    process.env.TUSSILAGO_CADDY_ADMIN = caddy.url;
    resetEnvForTests();
    resetInfraForTests();
    try {
      // Replicas' `run` fails the way a broken podman does; the attempt leaves its planned rows behind.
      await podman.configure({ ...oneOffExits(0), FAIL_RUN: "125" });
      const task = wrapTask(deploymentRelease, { db: getDb(), log: silentLog, workerId: "test" });
      const lastAttempt = { job: { id: "7", attempts: 3, max_attempts: 3 } } as unknown as JobHelpers;
      await expect(task(input(second), lastAttempt)).rejects.toThrow("The container engine reported an error.");
    } finally {
      delete process.env.TUSSILAGO_CADDY_ADMIN;
      resetEnvForTests();
      resetInfraForTests();
      await podman.configure(fakeEnv);
    }
    expect(await getDb().deployment.findUniqueOrThrow({ where: { id: second.deployment.id } })).toMatchObject({
      status: "failed",
      error: "The container engine reported an error. Several attempts failed; nothing was switched.",
    });
    expect((await getDb().operation.findUniqueOrThrow({ where: { id: second.operation.id } })).status).toBe("failed");
    expect((await replicaRows(app.id)).map((row) => [row.deploymentId, row.status])).toEqual([
      [first.deployment.id, "healthy"],
      [first.deployment.id, "healthy"],
    ]);
    expect(await namesOf(app.id)).toEqual([`tsl-${hex(app)}-1-0`, `tsl-${hex(app)}-1-1`]);
    expect(upstreamsOf(caddy.config, app.id)).toEqual(dials(ports));
  });
});

describe("Caddy down for longer than an attempt's backoff", { timeout: 300_000 }, () => {
  /** The task as graphile-worker runs it, at attempt `n` of the catalog's budget: what it threw, or null. */
  async function attempt(seeded: Seeded, n: number): Promise<unknown> {
    const task = wrapTask(deploymentRelease, { db: getDb(), log: silentLog, workerId: "test" });
    const helpers = {
      job: { id: "21", attempts: n, max_attempts: catalog.deployment__release.maxAttempts },
    } as unknown as JobHelpers;
    try {
      await task(input(seeded), helpers);
      return null;
    } catch (thrown) {
      return thrown;
    }
  }

  async function withTaskEnv(body: () => Promise<void>): Promise<void> {
    process.env.TUSSILAGO_CADDY_ADMIN = caddy.url;
    process.env.TUSSILAGO_DRAIN_SECONDS = "0";
    resetEnvForTests();
    resetInfraForTests();
    try {
      await body();
    } finally {
      delete process.env.TUSSILAGO_CADDY_ADMIN;
      delete process.env.TUSSILAGO_DRAIN_SECONDS;
      resetEnvForTests();
      resetInfraForTests();
    }
  }

  /** Closes the fake Caddy (connections refused); the returned function brings one back on the same address. */
  async function caddyDown(): Promise<() => Promise<void>> {
    const port = Number(new URL(caddy.url).port);
    await caddy.close();
    return async () => {
      // A Caddy coming back after a restart: no config until the platform loads one.
      caddy = await startFakeCaddy({ port });
    };
  }

  it("leaves a releasing deployment within its time limit while the job waits for its last attempt", () => {
    const limits = expiryLimitsFromConfig({
      buildTimeoutMs: 1_800_000,
      releaseCommandTimeoutMs: 600_000,
      healthTimeoutMs: 120_000,
      drainMs: 30_000,
    });
    // graphile-worker's wait before attempt n + 1 is exp(min(n, 10)) seconds; each attempt records its start.
    const longestWaitMs = Math.exp(Math.min(catalog.deployment__release.maxAttempts - 1, 10)) * 1000;
    expect(deploymentLimitMs("releasing", limits)).toBeGreaterThan(limits.releaseMs + longestWaitMs + 60_000);
  });

  it("keeps the deployment releasing while Caddy is down, then the job's next attempt converges", async () => {
    fakeEnv = oneOffExits(0);
    const { app, first, ports } = await runningApp();
    const second = await seedBuiltDeployment(app);
    const ports2 = await servers.offer(2);
    await withTaskEnv(async () => {
      const caddyUp = await caddyDown();
      let error: unknown;
      try {
        // The attempt's own backoff (CADDY_RELEASE_RETRY, about 15 s) runs out while Caddy stays down.
        error = await attempt(second, 1);
      } finally {
        await caddyUp();
      }
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({
        retryable: true,
        message: "The router (Caddy) is not reachable. Traffic was not switched. The previous release keeps serving.",
      });
      expect(await getDb().deployment.findUniqueOrThrow({ where: { id: second.deployment.id } })).toMatchObject({
        status: "releasing",
        error: null,
      });
      expect((await getDb().operation.findUniqueOrThrow({ where: { id: second.operation.id } })).status).toBe(
        "running",
      );
      expect(await deploymentLog(second.deployment.id)).toContain(
        "==> Waiting for the proxy (Caddy) to come back; retrying",
      );
      // The new containers stay up and unrouted; the database still routes the previous release.
      expect((await containersOf(app.id)).map((c) => [c.name, c.state]).sort()).toEqual([
        [`tsl-${hex(app)}-1-0`, "running"],
        [`tsl-${hex(app)}-1-1`, "running"],
        [`tsl-${hex(app)}-2-0`, "running"],
        [`tsl-${hex(app)}-2-1`, "running"],
      ]);
      expect((await replicaRows(app.id)).map((row) => [row.deploymentId, row.status])).toEqual(
        expect.arrayContaining([
          [first.deployment.id, "healthy"],
          [second.deployment.id, "starting"],
        ]),
      );
      expect((await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).currentDeploymentId).toBe(
        first.deployment.id,
      );

      // Caddy is back (empty, as after a restart): the next attempt switches and loads every route.
      expect(await attempt(second, 2)).toBeNull();
    });
    expect(await getDb().deployment.findUniqueOrThrow({ where: { id: second.deployment.id } })).toMatchObject({
      status: "running",
      error: null,
    });
    expect((await getDb().operation.findUniqueOrThrow({ where: { id: second.operation.id } })).status).toBe(
      "succeeded",
    );
    expect(await namesOf(app.id)).toEqual([`tsl-${hex(app)}-2-0`, `tsl-${hex(app)}-2-1`]);
    expect(upstreamsOf(caddy.config, app.id)).toEqual(dials(ports2));
    expect(ports2).not.toEqual(ports);
  });

  it("gives up at the job's last attempt with a readable reason, and the previous release keeps serving", async () => {
    fakeEnv = oneOffExits(0);
    const { app, first } = await runningApp();
    const second = await seedBuiltDeployment(app);
    await servers.offer(2);
    await withTaskEnv(async () => {
      const caddyUp = await caddyDown();
      try {
        expect(await attempt(second, catalog.deployment__release.maxAttempts)).toMatchObject({ retryable: true });
      } finally {
        await caddyUp();
      }
    });
    expect(await getDb().deployment.findUniqueOrThrow({ where: { id: second.deployment.id } })).toMatchObject({
      status: "failed",
      error: "The router (Caddy) is not reachable. Traffic was not switched. The previous release keeps serving.",
    });
    expect((await getDb().operation.findUniqueOrThrow({ where: { id: second.operation.id } })).status).toBe("failed");
    expect(await namesOf(app.id)).toEqual([`tsl-${hex(app)}-1-0`, `tsl-${hex(app)}-1-1`]);
    expect((await replicaRows(app.id)).map((row) => [row.deploymentId, row.status])).toEqual([
      [first.deployment.id, "healthy"],
      [first.deployment.id, "healthy"],
    ]);
    expect((await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).currentDeploymentId).toBe(
      first.deployment.id,
    );
  });
});

describe("build then release, through the queue", { timeout: 300_000 }, () => {
  it("builds an uploaded example, releases it and finishes the one operation", async () => {
    fakeEnv = oneOffExits(0);
    process.env.TUSSILAGO_CADDY_ADMIN = caddy.url;
    process.env.TUSSILAGO_DRAIN_SECONDS = "0";
    resetEnvForTests();
    resetInfraForTests();
    try {
      const { ctx, app } = await seedApp({ replicas: 1 });
      const { execFile } = await import("node:child_process");
      const { promisify } = await import("node:util");
      const tarball = path.join(getEnv().dataDir, `example-${app.id}.tar.gz`);
      await promisify(execFile)("tar", ["-czf", tarball, "-C", "examples/wsgi-stdlib", "."]);
      const bytes = await fs.readFile(tarball);
      const upload = await createUpload(
        getDb(),
        ctx,
        (async function* () {
          yield bytes;
        })(),
      );
      const ports = await servers.offer(1);
      const { deployment, operation } = await createDeployment(getDb(), ctx, app.id, {
        type: "upload",
        uploadId: upload.id,
      });
      // Two passes: the build queues the release, which runs in the app's queue.
      for (let pass = 0; pass < 2; pass += 1) {
        await runOnce(
          { connectionString: getEnv().databaseDirectUrl, logger: workerLogger(silentLog) },
          buildTaskList({ db: getDb(), log: silentLog, workerId: "test" }),
        );
      }
      const row = await getDb().deployment.findUniqueOrThrow({ where: { id: deployment.id } });
      expect(row.status).toBe("running");
      expect((row.phases as { name: string; status: string }[]).map((phase) => phase.status)).toEqual([
        "succeeded",
        "succeeded",
        "succeeded",
        "succeeded",
        "succeeded",
      ]);
      expect(await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } })).toMatchObject({
        status: "succeeded",
        kind: "app.deploy",
      });
      expect(await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).toMatchObject({ status: "running" });
      expect(upstreamsOf(caddy.config, app.id)).toEqual(dials(ports));
      const log = await fs.readFile(path.join(getEnv().dataDir, "logs", "deployments", `${deployment.id}.log`), "utf8");
      expect(log.indexOf("==> Built")).toBeLessThan(log.indexOf("==> Releasing"));
      expect(log).toContain("==> Deployment #1 is live");
    } finally {
      delete process.env.TUSSILAGO_CADDY_ADMIN;
      delete process.env.TUSSILAGO_DRAIN_SECONDS;
      resetEnvForTests();
      resetInfraForTests();
    }
  });
});
