// platform__reconcile and image pruning against the fake podman and the fake Caddy: orphan containers removed,
// missing replicas restarted through the app's queue, a Caddy that lost its config re-synced, old images pruned
// while the current release and the last N successful ones stay. Each converges and a second pass does nothing.
import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tasks } from "@/jobs/tasks";
import { getDb } from "@/lib/db";
import { deploymentLimitMs, expiryLimitsFromConfig } from "@/lib/engine/expire";
import { pruneImages, type ReconcileDeps, reconcile } from "@/lib/engine/reconcile";
import { releaseDeployment, teamNetworkName } from "@/lib/engine/release";
import { syncRouting } from "@/lib/engine/routing";
import type { App } from "@/lib/generated/prisma/client";
import { toResourceName } from "@/lib/infra/podman";
import { getInfra } from "@/lib/services/infra";
import { type FakeCaddy, startFakeCaddy } from "@/test/fake-caddy";
import { type FakePodman, installFakePodman } from "@/test/fake-podman/install";
import { pendingJobs } from "@/test/helpers";
import {
  buildImage,
  fakeContainers,
  oneOffExits,
  type ReplicaServers,
  replicaServers,
  routingFor,
  seedApp,
  seedBuiltDeployment,
  silentLog,
  testDeps,
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

/** Ten minutes from now: containers started by the test are old enough to be orphans. */
function reconcileDeps(now = () => Date.now() + 10 * 60_000): ReconcileDeps {
  const deps = testDeps(caddy);
  return {
    db: getDb(),
    podman: deps.podman,
    caddy: deps.caddy,
    routing: routingFor(caddy),
    log: silentLog,
    limits: null,
    now,
  };
}

async function runningApp(replicas = 2): Promise<App> {
  const { app } = await seedApp({ replicas });
  const first = await seedBuiltDeployment(app);
  await servers.offer(replicas);
  await releaseDeployment(testDeps(caddy, { drainMs: 0 }), {
    deploymentId: first.deployment.id,
    operationId: first.operation.id,
  });
  return await getDb().app.findUniqueOrThrow({ where: { id: app.id } });
}

async function namesOf(appId: string): Promise<string[]> {
  return (await fakeContainers(podman))
    .filter((c) => c.labels["tussilago.app"] === appId)
    .map((c) => c.name)
    .sort();
}

async function imagesInFake(): Promise<string[]> {
  const text = await fs.readFile(path.join(podman.stateDir, "state.json"), "utf8");
  return (JSON.parse(text) as { images: { names: string[] }[] }).images.flatMap((image) => image.names);
}

describe("platform__reconcile", { timeout: 300_000 }, () => {
  it("is registered in the crontab and queued as a task", () => {
    expect(tasks.platform__reconcile.maxAttempts).toBeGreaterThan(0);
  });

  it("removes containers no row wants, keeps the app's replicas, and does nothing the second time", async () => {
    const app = await runningApp(2);
    const replicas = await namesOf(app.id);
    expect(replicas).toHaveLength(2);
    // A container of an app deleted while podman was down, and a replica left by a crash after its row went.
    const ghostApp = randomUUID();
    const image = await buildImage(app.id, 99);
    const adapter = getInfra().podman();
    await servers.offer(2, null);
    const labels = { team: app.teamId, app: ghostApp, deployment: randomUUID(), process: "web" };
    const ghost = toResourceName(ghostApp, 1, 0);
    await adapter.run({
      name: ghost,
      image,
      network: teamNetworkName(app.teamId),
      labels,
      memoryMiB: 256,
      cpus: 1,
      port: 8000,
    });
    const leftover = toResourceName(app.id, 1, 7);
    await adapter.run({
      name: leftover,
      image,
      network: teamNetworkName(app.teamId),
      labels: { ...labels, app: app.id },
      memoryMiB: 256,
      cpus: 1,
      port: 8000,
    });

    // Another installation's container on the same podman (a team this database does not know): never touched.
    const foreignApp = randomUUID();
    const foreign = toResourceName(foreignApp, 1, 0);
    await adapter.run({
      name: foreign,
      image,
      network: teamNetworkName(app.teamId),
      labels: { ...labels, team: randomUUID(), app: foreignApp },
      memoryMiB: 256,
      cpus: 1,
    });

    // Just started: not orphans yet.
    expect((await reconcile(reconcileDeps(Date.now))).removed).toEqual([]);
    const report = await reconcile(reconcileDeps());
    expect(report.removed.sort()).toEqual([ghost, leftover].sort());
    expect((await fakeContainers(podman)).map((c) => c.name)).toContain(foreign);
    expect(report.restarted).toEqual([]);
    expect(await namesOf(app.id)).toEqual(replicas);
    expect(await namesOf(ghostApp)).toEqual([]);

    const again = await reconcile(reconcileDeps());
    expect(again.removed).toEqual([]);
    expect(again.routingResynced).toBe(false);
  });

  it("queues one restart, in the app's queue, for a running app whose replicas are gone", async () => {
    const app = await runningApp(2);
    const [first] = await namesOf(app.id);
    await getInfra()
      .podman()
      .remove(first as string);

    const report = await reconcile(reconcileDeps());
    expect(report.restarted).toEqual([app.id]);
    const jobs = (await pendingJobs("app__lifecycle")).filter(
      (job) => (job.payload as { appId: string }).appId === app.id,
    );
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.payload).toMatchObject({ action: "restart" });
    // The restart is pending: a second pass does not queue another one.
    expect((await reconcile(reconcileDeps())).restarted).toEqual([]);
    expect(
      (await pendingJobs("app__lifecycle")).filter((job) => (job.payload as { appId: string }).appId === app.id),
    ).toHaveLength(1);
  });

  it("leaves an exited replica the crash watch is restarting to it, and restarts per process type (#15)", async () => {
    const app = await runningApp(1);
    const [web] = await namesOf(app.id);
    await getInfra()
      .podman()
      .stop(web as string, { timeoutSeconds: 0 });
    // Exited and under the crash watch's backoff: not a reason to replace the whole app.
    await getDb().replica.updateMany({
      where: { appId: app.id },
      data: { restartAt: new Date(Date.now() + 10_000), lastExitCode: 1, lastExitAt: new Date() },
    });
    expect((await reconcile(reconcileDeps())).restarted).not.toContain(app.id);
    // Gone altogether is reconcile's again, whatever the crash watch was doing.
    await getInfra()
      .podman()
      .remove(web as string);
    expect((await reconcile(reconcileDeps())).restarted).toEqual([app.id]);
  });

  it("treats worker containers per type: an orphan worker goes, a missing one restarts the app (#15)", async () => {
    const { app } = await seedApp({ replicas: 1 });
    const plan = { release: null, processes: { web: "w $PORT", worker: "celery" } };
    const first = await seedBuiltDeployment(app, { plan });
    await servers.offer(1);
    await releaseDeployment(testDeps(caddy, { drainMs: 0 }), {
      deploymentId: first.deployment.id,
      operationId: first.operation.id,
    });
    const worker = await getDb().replica.findFirstOrThrow({ where: { appId: app.id, process: "worker" } });
    // A worker container no row wants (a crash between its run and its row's removal) is an orphan.
    const orphan = toResourceName(app.id, 9, "worker0000", 0);
    await getInfra()
      .podman()
      .run({
        name: orphan,
        image: first.deployment.imageRef as string,
        network: teamNetworkName(app.teamId),
        labels: { team: app.teamId, app: app.id, deployment: first.deployment.id, process: "worker" },
        memoryMiB: 256,
        cpus: 1,
      });
    await getInfra().podman().remove(worker.containerName);
    const report = await reconcile(reconcileDeps());
    expect(report.removed).toContain(orphan);
    expect(report.restarted).toEqual([app.id]);
    expect(await namesOf(app.id)).not.toContain(orphan);
  });

  it("re-syncs Caddy when it lost its config, and not when it runs the rendered one", async () => {
    await runningApp(1);
    await syncRouting(getDb(), testDeps(caddy).caddy, { config: routingFor(caddy), log: silentLog });
    expect((await reconcile(reconcileDeps())).routingResynced).toBe(false);

    caddy.restart();
    const report = await reconcile(reconcileDeps());
    expect(report.routingResynced).toBe(true);
    expect(await pendingJobs("caddy__sync")).toHaveLength(1);
    // The queued sync converges (job key: still one pending).
    expect((await reconcile(reconcileDeps())).routingResynced).toBe(true);
    expect(await pendingJobs("caddy__sync")).toHaveLength(1);
    await syncRouting(getDb(), testDeps(caddy).caddy, { config: routingFor(caddy), log: silentLog });
    expect((await reconcile(reconcileDeps())).routingResynced).toBe(false);
  });
});

