// Process types (#15) through the release engine, against the fake podman and a fake Caddy: every type of the plan
// runs its own containers (same image, env and hardening), only web is routed, releases cut over every type, scale
// converges each type on its own, and a worker-only app runs with no route.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { getApp } from "@/lib/domain/apps";
import { scaleApp } from "@/lib/domain/lifecycle";
import { type LifecycleInput, releaseDeployment, runLifecycle } from "@/lib/engine/release";
import { processTag } from "@/lib/engine/release/context";
import type { App } from "@/lib/generated/prisma/client";
import { type FakeCaddy, startFakeCaddy } from "@/test/fake-caddy";
import { type FakePodman, installFakePodman } from "@/test/fake-podman/install";
import { pendingJobs } from "@/test/helpers";
import {
  fakeContainers,
  type ReplicaServers,
  replicaServers,
  routeHandlerOf,
  seedApp,
  seedBuiltDeployment,
  testDeps,
  upstreamsOf,
} from "@/test/release-helpers";

let podman: FakePodman;
let caddy: FakeCaddy;
let servers: ReplicaServers;
let fakeEnv: Record<string, string> = {};

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

const PLAN = { release: null, processes: { web: "gunicorn a:b --bind :$PORT", worker: "celery -A a worker" } };

function hex(app: App): string {
  return app.id.replaceAll("-", "");
}

async function containersOf(appId: string) {
  return (await fakeContainers(podman)).filter((c) => c.labels["tussilago.app"] === appId);
}

async function namesOf(appId: string): Promise<string[]> {
  return (await containersOf(appId)).map((c) => c.name).sort();
}

async function release(app: App, plan: typeof PLAN | { release: null; processes: Record<string, string> } = PLAN) {
  const seeded = await seedBuiltDeployment(app, { plan });
  await releaseDeployment(testDeps(caddy), { deploymentId: seeded.deployment.id, operationId: seeded.operation.id });
  return seeded;
}

async function lifecyclePayload(operationId: string): Promise<LifecycleInput> {
  const job = (await pendingJobs("app__lifecycle")).find(
    (candidate) => (candidate.payload as LifecycleInput).operationId === operationId,
  );
  if (!job) throw new Error("no pending app__lifecycle job for the operation");
  return job.payload as LifecycleInput;
}

