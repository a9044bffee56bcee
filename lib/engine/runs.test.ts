// Executing runs against the real podman adapter driving the fake podman binary (which refuses `run` without the
// hardening flags): a one-off container of the run's release with /bin/sh -c, the team network and no published port,
// exit codes recorded, output in the run log, the time limit and cancellation killing the container, a retry adopting
// the container an earlier attempt started, and the reconcile pass keeping active runs' containers only.
import fs from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runLogPath } from "@/lib/data-paths";
import { getDb } from "@/lib/db";
import { setEnvVars } from "@/lib/domain/env-vars";
import { cancelRun, createRun } from "@/lib/domain/runs";
import { reconcile } from "@/lib/engine/reconcile";
import { executeRun, type RunDeps, runContainerName } from "@/lib/engine/runs";
import { getEnv } from "@/lib/env";
import { PodmanError } from "@/lib/infra/podman";
import { type FakeCaddy, startFakeCaddy } from "@/test/fake-caddy";
import { type FakePodman, installFakePodman } from "@/test/fake-podman/install";
import { fakeContainers, seedApp, seedBuiltDeployment, silentLog, testDeps } from "@/test/release-helpers";

let podman: FakePodman;
let caddy: FakeCaddy;

beforeAll(async () => {
  podman = await installFakePodman();
  caddy = await startFakeCaddy();
});

afterAll(async () => {
  await caddy.close();
  await podman.cleanup();
});

/** Run containers exit at once with `code`, printing `output`; every other container keeps running. */
function runsExit(code: number, output = "") {
  return podman.configure({ RUN_EXIT_CODE: String(code), RUN_EXIT_MATCH: "-run$", RUN_OUTPUT: output });
}

/** Nothing exits by itself. */
function runsHang() {
  return podman.configure({});
}

function deps(overrides: Partial<RunDeps> = {}): RunDeps {
  return { ...testDeps(caddy), now: Date.now, pollMs: 200, ...overrides };
}

/** An app whose current release is a built image in the fake podman. */
async function releasedApp() {
  const seeded = await seedApp({ replicas: 1 });
  const { deployment } = await seedBuiltDeployment(seeded.app);
  await getDb().app.update({ where: { id: seeded.app.id }, data: { currentDeploymentId: deployment.id } });
  return { ...seeded, deployment };
}

async function runCallsOf(name: string): Promise<string[][]> {
  return (await podman.calls()).filter((argv) => argv.includes("run") && argv.includes(name));
}

async function containerOf(name: string) {
  return (await fakeContainers(podman)).find((container) => container.name === name);
}