describe("image pruning", { timeout: 300_000 }, () => {
  it("keeps the current release and the last N successful deployments, removes older and failed ones", async () => {
    const app = await runningApp(1);
    const db = getDb();
    // Deployments #2..#8 of the same app: #2 failed, #3..#7 superseded, #8 still building (its image is on its way).
    const made: { number: number; status: "failed" | "superseded" | "building"; imageRef: string }[] = [];
    for (let number = 2; number <= 8; number += 1) {
      const status = number === 2 ? "failed" : number === 8 ? "building" : "superseded";
      const imageRef = await buildImage(app.id, number);
      await db.deployment.create({
        data: { appId: app.id, teamId: app.teamId, number, status, sourceType: "upload", imageRef },
      });
      made.push({ number, status, imageRef });
    }
    // The current release is #1, the oldest: it stays whatever N says.
    const current = await db.deployment.findFirstOrThrow({ where: { appId: app.id, number: 1 } });
    expect(app.currentDeploymentId).toBe(current.id);

    const removed = await pruneImages({ db, podman: getInfra().podman(), log: silentLog, keep: 3 });
    // Successful ones, newest first: #7, #6, #5 are the last three; #1 is the current release; #8 is in progress.
    const tag = (n: number) => `localhost/${toResourceName(app.id)}:${n}`;
    expect(removed.sort()).toEqual([tag(2), tag(3), tag(4)].sort());
    const images = await imagesInFake();
    for (const n of [1, 5, 6, 7, 8]) expect(images).toContain(tag(n));
    for (const n of [2, 3, 4]) expect(images).not.toContain(tag(n));
    const pruned = await db.deployment.findMany({
      where: { appId: app.id, imagePrunedAt: { not: null } },
      orderBy: { number: "asc" },
    });
    expect(pruned.map((row) => row.number)).toEqual([2, 3, 4]);

    // Nothing more to do the second time.
    expect(await pruneImages({ db, podman: getInfra().podman(), log: silentLog, keep: 3 })).toEqual([]);
  });

  it("keeps an image a kept deployment reused, though the deployment that built it is pruned (#19)", async () => {
    const app = await runningApp(1);
    const db = getDb();
    // #2 built the image and failed; #3 reused it (same image key) and is the newest successful deployment.
    const shared = await buildImage(app.id, 2);
    for (const [number, status] of [
      [2, "failed"],
      [3, "superseded"],
    ] as const) {
      await db.deployment.create({
        data: {
          appId: app.id,
          teamId: app.teamId,
          number,
          status,
          sourceType: "upload",
          imageRef: shared,
          imageKey: "k",
        },
      });
    }
    expect(await pruneImages({ db, podman: getInfra().podman(), log: silentLog, keep: 3 })).toEqual([]);
    expect(await imagesInFake()).toContain(shared);
    const rows = await db.deployment.findMany({ where: { appId: app.id, number: { in: [2, 3] } } });
    expect(rows.map((row) => row.imagePrunedAt)).toEqual([null, null]);
  });

  it("refuses a rollback to a deployment whose image was pruned", async () => {
    const { rollbackApp } = await import("@/lib/domain/lifecycle");
    const { ctx, app } = await seedApp({ replicas: 1 });
    const old = await getDb().deployment.create({
      data: {
        appId: app.id,
        teamId: app.teamId,
        number: 1,
        status: "superseded",
        sourceType: "upload",
        imageRef: `localhost/${toResourceName(app.id)}:1`,
        imagePrunedAt: new Date(),
      },
    });
    await expect(rollbackApp(getDb(), ctx, app.id, { deploymentId: old.id })).rejects.toThrow(/no longer kept/);
  });
});

