// start, stop, restart, rollback and scale through the worker (graphile-worker's runOnce, the real task list) against
// the fake podman, a fake Caddy and HTTP servers answering the health checks; app deletion's route removal too.
import { runOnce } from "graphile-worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTaskList } from "@/jobs/runner";
import { workerLogger } from "@/lib/database/migrate";
import { getDb } from "@/lib/db";
import { deleteApp } from "@/lib/domain/apps";
import { setEnvVars } from "@/lib/domain/env-vars";
import { restartApp, rollbackApp, scaleApp, startApp, stopApp } from "@/lib/domain/lifecycle";
import { type LifecycleInput, releaseDeployment, runLifecycle } from "@/lib/engine/release";
import { getEnv, resetEnvForTests } from "@/lib/env";
import type { App } from "@/lib/generated/prisma/client";
import { getInfra, resetInfraForTests } from "@/lib/services/infra";
import { type FakeCaddy, startFakeCaddy } from "@/test/fake-caddy";
import { type FakePodman, installFakePodman } from "@/test/fake-podman/install";
import { pendingJobs } from "@/test/helpers";
import {
  fakeClock,
  fakeContainers,
  oneOffExits,
  type ReplicaServers,
  replicaServers,
  routeHandlerOf,
  seedApp,
  seedBuiltDeployment,
  silentLog,
  testDeps,
  upstreamsOf,
} from "@/test/release-helpers";

let podman: FakePodman;
let caddy: FakeCaddy;
let servers: ReplicaServers;

beforeAll(async () => {
  podman = await installFakePodman();
  caddy = await startFakeCaddy();
  servers = replicaServers(podman, () => oneOffExits(0));
  // The tasks build their dependencies from configuration: this file's Caddy, and no drain wait.
  process.env.TUSSILAGO_CADDY_ADMIN = caddy.url;
  process.env.TUSSILAGO_DRAIN_SECONDS = "0";
  resetEnvForTests();
  resetInfraForTests();
});

afterAll(async () => {
  delete process.env.TUSSILAGO_CADDY_ADMIN;
  delete process.env.TUSSILAGO_DRAIN_SECONDS;
  await servers.close();
  await caddy.close();
  await podman.cleanup();
});

async function runJobs(): Promise<void> {
  await runOnce(
    { connectionString: getEnv().databaseDirectUrl, logger: workerLogger(silentLog) },
    buildTaskList({ db: getDb(), log: silentLog, workerId: "test" }),
  );
}

function hex(app: App): string {
  return app.id.replaceAll("-", "");
}

function dials(ports: number[]): string[] {
  return ports.map((port) => `127.0.0.1:${port}`).sort();
}

