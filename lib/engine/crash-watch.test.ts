// Crash handling (#15) against the fake podman: FAKE_PODMAN_EXIT_ON makes a running container exit with a code at
// the next podman command (and again after each `start`), so a crash loop needs no real time; the watcher's clock is
// injected.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cronItems } from "@/jobs/crontab";
import type { TaskContext } from "@/jobs/define";
import { tasks } from "@/jobs/tasks";
import { getDb } from "@/lib/db";
import { getApp } from "@/lib/domain/apps";
import { getAppRuntime } from "@/lib/domain/lifecycle";
import { CRASH_POLICY, restartDelayMs, watchCrashes } from "@/lib/engine/crash-watch";
import { releaseDeployment } from "@/lib/engine/release";
import { processTag } from "@/lib/engine/release/context";
import { getInfra } from "@/lib/services/infra";
import { type FakeCaddy, startFakeCaddy } from "@/test/fake-caddy";
import { type FakePodman, installFakePodman } from "@/test/fake-podman/install";
import { pendingJobs } from "@/test/helpers";
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

const PLAN = { release: null, processes: { worker: "celery -A a worker" } };

/** A running worker-only app with one worker; its container name. */
async function runningWorker() {
  await podman.configure({});
  const seeded = await seedApp({ replicas: 1 });
  const built = await seedBuiltDeployment(seeded.app, { plan: PLAN });
  await releaseDeployment(testDeps(caddy), { deploymentId: built.deployment.id, operationId: built.operation.id });
  const row = await getDb().replica.findFirstOrThrow({ where: { appId: seeded.app.id, process: "worker" } });
  expect(row.status).toBe("healthy");
  return { ...seeded, row, pattern: `-${processTag("worker")}-0$` };
}

function watcher(clock: { time: number }) {
  return (appContainers?: string) =>
    watchCrashes({ db: getDb(), podman: getInfra().podman(), log: silentLog, now: () => clock.time }).then((report) => {
      if (!appContainers) return report;
      const mine = (names: string[]) => names.filter((name) => name.startsWith(appContainers));
      return {
        restarted: mine(report.restarted),
        waiting: mine(report.waiting),
        crashed: mine(report.crashed),
        stable: mine(report.stable),
      };
    });
}

async function stateOf(name: string): Promise<string | undefined> {
  return (await fakeContainers(podman)).find((container) => container.name === name)?.state;
}

