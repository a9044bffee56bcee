// The run__execute task around the engine: a final failure (the run's release is gone) ends the run at once with the
// reason instead of retrying; when the attempts run out, onGiveUp fails the run and its operation with the reason.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskContext } from "@/jobs/define";
import { runExecute } from "@/jobs/tasks/run__execute";
import { getDb } from "@/lib/db";
import { createRun } from "@/lib/domain/runs";
import { type FakePodman, installFakePodman } from "@/test/fake-podman/install";
import { seedApp, seedBuiltDeployment, silentLog } from "@/test/release-helpers";

let podman: FakePodman;

beforeAll(async () => {
  podman = await installFakePodman();
});

afterAll(async () => {
  await podman.cleanup();
});

function ctx(attempt = 1): TaskContext {
  return { db: getDb(), log: silentLog, jobId: "1", attempt, maxAttempts: 3, workerId: "test" };
}

async function queuedRun() {
  const { ctx: userCtx, app } = await seedApp({ replicas: 1 });
  const { deployment } = await seedBuiltDeployment(app);
  await getDb().app.update({ where: { id: app.id }, data: { currentDeploymentId: deployment.id } });
  return await createRun(getDb(), userCtx, app.id, { command: "python manage.py check" });
}

describe("run__execute", { timeout: 120_000 }, () => {
  it("ends a run whose release is gone at once, with the reason", async () => {
    const { run, operation } = await queuedRun();
    await getDb().run.update({ where: { id: run.id }, data: { deploymentId: randomUUID() } });
    await runExecute.run({ runId: run.id }, ctx());
    expect(await getDb().run.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({
      status: "failed",
      reason: "The release this run was to use no longer exists.",
    });
    expect((await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } })).status).toBe("failed");
  });

  it("fails the run and its operation with the reason when the attempts run out", async () => {
    const { run, operation } = await queuedRun();
    await runExecute.onGiveUp?.({ runId: run.id }, "Podman did not answer. Several attempts failed.", ctx(3));
    expect(await getDb().run.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({
      status: "failed",
      reason: "Podman did not answer. Several attempts failed.",
    });
    expect(await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } })).toMatchObject({
      status: "failed",
      error: "Podman did not answer. Several attempts failed.",
    });
  });
});
