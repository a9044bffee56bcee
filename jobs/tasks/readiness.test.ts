// Fail fast on an unready host: the build and release jobs check podman, the sandbox runtime and a local base image
// before any work, and fail the deployment at once (no retry) with what the operator should do. Caddy down is an
// outage a release waits out through its retries (lib/engine/release/switch.ts), not a reason to fail it.
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { TaskContext } from "@/jobs/define";
import { tasks } from "@/jobs/tasks";
import { getDb } from "@/lib/db";
import { createDeployment } from "@/lib/domain/deployments";
import { createUpload } from "@/lib/domain/uploads";
import { resetEnvForTests } from "@/lib/env";
import { resetInfraForTests } from "@/lib/services/infra";
import { type FakeCaddy, startFakeCaddy } from "@/test/fake-caddy";
import { type FakePodman, installFakePodman } from "@/test/fake-podman/install";
import { pendingJobs } from "@/test/helpers";
import { fakeContainers, oneOffExits, seedApp, seedBuiltDeployment, silentLog } from "@/test/release-helpers";

const run = promisify(execFile);
let podman: FakePodman;
let caddy: FakeCaddy;
let scratch: string;
const saved: Record<string, string | undefined> = {};

function setEnv(values: Record<string, string | undefined>): void {
  for (const [key, value] of Object.entries(values)) {
    if (!(key in saved)) saved[key] = process.env[key];
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  resetEnvForTests();
  resetInfraForTests();
}

function taskCtx(): TaskContext {
  return { db: getDb(), log: silentLog, jobId: "1", attempt: 1, maxAttempts: 3, workerId: "test" };
}

beforeAll(async () => {
  podman = await installFakePodman();
  caddy = await startFakeCaddy();
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-readiness-test-"));
});

afterEach(async () => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
    delete saved[key];
  }
  resetEnvForTests();
  resetInfraForTests();
  await podman.configure({});
});

afterAll(async () => {
  await podman.cleanup();
  await caddy.close();
  await fs.rm(scratch, { recursive: true, force: true });
});

async function queuedDeployment() {
  const { ctx, app } = await seedApp({ replicas: 1 });
  const archive = path.join(scratch, `${app.id}.tar.gz`);
  await run("tar", ["-czf", archive, "-C", path.resolve("examples/wsgi-stdlib"), "."]);
  const upload = await createUpload(
    getDb(),
    ctx,
    (async function* () {
      yield await fs.readFile(archive);
    })(),
  );
  const { deployment, operation } = await createDeployment(getDb(), ctx, app.id, {
    type: "upload",
    uploadId: upload.id,
  });
  return { app, deploymentId: deployment.id, operationId: operation.id };
}

describe("deployment__build on an unready host", { timeout: 120_000 }, () => {
  it("fails at once when the sandbox runtime is not installed, saying to run the host setup", async () => {
    await podman.configure({ RUNTIMES: "runc,crun" });
    const { deploymentId, operationId } = await queuedDeployment();
    await tasks.deployment__build.run({ deploymentId, operationId }, taskCtx());
    const deployment = await getDb().deployment.findUniqueOrThrow({ where: { id: deploymentId } });
    expect(deployment.status).toBe("failed");
    expect(deployment.error).toContain("the sandbox runtime runsc is not installed");
    expect(deployment.error).toContain("scripts/host-setup.sh");
    expect((await getDb().operation.findUniqueOrThrow({ where: { id: operationId } })).status).toBe("failed");
    // Nothing was built and no release was queued.
    expect((await podman.calls()).some((argv) => argv.includes("build"))).toBe(false);
    expect(await pendingJobs("deployment__release")).toEqual([]);
  });

  it("fails before building when the local base image host setup builds is missing", async () => {
    setEnv({ TUSSILAGO_PYTHON_IMAGE: "localhost/tussilago-python:{version}" });
    const { deploymentId } = await queuedDeployment();
    await tasks.deployment__build.run({ deploymentId, operationId: await operationOf(deploymentId) }, taskCtx());
    const deployment = await getDb().deployment.findUniqueOrThrow({ where: { id: deploymentId } });
    expect(deployment.status).toBe("failed");
    expect(deployment.error).toMatch(
      /base image localhost\/tussilago-python:3\.\d+ is missing: run scripts\/host-setup\.sh/,
    );
  });
});

