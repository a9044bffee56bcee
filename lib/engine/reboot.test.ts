// Host reboot: the platform stops, every tenant container is gone and Caddy comes back empty; the start-up reconcile
// (queued by jobs/worker.ts at every start) must bring each app that should run back to exactly its replicas, routed,
// and nothing twice: a stopped app stays stopped, a second pass queues nothing more.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { stopApp } from "@/lib/domain/lifecycle";
import { type ReconcileDeps, reconcile } from "@/lib/engine/reconcile";
import { type LifecycleInput, releaseDeployment, runLifecycle } from "@/lib/engine/release";
import { syncRouting } from "@/lib/engine/routing";
import type { App } from "@/lib/generated/prisma/client";
import { getInfra } from "@/lib/services/infra";
import { type FakeCaddy, startFakeCaddy } from "@/test/fake-caddy";
import { type FakePodman, installFakePodman } from "@/test/fake-podman/install";
import { pendingJobs } from "@/test/helpers";
import {
  fakeContainers,
  oneOffExits,
  type ReplicaServers,
  replicaServers,
  routingFor,
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
});

afterAll(async () => {
  await servers.close();
  await caddy.close();
  await podman.cleanup();
});

function reconcileDeps(): ReconcileDeps {
  const deps = testDeps(caddy);
  return {
    db: getDb(),
    podman: deps.podman,
    caddy: deps.caddy,
    routing: routingFor(caddy),
    log: silentLog,
    limits: null,
  };
}

async function runningApp(replicas: number) {
  const seeded = await seedApp({ replicas });
  const first = await seedBuiltDeployment(seeded.app);
  await servers.offer(replicas);
  await releaseDeployment(testDeps(caddy, { drainMs: 0 }), {
    deploymentId: first.deployment.id,
    operationId: first.operation.id,
  });
  return seeded;
}

async function runningContainers(appId: string) {
  return (await fakeContainers(podman)).filter((c) => c.labels["tussilago.app"] === appId && c.state === "running");
}

/** What Caddy must route for the app: its healthy replica rows' host ports, as the routing renders them. */
async function expectServed(app: App, replicas: number): Promise<void> {
  const containers = await runningContainers(app.id);
  expect(containers).toHaveLength(replicas);
  const rows = await getDb().replica.findMany({ where: { appId: app.id } });
  expect(rows.map((row) => row.containerName).sort()).toEqual(containers.map((c) => c.name).sort());
  expect(rows.every((row) => row.status === "healthy")).toBe(true);
  const ports = containers.flatMap((c) => c.ports.map((p) => p.host_port));
  const upstreams = upstreamsOf(caddy.config, app.id);
  expect(upstreams).toHaveLength(replicas);
  expect(upstreams.map((dial) => Number(dial.split(":").at(-1))).sort()).toEqual(ports.sort());
}

describe("host reboot", { timeout: 300_000 }, () => {
  it("brings every app that should run back to exactly its replicas, routed, and starts nothing twice", async () => {
    const two = await runningApp(2);
    const one = await runningApp(1);
    const stopped = await runningApp(1);
    const { operation: stop } = await stopApp(getDb(), stopped.ctx, stopped.app.id);
    await runLifecycle(testDeps(caddy, { drainMs: 0 }), await lifecyclePayload(stop.id));
    expect(await runningContainers(stopped.app.id)).toHaveLength(0);

    // The reboot: every container gone, Caddy up again without its config (no autosave of our routes).
    const adapter = getInfra().podman();
    for (const container of await fakeContainers(podman)) await adapter.remove(container.name);
    caddy.restart();

    // The worker's start-up reconcile, run twice as a crash loop or a second start would: one restart per app.
    const report = await reconcile(reconcileDeps());
    expect(report.restarted.sort()).toEqual([two.app.id, one.app.id].sort());
    expect(report.routingResynced).toBe(true);
    expect((await reconcile(reconcileDeps())).restarted).toEqual([]);

    // The queued jobs, as the worker runs them: the restarts (health-gated) and the routing sync.
    const restarts = await getDb().operation.findMany({
      where: { kind: "app.restart" },
      orderBy: { createdAt: "asc" },
    });
    expect(restarts.map((operation) => operation.targetId).sort()).toEqual([two.app.id, one.app.id].sort());
    for (const operation of restarts) {
      await servers.offer(operation.targetId === two.app.id ? 2 : 1);
      await runLifecycle(testDeps(caddy, { drainMs: 0 }), await lifecyclePayload(operation.id));
    }
    await syncRouting(getDb(), testDeps(caddy).caddy, { config: routingFor(caddy), log: silentLog });

    await expectServed(await getDb().app.findUniqueOrThrow({ where: { id: two.app.id } }), 2);
    await expectServed(await getDb().app.findUniqueOrThrow({ where: { id: one.app.id } }), 1);
    expect(await runningContainers(stopped.app.id)).toHaveLength(0);
    expect(upstreamsOf(caddy.config, stopped.app.id)).toEqual([]);
    expect(
      (await getDb().operation.findMany({ where: { kind: "app.restart" } })).map((operation) => operation.status),
    ).toEqual(["succeeded", "succeeded"]);

    // Converged: the next reconcile finds nothing to do.
    const after = await reconcile(reconcileDeps());
    expect(after).toMatchObject({ removed: [], restarted: [], routingResynced: false });
  });
});

describe("host reboot with podman keeping exited containers", { timeout: 300_000 }, () => {
  it("replaces the exited replicas with running ones, routed, and removes the exited ones later as orphans", async () => {
    const { app } = await runningApp(2);
    const before = (await runningContainers(app.id)).map((c) => c.name).sort();

    // The reboot as podman without --rm sees it: the containers are still there, exited; Caddy is empty.
    const adapter = getInfra().podman();
    for (const name of before) await adapter.stop(name);
    caddy.restart();

    const report = await reconcile(reconcileDeps());
    expect(report.restarted).toEqual([app.id]);
    expect((await reconcile(reconcileDeps())).restarted).toEqual([]);
    const [restart] = await getDb().operation.findMany({ where: { kind: "app.restart", targetId: app.id } });
    await servers.offer(2);
    await runLifecycle(testDeps(caddy, { drainMs: 0 }), await lifecyclePayload(restart?.id ?? ""));
    await syncRouting(getDb(), testDeps(caddy).caddy, { config: routingFor(caddy), log: silentLog });

    expect(await getDb().operation.findUniqueOrThrow({ where: { id: restart?.id } })).toMatchObject({
      status: "succeeded",
    });
    await expectServed(await getDb().app.findUniqueOrThrow({ where: { id: app.id } }), 2);
    // Past the orphan age, the exited containers of before the reboot go; the running ones stay.
    const later = await reconcile({ ...reconcileDeps(), now: () => Date.now() + 10 * 60_000 });
    expect(later.restarted).toEqual([]);
    const left = (await fakeContainers(podman)).filter((c) => c.labels["tussilago.app"] === app.id);
    expect(left.every((c) => c.state === "running")).toBe(true);
    expect(left).toHaveLength(2);
  });
});

async function lifecyclePayload(operationId: string): Promise<LifecycleInput> {
  const job = (await pendingJobs("app__lifecycle")).find(
    (candidate) => (candidate.payload as LifecycleInput).operationId === operationId,
  );
  if (!job) throw new Error("no pending app__lifecycle job for the operation");
  return job.payload as LifecycleInput;
}
