// The build job end to end against the real adapters and a fake podman binary: success, a failing build with its
// output shown to the user, a plan failure, cancellation, and crash-retry idempotency.
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { runOnce } from "graphile-worker";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTaskList } from "@/jobs/runner";
import { deploymentBuild } from "@/jobs/tasks/deployment__build";
import { workerLogger } from "@/lib/database/migrate";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { type Ctx, userContext } from "@/lib/domain/context";
import { createDeployment, readDeploymentLog } from "@/lib/domain/deployments";
import { createTeam } from "@/lib/domain/teams";
import { createUpload } from "@/lib/domain/uploads";
import { createUser } from "@/lib/domain/users";
import { getEnv } from "@/lib/env";
import { type FakePodman, installFakePodman } from "@/test/fake-podman/install";
import { pendingJobs } from "@/test/helpers";

const run = promisify(execFile);
const log = pino({ level: "silent" });
const meta = { requestId: "test", ip: "127.0.0.1", userAgent: "vitest" };

let podman: FakePodman;
let scratch: string;

beforeAll(async () => {
  podman = await installFakePodman();
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-build-test-"));
});

afterAll(async () => {
  await podman.cleanup();
  await fs.rm(scratch, { recursive: true, force: true });
});

async function tarballOf(dir: string): Promise<Buffer> {
  const out = path.join(scratch, `${Math.random().toString(36).slice(2)}.tar.gz`);
  await run("tar", ["-czf", out, "-C", dir, "."]);
  return await fs.readFile(out);
}

async function* chunks(buffer: Buffer): AsyncIterable<Uint8Array> {
  yield buffer;
}

async function seed(): Promise<{ ctx: Ctx; appId: string }> {
  const db = getDb();
  const user = await createUser(db, {
    email: `builder-${crypto.randomUUID()}@example.com`,
    password: "correct horse battery",
  });
  const team = await createTeam(db, { userId: user.id, name: "Builders", meta });
  const ctx = await userContext(db, user.id, team.id, meta);
  const app = await createApp(db, ctx, { name: `app-${Math.random().toString(36).slice(2, 8)}` });
  return { ctx, appId: app.id };
}

async function deployDirectory(ctx: Ctx, appId: string, dir: string) {
  const upload = await createUpload(getDb(), ctx, chunks(await tarballOf(dir)));
  return await createDeployment(getDb(), ctx, appId, { type: "upload", uploadId: upload.id });
}

/** Runs the queued builds only: the releases they queue are deployment__release's business (and its tests'). */
async function drain(): Promise<void> {
  const { deployment__release: _release, ...buildsOnly } = buildTaskList({ db: getDb(), log, workerId: "test" });
  await runOnce({ connectionString: getEnv().databaseDirectUrl, logger: workerLogger(log) }, buildsOnly);
}

async function fullLog(ctx: Ctx, deploymentId: string): Promise<string> {
  let text = "";
  let offset = 0;
  for (;;) {
    const chunk = await readDeploymentLog(getDb(), ctx, deploymentId, offset);
    text += chunk.text;
    if (chunk.nextOffset === offset) return text;
    offset = chunk.nextOffset;
  }
}