describe("process types in releases", { timeout: 300_000 }, () => {
  it("runs each type in its own hardened containers, routes only web, and cuts every type over on the next release", async () => {
    fakeEnv = {};
    const { app } = await seedApp({ replicas: 1 });
    await getDb().app.update({ where: { id: app.id }, data: { processes: { worker: 2 } } });
    const ports1 = await servers.offer(1);
    const first = await release(app);
    expect((await getDb().deployment.findUniqueOrThrow({ where: { id: first.deployment.id } })).status).toBe("running");
    const tag = processTag("worker");
    expect(await namesOf(app.id)).toEqual(
      [`tsl-${hex(app)}-1-0`, `tsl-${hex(app)}-1-${tag}-0`, `tsl-${hex(app)}-1-${tag}-1`].sort(),
    );
    const workers = (await containersOf(app.id)).filter((c) => c.labels["tussilago.process"] === "worker");
    for (const worker of workers) {
      expect(worker.ports).toEqual([]);
      expect(worker.env.PORT).toBe("8000");
      expect((worker as unknown as { command: string[] }).command).toEqual(["/bin/sh", "-c", "celery -A a worker"]);
    }
    const runs = (await podman.calls()).filter((argv) => argv.includes("run") && argv.join(" ").includes(tag));
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (const argv of runs) {
      expect(argv).toEqual(expect.arrayContaining(["--cap-drop=all", "--read-only", "--init"]));
      expect(argv.join(" ")).not.toContain("--publish");
    }
    expect(upstreamsOf(caddy.config, app.id)).toEqual([`127.0.0.1:${ports1[0]}`]);
    expect((await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).processTypes).toEqual(["web", "worker"]);

    // The second release: new web and workers, the old workers stopped with the drain time as their grace.
    const ports2 = await servers.offer(1);
    await release(app);
    expect(await namesOf(app.id)).toEqual(
      [`tsl-${hex(app)}-2-0`, `tsl-${hex(app)}-2-${tag}-0`, `tsl-${hex(app)}-2-${tag}-1`].sort(),
    );
    const stops = (await podman.calls()).filter((argv) => argv.includes("stop"));
    for (const name of [`tsl-${hex(app)}-1-${tag}-0`, `tsl-${hex(app)}-1-${tag}-1`]) {
      expect(stops.find((argv) => argv.includes(name))).toEqual(expect.arrayContaining(["--time", "10"]));
    }
    expect(upstreamsOf(caddy.config, app.id)).toEqual([`127.0.0.1:${ports2[0]}`]);
    const rows = await getDb().replica.findMany({ where: { appId: app.id } });
    expect(rows.map((row) => `${row.process}:${row.status}`).sort()).toEqual([
      "web:healthy",
      "worker:healthy",
      "worker:healthy",
    ]);
  });

  it("fails the release when a worker exits at start, and the previous release keeps running", async () => {
    fakeEnv = {};
    const { app } = await seedApp({ replicas: 1 });
    await servers.offer(1);
    await release(app);
    const before = await namesOf(app.id);
    fakeEnv = { RUN_EXIT_CODE: "3", RUN_EXIT_MATCH: `-${processTag("worker")}-` };
    await servers.offer(1);
    const second = await release(app);
    const failed = await getDb().deployment.findUniqueOrThrow({ where: { id: second.deployment.id } });
    expect(failed.status).toBe("failed");
    expect(failed.error).toContain('The "worker" process stopped with exit code 3');
    expect(await namesOf(app.id)).toEqual(before);
    fakeEnv = {};
    await podman.configure(fakeEnv);
  });

  it("refuses a release whose new process types would exceed the team's process quota, before starting any", async () => {
    fakeEnv = {};
    await podman.configure(fakeEnv);
    const { app } = await seedApp({ replicas: 1 });
    await getDb().teamQuota.create({ data: { teamId: app.teamId, processes: 1 } });
    const seeded = await release(app);
    const failed = await getDb().deployment.findUniqueOrThrow({ where: { id: seeded.deployment.id } });
    expect(failed.status).toBe("failed");
    expect(failed.error).toContain("quota of 1 process container is reached");
    expect(await namesOf(app.id)).toEqual([]);
  });

  it("runs a worker-only app with no route and no address", async () => {
    fakeEnv = {};
    const { app, ctx } = await seedApp({ replicas: 1 });
    const seeded = await release(app, { release: null, processes: { worker: "python w.py" } });
    expect(await getDb().deployment.findUniqueOrThrow({ where: { id: seeded.deployment.id } })).toMatchObject({
      status: "running",
      error: null,
    });
    expect(await namesOf(app.id)).toEqual([`tsl-${hex(app)}-1-${processTag("worker")}-0`]);
    const row = await getDb().app.findUniqueOrThrow({ where: { id: app.id } });
    expect(row).toMatchObject({ status: "running", processTypes: ["worker"] });
    expect(routeHandlerOf(caddy.config, app.id)).toBeNull();
    const view = await getApp(getDb(), ctx, app.id);
    expect(view.url).toBeNull();
    expect(view.processes).toEqual({ worker: { desired: 1, running: 1, crashed: 0, lastCrash: null } });
  });

  it("scales each type on its own: more workers, then none, web untouched", async () => {
    fakeEnv = {};
    const { app, ctx } = await seedApp({ replicas: 1 });
    await servers.offer(1);
    await release(app);
    const web = (await containersOf(app.id)).filter((c) => c.labels["tussilago.process"] === "web");
    const scale = async (processes: Record<string, number>) => {
      const { operation } = await scaleApp(getDb(), ctx, app.id, { processes });
      await runLifecycle(testDeps(caddy), await lifecyclePayload(operation.id));
      expect((await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } })).status).toBe("succeeded");
    };
    await scale({ worker: 3 });
    const count = async (process: string) =>
      (await containersOf(app.id)).filter((c) => c.labels["tussilago.process"] === process && c.state === "running")
        .length;
    expect(await count("worker")).toBe(3);
    await scale({ worker: 0 });
    expect(await count("worker")).toBe(0);
    expect((await containersOf(app.id)).filter((c) => c.labels["tussilago.process"] === "web")).toEqual(web);
    expect(await getDb().replica.count({ where: { appId: app.id, process: "worker" } })).toBe(0);
  });
});