async function operationOf(deploymentId: string): Promise<string> {
  const row = await getDb().deployment.findUniqueOrThrow({ where: { id: deploymentId } });
  return row.operationId as string;
}

describe("deployment__release on an unready host", { timeout: 120_000 }, () => {
  it("does not fail a release at once when Caddy's admin API does not answer: its attempts wait for Caddy", async () => {
    // The test environment points Caddy at a closed port. A failing `podman run` ends the attempt before the switch.
    await podman.configure({ ...oneOffExits(0), FAIL_RUN: "125" });
    const { app } = await seedApp({ replicas: 1 });
    const { deployment, operation } = await seedBuiltDeployment(app);
    await expect(
      tasks.deployment__release.run({ deploymentId: deployment.id, operationId: operation.id }, taskCtx()),
    ).rejects.toMatchObject({ retryable: true });
    expect(await getDb().deployment.findUniqueOrThrow({ where: { id: deployment.id } })).toMatchObject({
      status: "releasing",
      error: null,
    });
    expect((await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } })).status).toBe("running");
  });

  it("fails at once when the sandbox runtime is missing, without touching Caddy", async () => {
    setEnv({ TUSSILAGO_CADDY_ADMIN: caddy.url });
    await podman.configure({ ...oneOffExits(0), RUNTIMES: "runc" });
    const { app } = await seedApp({ replicas: 1 });
    const { deployment, operation } = await seedBuiltDeployment(app);
    await tasks.deployment__release.run({ deploymentId: deployment.id, operationId: operation.id }, taskCtx());
    const row = await getDb().deployment.findUniqueOrThrow({ where: { id: deployment.id } });
    expect(row.status).toBe("failed");
    expect(row.error).toBe(
      "This host is not ready to run apps: the sandbox runtime runsc is not installed or not registered with podman: " +
        "run scripts/host-setup.sh (as root) to prepare this host.",
    );
    expect(caddy.loads).toBe(0);
  });

  it("says podman is missing when it is not installed", async () => {
    setEnv({ TUSSILAGO_PODMAN_PATH: "/nonexistent/podman", TUSSILAGO_CADDY_ADMIN: caddy.url });
    const { app } = await seedApp({ replicas: 1 });
    // The image exists in the fake podman's state; the release only finds no podman.
    setEnv({ TUSSILAGO_PODMAN_PATH: podman.path });
    const { deployment, operation } = await seedBuiltDeployment(app);
    setEnv({ TUSSILAGO_PODMAN_PATH: "/nonexistent/podman" });
    await tasks.deployment__release.run({ deploymentId: deployment.id, operationId: operation.id }, taskCtx());
    const row = await getDb().deployment.findUniqueOrThrow({ where: { id: deployment.id } });
    expect(row.status).toBe("failed");
    expect(row.error).toMatch(/podman|container engine/);
  });
});

describe("app__lifecycle on an unready host", { timeout: 120_000 }, () => {
  it("fails a queued start at once when Caddy does not answer, touching nothing", async () => {
    const { app } = await seedApp({ replicas: 1 });
    const operation = await getDb().operation.create({
      data: { kind: "app.start", teamId: app.teamId, targetType: "app", targetId: app.id },
    });
    await tasks.app__lifecycle.run({ operationId: operation.id, appId: app.id, action: "start" }, taskCtx());
    const row = await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } });
    expect(row.status).toBe("failed");
    expect(row.error).toContain("Caddy's admin API");
    expect(await fakeContainers(podman)).toEqual([]);
  });
});