describe("deployment__build", () => {
  it("builds an example into an image tagged by app and number, with phases, plan and log", async () => {
    await podman.configure({});
    const { ctx, appId } = await seed();
    const { deployment, operation } = await deployDirectory(ctx, appId, "examples/wsgi-stdlib");
    await drain();

    const row = await getDb().deployment.findUniqueOrThrow({ where: { id: deployment.id } });
    expect(row.status).toBe("built");
    expect(row.imageRef).toBe(`localhost/tsl-${appId.replaceAll("-", "")}:1`);
    expect(row.plan).toMatchObject({ builder: "python", installer: "none" });
    const phases = row.phases as { name: string; status: string; startedAt: string | null }[];
    for (const name of ["queued", "fetching", "planning", "building"]) {
      expect(phases.find((phase) => phase.name === name)).toMatchObject({ status: "succeeded" });
    }
    // The same operation goes on with the release, queued in the app's queue with the "built" status.
    const op = await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } });
    expect(op.status).toBe("running");
    expect((await pendingJobs("deployment__release")).map((job) => job.payload)).toContainEqual({
      deploymentId: deployment.id,
      operationId: operation.id,
    });
    expect((await getDb().app.findUniqueOrThrow({ where: { id: appId } })).status).toBe("deploying");
    expect(phases.find((phase) => phase.name === "releasing")?.status).toBe("pending");

    const text = await fullLog(ctx, deployment.id);
    expect(text).toContain("==> Build plan");
    expect(text).toContain("STEP 1/");
    expect(text).toContain("==> Built");

    const builds = (await podman.calls()).filter((argv) => argv.includes("build"));
    expect(builds).toHaveLength(1);
    expect(builds[0]).toEqual(expect.arrayContaining(["--tag", row.imageRef]));
    // The build workspace is gone; only the log remains.
    await expect(fs.stat(path.join(getEnv().dataDir, "builds", deployment.id))).rejects.toThrow();
  });

  it("fails with the end of the build output shown to the user, and does not retry", async () => {
    await podman.configure({ FAIL_BUILD: "1" });
    const { ctx, appId } = await seed();
    const { deployment, operation } = await deployDirectory(ctx, appId, "examples/flask-requirements");
    await drain();
    const row = await getDb().deployment.findUniqueOrThrow({ where: { id: deployment.id } });
    expect(row.status).toBe("failed");
    expect(row.error).toMatch(/^The image build failed/);
    expect(row.error).toContain("injected failure");
    expect(row.imageRef).toBeNull();
    const op = await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } });
    expect(op).toMatchObject({ status: "failed", attempts: 1 });
    await podman.configure({});
  });

  it("fails with what was looked for when there is no plan", async () => {
    await podman.configure({});
    const empty = await fs.mkdtemp(path.join(scratch, "empty-"));
    await fs.writeFile(path.join(empty, "README.md"), "nothing to run\n");
    const { ctx, appId } = await seed();
    const { deployment } = await deployDirectory(ctx, appId, empty);
    const buildsBefore = (await podman.calls()).filter((argv) => argv.includes("build")).length;
    await drain();
    const row = await getDb().deployment.findUniqueOrThrow({ where: { id: deployment.id } });
    expect(row.status).toBe("failed");
    expect(row.error).toContain("Looked for");
    expect((await podman.calls()).filter((argv) => argv.includes("build"))).toHaveLength(buildsBefore);
  });

  it("stops when the deployment is cancelled before it starts", async () => {
    const { ctx, appId } = await seed();
    const { deployment } = await deployDirectory(ctx, appId, "examples/wsgi-stdlib");
    await getDb().deployment.update({ where: { id: deployment.id }, data: { cancelRequestedAt: new Date() } });
    await drain();
    const row = await getDb().deployment.findUniqueOrThrow({ where: { id: deployment.id } });
    expect(row.status).toBe("cancelled");
    expect(row.imageRef).toBeNull();
  });

  it("converges after a crash mid-build: one image, one log, one row", async () => {
    await podman.configure({});
    const { ctx, appId } = await seed();
    const { deployment, operation } = await deployDirectory(ctx, appId, "examples/wsgi-stdlib");
    // Simulate a worker that died while building: the row says building, the operation running, a stale log exists.
    await getDb().deployment.update({ where: { id: deployment.id }, data: { status: "building" } });
    await getDb().operation.update({ where: { id: operation.id }, data: { status: "running", attempts: 1 } });
    const logFile = path.join(getEnv().dataDir, "logs", "deployments", `${deployment.id}.log`);
    await fs.mkdir(path.dirname(logFile), { recursive: true });
    await fs.writeFile(logFile, "stale output of the crashed attempt\n");
    // Run the task body twice, as a retried job would.
    const ctxFor = { db: getDb(), log, jobId: "1", attempt: 2, maxAttempts: 3, workerId: "w" };
    await deploymentBuild.run({ deploymentId: deployment.id, operationId: operation.id }, ctxFor);
    await deploymentBuild.run({ deploymentId: deployment.id, operationId: operation.id }, ctxFor);

    expect(await getDb().deployment.count({ where: { appId } })).toBe(1);
    const row = await getDb().deployment.findUniqueOrThrow({ where: { id: deployment.id } });
    expect(row.status).toBe("built");
    const text = await fs.readFile(logFile, "utf8");
    expect(text).not.toContain("stale output");
    expect(text.match(/==> Built/g)).toHaveLength(1);
    // One release queued, however many times the build ran.
    const releases = (await pendingJobs("deployment__release")).filter(
      (job) => (job.payload as { deploymentId: string }).deploymentId === deployment.id,
    );
    expect(releases).toHaveLength(1);
    const images = (await podman.calls()).filter(
      (argv) => argv.includes("build") && argv.includes(row.imageRef ?? "-"),
    );
    expect(images).toHaveLength(1);
  });
});