describe("executeRun", { timeout: 120_000 }, () => {
  it("runs the command in a hardened one-off container of the release and records exit code 0 and the output", async () => {
    await runsExit(0, "Applying migrations...\nOK");
    const { ctx, app, deployment } = await releasedApp();
    await setEnvVars(getDb(), ctx, app.id, { GREETING: "hej" });
    const { run, operation } = await createRun(getDb(), ctx, app.id, { command: "python manage.py migrate" });
    await executeRun(deps(), run.id);

    const done = await getDb().run.findUniqueOrThrow({ where: { id: run.id } });
    expect(done).toMatchObject({ status: "succeeded", exitCode: 0, reason: null, deploymentId: deployment.id });
    expect(done.startedAt).toBeInstanceOf(Date);
    expect(done.finishedAt).toBeInstanceOf(Date);
    expect(await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } })).toMatchObject({
      status: "succeeded",
    });
    const log = await fs.readFile(runLogPath(getEnv().dataDir, run.id), "utf8");
    expect(log).toContain("fake-podman: started /bin/sh -c python manage.py migrate\n");
    expect(log).toContain("Applying migrations...\nOK\n");

    const name = runContainerName(run.id);
    const [argv, ...more] = await runCallsOf(name);
    expect(more).toHaveLength(0);
    expect(argv).toEqual(expect.arrayContaining(["--cap-drop=all", "--read-only", "--network", "--init"]));
    expect(argv).toContain(`tussilago.process=run`);
    expect(argv).toContain(`tussilago.deployment=${deployment.id}`);
    expect(argv?.some((arg) => arg.startsWith("--publish"))).toBe(false);
    expect(argv?.slice(-3)).toEqual(["/bin/sh", "-c", "python manage.py migrate"]);
    expect(argv?.join(" ")).toContain("GREETING=");
    // Ended, so the container is gone; a retried job finds the run ended and starts nothing.
    expect(await containerOf(name)).toBeUndefined();
    await executeRun(deps(), run.id);
    expect(await runCallsOf(name)).toHaveLength(1);
  });

  it("records a failing command's exit code and reason, and fails its operation", async () => {
    await runsExit(3, "Traceback: boom");
    const { ctx, app } = await releasedApp();
    const { run, operation } = await createRun(getDb(), ctx, app.id, { command: "python fail.py" });
    await executeRun(deps(), run.id);
    expect(await getDb().run.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({
      status: "failed",
      exitCode: 3,
      reason: "The command exited with code 3.",
    });
    expect(await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } })).toMatchObject({
      status: "failed",
      error: "The command exited with code 3.",
    });
    expect(await containerOf(runContainerName(run.id))).toBeUndefined();
  });

  it("stops a command past its time limit: timed_out, the container removed", async () => {
    await runsHang();
    const { ctx, app } = await releasedApp();
    const { run } = await createRun(getDb(), ctx, app.id, { command: "sleep 1000", timeoutSeconds: 1 });
    await executeRun(deps(), run.id);
    const done = await getDb().run.findUniqueOrThrow({ where: { id: run.id } });
    expect(done).toMatchObject({ status: "timed_out", exitCode: null });
    expect(done.reason).toMatch(/did not finish within 1 seconds/);
    expect(await containerOf(runContainerName(run.id))).toBeUndefined();
  });

  it("kills a running command that is cancelled, and ends a queued one at once", async () => {
    await runsHang();
    const { ctx, app } = await releasedApp();
    const { run } = await createRun(getDb(), ctx, app.id, { command: "sleep 1000", timeoutSeconds: 600 });
    const name = runContainerName(run.id);
    const execution = executeRun(deps(), run.id);
    for (let i = 0; i < 600 && (await containerOf(name))?.state !== "running"; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await cancelRun(getDb(), ctx, run.id)).cancelRequestedAt).toBeInstanceOf(Date);
    await execution;
    expect(await getDb().run.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({
      status: "cancelled",
      reason: "Cancelled while running.",
    });
    expect(await containerOf(name)).toBeUndefined();

    const queued = await createRun(getDb(), ctx, app.id, { command: "echo never" });
    expect(await cancelRun(getDb(), ctx, queued.run.id)).toMatchObject({ status: "cancelled" });
    expect(await getDb().operation.findUniqueOrThrow({ where: { id: queued.operation.id } })).toMatchObject({
      status: "failed",
    });
    await executeRun(deps(), queued.run.id);
    expect(await runCallsOf(runContainerName(queued.run.id))).toHaveLength(0);
  });

  it("a retry adopts the container the interrupted attempt started instead of starting a second one", async () => {
    await runsExit(0, "done");
    const { ctx, app } = await releasedApp();
    const { run } = await createRun(getDb(), ctx, app.id, { command: "python once.py" });
    const base = deps();
    const broken: RunDeps = {
      ...base,
      podman: {
        ...base.podman,
        wait: async () => {
          throw new PodmanError("command_failed", "wait", "the worker died here");
        },
      },
    };
    await expect(executeRun(broken, run.id)).rejects.toThrow();
    const name = runContainerName(run.id);
    expect(await containerOf(name)).toBeDefined();
    expect((await getDb().run.findUniqueOrThrow({ where: { id: run.id } })).status).toBe("running");

    await executeRun(deps(), run.id);
    expect(await runCallsOf(name)).toHaveLength(1);
    expect(await getDb().run.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({
      status: "succeeded",
      exitCode: 0,
    });
  });

  it("reconcile keeps the containers of active runs and removes those of ended ones", async () => {
    await runsHang();
    const { ctx, app } = await releasedApp();
    const active = await createRun(getDb(), ctx, app.id, { command: "sleep 1000", timeoutSeconds: 600 });
    const ended = await createRun(getDb(), ctx, app.id, { command: "sleep 1000", timeoutSeconds: 600 });
    const base = deps();
    const stopAfterStart: RunDeps = {
      ...base,
      podman: {
        ...base.podman,
        wait: async () => {
          throw new PodmanError("command_failed", "wait", "the worker died here");
        },
      },
    };
    await expect(executeRun(stopAfterStart, active.run.id)).rejects.toThrow();
    await expect(executeRun(stopAfterStart, ended.run.id)).rejects.toThrow();
    // The second one ended (say its job gave up) with its container left behind.
    await getDb().run.update({ where: { id: ended.run.id }, data: { status: "failed", finishedAt: new Date() } });
    await reconcile({
      db: getDb(),
      podman: base.podman,
      caddy: base.caddy,
      routing: base.routing,
      log: silentLog,
      limits: null,
      // Past the orphan grace period of freshly started containers.
      now: () => Date.now() + 60 * 60_000,
    });
    expect(await containerOf(runContainerName(active.run.id))).toBeDefined();
    expect(await containerOf(runContainerName(ended.run.id))).toBeUndefined();
  });
});