describe("crash watch", { timeout: 300_000 }, () => {
  it("restarts an exited container after 10 s, then 20 s, ... and forgives after 10 minutes of running", async () => {
    const { row, pattern, app } = await runningWorker();
    const prefix = `tsl-${app.id.replaceAll("-", "")}`;
    const clock = { time: Date.parse("2026-06-01T00:00:00Z") };
    const pass = watcher(clock);
    await podman.configure({ EXIT_ON: `${pattern}:3` });

    const callsBefore = (await podman.calls()).length;
    expect(await pass(prefix)).toMatchObject({ waiting: [row.containerName], restarted: [] });
    // One `podman ps -a` for the whole pass, and `logs` only for the container that exited.
    const calls = (await podman.calls()).slice(callsBefore);
    expect(calls.filter((argv) => argv.includes("ps"))).toHaveLength(1);
    expect(calls.filter((argv) => argv.includes("logs"))).toHaveLength(1);
    let stored = await getDb().replica.findUniqueOrThrow({ where: { id: row.id } });
    expect(stored).toMatchObject({ status: "healthy", restartCount: 0, lastExitCode: 3 });
    expect(stored.restartAt?.getTime()).toBe(clock.time + 10_000);
    expect(stored.lastExitLog).toContain("crashed with exit code 3");

    clock.time += 9_999;
    expect(await pass(prefix)).toMatchObject({ restarted: [], waiting: [] });
    clock.time += 1;
    await podman.configure({});
    expect(await pass(prefix)).toMatchObject({ restarted: [row.containerName] });
    expect(await stateOf(row.containerName)).toBe("running");
    stored = await getDb().replica.findUniqueOrThrow({ where: { id: row.id } });
    expect(stored).toMatchObject({ restartCount: 1, restartAt: null });

    // Exits again: twice the delay.
    await podman.configure({ EXIT_ON: `${pattern}:3` });
    clock.time += 1_000;
    expect(await pass(prefix)).toMatchObject({ waiting: [row.containerName] });
    stored = await getDb().replica.findUniqueOrThrow({ where: { id: row.id } });
    expect(stored.restartAt?.getTime()).toBe(clock.time + 20_000);
    clock.time += 20_000;
    await podman.configure({});
    expect(await pass(prefix)).toMatchObject({ restarted: [row.containerName] });

    // Running ten minutes after its last exit: the count starts over.
    clock.time += CRASH_POLICY.stableMs - 20_000 - 1;
    expect(await pass(prefix)).toMatchObject({ stable: [] });
    clock.time += 1;
    expect(await pass(prefix)).toMatchObject({ stable: [row.containerName] });
    expect((await getDb().replica.findUniqueOrThrow({ where: { id: row.id } })).restartCount).toBe(0);
  });

  it("marks a replica that keeps crashing crashed, with its exit code and output, and stops restarting it", async () => {
    const { row, pattern, app, ctx } = await runningWorker();
    const prefix = `tsl-${app.id.replaceAll("-", "")}`;
    const clock = { time: Date.parse("2026-06-02T00:00:00Z") };
    const pass = watcher(clock);
    await podman.configure({ EXIT_ON: `${pattern}:137` });
    const delays: number[] = [];
    for (let restart = 0; restart < CRASH_POLICY.maxRestarts; restart += 1) {
      expect(await pass(prefix)).toMatchObject({ waiting: [row.containerName] });
      const stored = await getDb().replica.findUniqueOrThrow({ where: { id: row.id } });
      const delay = (stored.restartAt?.getTime() ?? 0) - clock.time;
      delays.push(delay);
      clock.time += delay;
      expect(await pass(prefix)).toMatchObject({ restarted: [row.containerName] });
      clock.time += 1_000;
    }
    expect(delays).toEqual([10_000, 20_000, 40_000, 80_000, 160_000]);
    expect(restartDelayMs(CRASH_POLICY, 10)).toBe(CRASH_POLICY.maxDelayMs);
    expect(await pass(prefix)).toMatchObject({ crashed: [row.containerName] });
    const stored = await getDb().replica.findUniqueOrThrow({ where: { id: row.id } });
    expect(stored).toMatchObject({ status: "crashed", lastExitCode: 137, restartAt: null });
    expect(stored.lastExitLog).toContain("crashed with exit code 137");
    expect(stored.lastExitLog?.split("\n").length).toBeLessThanOrEqual(50);

    // No more restarts, whatever the time.
    clock.time += 3_600_000;
    expect(await pass(prefix)).toEqual({ restarted: [], waiting: [], crashed: [], stable: [] });
    expect(await stateOf(row.containerName)).toBe("exited");

    const view = await getApp(getDb(), ctx, app.id);
    expect(view.processes?.worker).toEqual({
      desired: 1,
      running: 0,
      crashed: 1,
      lastCrash: { exitCode: 137, at: stored.lastExitAt, logTail: stored.lastExitLog },
    });
    // The app page's live view shows it, with its exit code and output.
    const runtime = await getAppRuntime(getDb(), ctx, app.id);
    expect(runtime.running).toEqual([
      expect.objectContaining({
        process: "worker",
        status: "crashed",
        lastExit: { exitCode: 137, log: stored.lastExitLog },
      }),
    ]);
    await podman.configure({});
  });
});

describe("platform__crash_watch", { timeout: 300_000 }, () => {
  it("runs from the crontab each minute and queues exactly one pass half a minute later", async () => {
    expect(cronItems().map((item) => item.task)).toContain("platform__crash_watch");
    await podman.configure({});
    const ctx: TaskContext = { db: getDb(), log: silentLog, jobId: "1", attempt: 1, maxAttempts: 1, workerId: "t" };
    await tasks.platform__crash_watch.run({ _cron: { ts: new Date().toISOString() } }, ctx);
    await tasks.platform__crash_watch.run({ _cron: { ts: new Date().toISOString() } }, ctx);
    const queued = await pendingJobs("platform__crash_watch");
    expect(queued.map((job) => job.payload)).toEqual([{ followUp: true }]);
    await tasks.platform__crash_watch.run({ followUp: true }, ctx);
    expect(await pendingJobs("platform__crash_watch")).toHaveLength(1);
  });
});