// After the pruning tests, which count every prunable image in the database: this one leaves a failed deployment.
describe("platform__reconcile and time limits", { timeout: 300_000 }, () => {
  it("ends a release interrupted past its limit and removes what it started; the previous release serves on", async () => {
    const app = await runningApp(2);
    const serving = await namesOf(app.id);
    // A worker killed mid-release: the deployment stays releasing, its new replica started beside the old ones.
    const second = await seedBuiltDeployment(app);
    const db = getDb();
    await db.deployment.update({ where: { id: second.deployment.id }, data: { status: "releasing" } });
    await db.operation.update({ where: { id: second.operation.id }, data: { status: "running" } });
    const name = toResourceName(app.id, second.deployment.number, 0);
    await db.replica.create({
      data: { appId: app.id, deploymentId: second.deployment.id, index: 0, containerName: name, status: "starting" },
    });
    await servers.offer(1);
    await getInfra()
      .podman()
      .run({
        name,
        image: second.deployment.imageRef as string,
        network: teamNetworkName(app.teamId),
        labels: { team: app.teamId, app: app.id, deployment: second.deployment.id, process: "web" },
        memoryMiB: 256,
        cpus: 1,
        port: 8000,
      });
    const limits = expiryLimitsFromConfig({
      buildTimeoutMs: 900_000,
      releaseCommandTimeoutMs: 600_000,
      healthTimeoutMs: 60_000,
      drainMs: 0,
    });
    const later = Date.now() + deploymentLimitMs("releasing", limits) + 60_000;

    const report = await reconcile({ ...reconcileDeps(() => later), limits });
    // The clock jumps past the releasing limit (which includes the release job's retry waits), so deployments other
    // tests of this file left queued are past their own limit too: assert this test's own.
    expect(report.expired.deployments).toContain(second.deployment.id);
    expect(report.removed).toEqual([name]);
    const after = await db.deployment.findUniqueOrThrow({ where: { id: second.deployment.id } });
    expect(after.status).toBe("failed");
    expect(after.error).toMatch(/release was interrupted/);
    expect((await db.operation.findUniqueOrThrow({ where: { id: second.operation.id } })).status).toBe("failed");
    const appAfter = await db.app.findUniqueOrThrow({ where: { id: app.id } });
    expect(appAfter.status).toBe("running");
    expect(appAfter.currentDeploymentId).toBe(app.currentDeploymentId);
    expect(await namesOf(app.id)).toEqual(serving);
    // Converged: a second pass finds nothing to end or remove.
    const again = await reconcile({ ...reconcileDeps(() => later), limits });
    expect(again.expired).toEqual({ deployments: [], operations: [] });
    expect(again.removed).toEqual([]);
  });
});