async function containersOf(appId: string) {
  return (await fakeContainers(podman))
    .filter((c) => c.labels["tussilago.app"] === appId)
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

async function operationOf(id: string) {
  return await getDb().operation.findUniqueOrThrow({ where: { id } });
}

async function runningApp(replicas = 2) {
  const seeded = await seedApp({ replicas });
  const first = await seedBuiltDeployment(seeded.app);
  const ports = await servers.offer(replicas);
  await releaseDeployment(testDeps(caddy, { drainMs: 0 }), {
    deploymentId: first.deployment.id,
    operationId: first.operation.id,
  });
  return { ...seeded, first, ports };
}

async function lifecyclePayload(operationId: string): Promise<LifecycleInput> {
  const job = (await pendingJobs("app__lifecycle")).find(
    (candidate) => (candidate.payload as LifecycleInput).operationId === operationId,
  );
  if (!job) throw new Error("no pending app__lifecycle job for the operation");
  return job.payload as LifecycleInput;
}

describe("app__lifecycle", { timeout: 300_000 }, () => {
  it("rolls back to an earlier deployment's image without building anything", async () => {
    const { ctx, app, first } = await runningApp();
    const second = await seedBuiltDeployment(app);
    await servers.offer(2);
    await releaseDeployment(testDeps(caddy, { drainMs: 0 }), {
      deploymentId: second.deployment.id,
      operationId: second.operation.id,
    });
    const callsBefore = (await podman.calls()).length;

    const ports = await servers.offer(2);
    const { operation } = await rollbackApp(getDb(), ctx, app.id, { deploymentId: first.deployment.id });
    expect(operation).toMatchObject({ kind: "app.rollback", status: "queued", targetId: app.id });
    expect(await lifecyclePayload(operation.id)).toEqual({
      operationId: operation.id,
      appId: app.id,
      action: "rollback",
      deploymentId: first.deployment.id,
    });
    await runJobs();

    expect(await operationOf(operation.id)).toMatchObject({ status: "succeeded", error: null });
    expect((await podman.calls()).slice(callsBefore).filter((argv) => argv.includes("build"))).toEqual([]);
    expect(await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).toMatchObject({
      status: "running",
      currentDeploymentId: first.deployment.id,
    });
    expect((await getDb().deployment.findUniqueOrThrow({ where: { id: first.deployment.id } })).status).toBe("running");
    expect((await getDb().deployment.findUniqueOrThrow({ where: { id: second.deployment.id } })).status).toBe(
      "superseded",
    );
    const containers = await containersOf(app.id);
    expect(containers.map((c) => c.name)).toEqual([`tsl-${hex(app)}-1-0`, `tsl-${hex(app)}-1-1`]);
    expect(containers.every((c) => c.labels["tussilago.deployment"] === first.deployment.id)).toBe(true);
    expect(upstreamsOf(caddy.config, app.id)).toEqual(dials(ports));
  });

  it("restarts with fresh containers when env vars change, once for several changes in a row", async () => {
    const { ctx, app, ports: oldPorts } = await runningApp();
    await setEnvVars(getDb(), ctx, app.id, { GREETING: "hello" });
    await setEnvVars(getDb(), ctx, app.id, { SECOND: "two words" });
    const restarts = await getDb().operation.findMany({ where: { kind: "app.restart", targetId: app.id } });
    expect(restarts.map((op) => op.status)).toEqual(["queued"]);
    const audit = await getDb().auditEvent.findMany({ where: { targetId: app.id, action: "app.restart_requested" } });
    expect(audit.map((event) => event.metadata)).toEqual([
      { reason: "env_changed", operationId: restarts[0]?.id },
      { reason: "env_changed", operationId: restarts[0]?.id },
    ]);

    const ports = await servers.offer(2);
    await runJobs();
    expect(await operationOf(restarts[0]?.id ?? "")).toMatchObject({ status: "succeeded" });
    const containers = await containersOf(app.id);
    // New names next to where the old ones were, which are gone.
    expect(containers.map((c) => c.name)).toEqual([`tsl-${hex(app)}-1-2`, `tsl-${hex(app)}-1-3`]);
    for (const container of containers) {
      expect(container.env).toMatchObject({ GREETING: "hello", SECOND: "two words", PORT: "8000" });
    }
    expect(upstreamsOf(caddy.config, app.id)).toEqual(dials(ports));
    expect(ports).not.toEqual(oldPorts);
    const rows = await getDb().replica.findMany({ where: { appId: app.id }, orderBy: { index: "asc" } });
    expect(rows.map((row) => [row.index, row.status])).toEqual([
      [2, "healthy"],
      [3, "healthy"],
    ]);
  });

  it("does not restart an app that is not running when its env vars change", async () => {
    const { ctx, app } = await seedApp();
    await setEnvVars(getDb(), ctx, app.id, { GREETING: "hello" });
    expect(await getDb().operation.count({ where: { kind: "app.restart", targetId: app.id } })).toBe(0);
  });

  it("stops (route answers 503, containers gone) and starts again", async () => {
    const { ctx, app } = await runningApp();
    const stop = await stopApp(getDb(), ctx, app.id);
    await runJobs();
    expect(await operationOf(stop.operation.id)).toMatchObject({ status: "succeeded" });
    expect(await containersOf(app.id)).toEqual([]);
    expect(await getDb().replica.count({ where: { appId: app.id } })).toBe(0);
    expect((await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).status).toBe("stopped");
    expect(routeHandlerOf(caddy.config, app.id)).toBe("static_response");

    const ports = await servers.offer(2);
    const start = await startApp(getDb(), ctx, app.id);
    await runJobs();
    expect(await operationOf(start.operation.id)).toMatchObject({ status: "succeeded" });
    expect((await containersOf(app.id)).map((c) => [c.name, c.state])).toEqual([
      [`tsl-${hex(app)}-1-0`, "running"],
      [`tsl-${hex(app)}-1-1`, "running"],
    ]);
    expect((await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).status).toBe("running");
    expect(upstreamsOf(caddy.config, app.id)).toEqual(dials(ports));

    // Starting a running app converges at once: nothing new is started.
    const callsBefore = (await podman.calls()).filter((argv) => argv.includes("run")).length;
    const again = await startApp(getDb(), ctx, app.id);
    await runJobs();
    expect(await operationOf(again.operation.id)).toMatchObject({ status: "succeeded" });
    expect((await podman.calls()).filter((argv) => argv.includes("run"))).toHaveLength(callsBefore);
  });

  it("scales up next to the running replicas and down from the newest, to zero", async () => {
    const { ctx, app, ports } = await runningApp();
    const [added] = await servers.offer(1);
    await scaleApp(getDb(), ctx, app.id, { replicas: 3 });
    await runJobs();
    expect((await containersOf(app.id)).map((c) => c.name)).toEqual([
      `tsl-${hex(app)}-1-0`,
      `tsl-${hex(app)}-1-1`,
      `tsl-${hex(app)}-1-2`,
    ]);
    expect(upstreamsOf(caddy.config, app.id)).toEqual(dials([...ports, added ?? 0]));

    await scaleApp(getDb(), ctx, app.id, { replicas: 1 });
    await runJobs();
    expect((await containersOf(app.id)).map((c) => c.name)).toEqual([`tsl-${hex(app)}-1-0`]);
    const [kept] = await getDb().replica.findMany({ where: { appId: app.id } });
    expect(upstreamsOf(caddy.config, app.id)).toEqual(dials([kept?.hostPort ?? 0]));

    const zero = await scaleApp(getDb(), ctx, app.id, { replicas: 0 });
    await runJobs();
    expect(await operationOf(zero.operation.id)).toMatchObject({ status: "succeeded" });
    expect(await containersOf(app.id)).toEqual([]);
    expect(routeHandlerOf(caddy.config, app.id)).toBe("static_response");
    expect((await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).status).toBe("running");
  });

  it("fails a restart whose containers do not pass, leaving the running ones serving", async () => {
    const { ctx, app, ports } = await runningApp();
    const { operation } = await restartApp(getDb(), ctx, app.id);
    await servers.offer(2, 502);
    const clock = fakeClock();
    await runLifecycle(testDeps(caddy, { sleep: clock.sleep, now: clock.now }), await lifecyclePayload(operation.id));
    expect((await operationOf(operation.id)).error).toMatch(
      /^The new containers did not pass the health check: GET \/ got HTTP 502 within 60 seconds\. The previous release keeps serving\./,
    );
    expect((await containersOf(app.id)).map((c) => c.name)).toEqual([`tsl-${hex(app)}-1-0`, `tsl-${hex(app)}-1-1`]);
    expect(upstreamsOf(caddy.config, app.id)).toEqual(dials(ports));
    expect(await getDb().replica.count({ where: { appId: app.id, status: "healthy" } })).toBe(2);
  });

  it("finishes a restart interrupted after its switch without restarting twice", async () => {
    for (const crashAt of ["start:1", "switch", "drain:removed"]) {
      const { ctx, app } = await runningApp();
      const { operation } = await restartApp(getDb(), ctx, app.id);
      const payload = await lifecyclePayload(operation.id);
      const ports = await servers.offer(2);
      const crashing = testDeps(caddy, {
        drainMs: 0,
        checkpoint: (name) => {
          if (name === crashAt) throw new Error("worker died");
        },
      });
      await expect(runLifecycle(crashing, payload)).rejects.toThrow("worker died");
      await runLifecycle(testDeps(caddy, { drainMs: 0 }), payload);
      expect((await operationOf(operation.id)).status, crashAt).toBe("succeeded");
      expect(
        (await containersOf(app.id)).map((c) => c.name),
        crashAt,
      ).toEqual([`tsl-${hex(app)}-1-2`, `tsl-${hex(app)}-1-3`]);
      expect(upstreamsOf(caddy.config, app.id), crashAt).toEqual(dials(ports));
    }
  });

  it("fails a rollback to an image that is gone with a reason, changing nothing", async () => {
    const { ctx, app, first, ports } = await runningApp();
    const second = await seedBuiltDeployment(app);
    const secondPorts = await servers.offer(2);
    await releaseDeployment(testDeps(caddy, { drainMs: 0 }), {
      deploymentId: second.deployment.id,
      operationId: second.operation.id,
    });
    await getInfra()
      .podman()
      .removeImage(first.deployment.imageRef ?? "");
    const { operation } = await rollbackApp(getDb(), ctx, app.id, { deploymentId: first.deployment.id });
    await runJobs();
    expect(await operationOf(operation.id)).toMatchObject({
      status: "failed",
      error: "The image of deployment #1 is no longer on this host. Deploy again to rebuild it.",
    });
    expect((await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).currentDeploymentId).toBe(
      second.deployment.id,
    );
    expect(upstreamsOf(caddy.config, app.id)).toEqual(dials(secondPorts));
    expect(secondPorts).not.toEqual(ports);
  });
});

describe("app__delete", { timeout: 300_000 }, () => {
  it("removes the app's route along with its containers", async () => {
    const { ctx, app } = await runningApp();
    expect(upstreamsOf(caddy.config, app.id)).toHaveLength(2);
    const { operation } = await deleteApp(getDb(), ctx, app.id);
    await runJobs();
    expect(await operationOf(operation.id)).toMatchObject({ status: "succeeded" });
    expect(routeHandlerOf(caddy.config, app.id)).toBeNull();
    expect(await containersOf(app.id)).toEqual([]);
    expect(await getDb().app.findUnique({ where: { id: app.id } })).toBeNull();
  });
});
