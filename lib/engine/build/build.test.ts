// The build engine with injected fakes (no podman binary, no git): a host that is not ready fails the deployment with
// its reason before podman is asked for anything, a failing build step is the user's (final, not retried), a
// cancellation ends it as cancelled, and an error of the infrastructure is thrown for the job to retry.
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { type Ctx, userContext } from "@/lib/domain/context";
import { cancelDeployment, createDeployment } from "@/lib/domain/deployments";
import { createTeam } from "@/lib/domain/teams";
import { createUpload } from "@/lib/domain/uploads";
import { createUser } from "@/lib/domain/users";
import { type BuildDeps, buildDeployment } from "@/lib/engine/build";
import { getEnv } from "@/lib/env";
import type { Podman } from "@/lib/infra/podman";
import { PodmanError } from "@/lib/infra/podman";

const run = promisify(execFile);
const meta = { requestId: "test", ip: "127.0.0.1", userAgent: "vitest" };
let scratch: string;

beforeAll(async () => {
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-build-engine-"));
});

afterAll(async () => {
  await fs.rm(scratch, { recursive: true, force: true });
});

async function seed(): Promise<{ ctx: Ctx; appId: string }> {
  const db = getDb();
  const user = await createUser(db, {
    email: `b-${crypto.randomUUID()}@example.com`,
    password: "correct horse battery",
  });
  const team = await createTeam(db, { userId: user.id, name: "Builders", meta });
  const ctx = await userContext(db, user.id, team.id, meta);
  const app = await createApp(db, ctx, { name: `app-${Math.random().toString(36).slice(2, 8)}` });
  return { ctx, appId: app.id };
}

async function deployExample(ctx: Ctx, appId: string) {
  const out = path.join(scratch, `${crypto.randomUUID()}.tar.gz`);
  await run("tar", ["-czf", out, "-C", "examples/wsgi-stdlib", "."]);
  const buffer = await fs.readFile(out);
  const upload = await createUpload(
    getDb(),
    ctx,
    (async function* () {
      yield buffer;
    })(),
  );
  return await createDeployment(getDb(), ctx, appId, { type: "upload", uploadId: upload.id });
}

/** A podman that records what it was asked and fails every build with `buildError`. */
function fakePodman(buildError: unknown): { podman: Podman; asked: string[] } {
  const asked: string[] = [];
  const podman = new Proxy({} as Podman, {
    get: (_target, method: string) => async () => {
      asked.push(method);
      if (method === "build") throw buildError;
      if (method === "imageExists") return true;
      return null;
    },
  });
  return { podman, asked };
}

function depsWith(overrides: Partial<BuildDeps>): BuildDeps {
  const env = getEnv();
  return {
    db: getDb(),
    log: pino({ level: "silent" }),
    dataDir: env.dataDir,
    config: env.infra,
    defaultPythonVersion: "3.12",
    podman: () => {
      throw new Error("podman was not expected to be asked");
    },
    exec: async () => {
      throw new Error("no process was expected");
    },
    gitPath: () => "/nonexistent/git",
    readinessProblem: async () => null,
    cancelPollMs: 50,
    buildCgroup: async () => null,
    ...overrides,
  };
}

async function outcome(deploymentId: string, operationId: string, appId: string) {
  const db = getDb();
  return {
    deployment: await db.deployment.findUniqueOrThrow({ where: { id: deploymentId } }),
    operation: await db.operation.findUniqueOrThrow({ where: { id: operationId } }),
    app: await db.app.findUniqueOrThrow({ where: { id: appId } }),
  };
}

describe("buildDeployment", () => {
  it("fails with the host's problem before podman is asked, and the app has nothing to fall back to", async () => {
    const { ctx, appId } = await seed();
    const { deployment, operation } = await deployExample(ctx, appId);
    const deps = depsWith({ readinessProblem: async () => "no sandbox runtime here" });
    await buildDeployment(deps, { deploymentId: deployment.id, operationId: operation.id });
    const after = await outcome(deployment.id, operation.id, appId);
    expect(after.deployment).toMatchObject({ status: "failed", error: "no sandbox runtime here" });
    expect(after.operation).toMatchObject({ status: "failed", error: "no sandbox runtime here" });
    expect(after.app.status).toBe("failed");
  });

  it("a failing build step is the user's: final, with the end of the build log", async () => {
    const { ctx, appId } = await seed();
    const { deployment, operation } = await deployExample(ctx, appId);
    const failed = new PodmanError("command_failed", "build", "exit code 1");
    const { podman, asked } = fakePodman(failed);
    await buildDeployment(depsWith({ podman: () => podman }), {
      deploymentId: deployment.id,
      operationId: operation.id,
    });
    const after = await outcome(deployment.id, operation.id, appId);
    expect(asked).toContain("build");
    expect(after.deployment.status).toBe("failed");
    expect(after.deployment.error).toContain("The image build failed.");
  });

  it("writes a failing step's output to the log once: the failure line is a summary, not the log's tail again", async () => {
    const { ctx, appId } = await seed();
    const { deployment, operation } = await deployExample(ctx, appId);
    const podman = new Proxy({} as Podman, {
      get: (_target, method: string) => async (options: { onStdout?: (chunk: string) => void }) => {
        if (method !== "build") return method === "imageExists" ? false : null;
        options.onStdout?.("STEP 3/4: RUN pip install -r requirements.txt\n");
        options.onStdout?.("ERROR: No matching distribution found for nosuchpackage==9\n");
        throw new PodmanError("command_failed", "build", "exit code 1");
      },
    });
    await buildDeployment(depsWith({ podman: () => podman }), {
      deploymentId: deployment.id,
      operationId: operation.id,
    });
    const after = await outcome(deployment.id, operation.id, appId);
    expect(after.deployment).toMatchObject({ status: "failed", failureSide: "tenant" });
    // The API's reason still quotes the end of the log, for clients that show no log.
    expect(after.deployment.error).toContain("No matching distribution found");
    const log = await fs.readFile(path.join(getEnv().dataDir, "logs", "deployments", `${deployment.id}.log`), "utf8");
    expect(log.split("No matching distribution found")).toHaveLength(2);
    expect(log).toMatch(/==> Failed: The image build failed\.\n/);
  });

  it("a base image the host cannot fetch is the operator's to fix, said so, final, with the readiness page", async () => {
    const { ctx, appId } = await seed();
    const { deployment, operation } = await deployExample(ctx, appId);
    const { podman } = fakePodman(new PodmanError("pull_failed", "build", "no such host"));
    await buildDeployment(depsWith({ podman: () => podman }), {
      deploymentId: deployment.id,
      operationId: operation.id,
    });
    const after = await outcome(deployment.id, operation.id, appId);
    expect(after.deployment).toMatchObject({ status: "failed", failureSide: "operator" });
    expect(after.deployment.error).toMatch(/could not fetch the base image.*operator.*\/admin\/host/s);
    expect(after.operation.status).toBe("failed");
  });

  it("builds under the deployment's pids cgroup and removes it afterwards, whatever the outcome", async () => {
    const { ctx, appId } = await seed();
    const { deployment, operation } = await deployExample(ctx, appId);
    const asked: Parameters<Podman["build"]>[0][] = [];
    const podman = new Proxy({} as Podman, {
      get: (_target, method: string) => async (options: Parameters<Podman["build"]>[0]) => {
        if (method === "build") {
          asked.push(options);
          throw new PodmanError("command_failed", "build", "exit code 1");
        }
        return method === "imageExists" ? true : null;
      },
    });
    const events: string[] = [];
    const deps = depsWith({
      podman: () => podman,
      buildCgroup: async (name) => {
        events.push(`create ${name}`);
        return { parent: `/tussilago-builds/${name}`, remove: async () => void events.push(`remove ${name}`) };
      },
    });
    await buildDeployment(deps, { deploymentId: deployment.id, operationId: operation.id });
    expect(asked.map((options) => options.cgroupParent)).toEqual([`/tussilago-builds/${deployment.id}`]);
    expect(events).toEqual([`create ${deployment.id}`, `remove ${deployment.id}`]);
    expect((await outcome(deployment.id, operation.id, appId)).deployment.status).toBe("failed");
  });

  it("an infrastructure error is thrown for a retry, and the deployment stays building", async () => {
    const { ctx, appId } = await seed();
    const { deployment, operation } = await deployExample(ctx, appId);
    const broken = new PodmanError("unexpected_output", "build", "podman said nonsense", { retryable: true });
    const { podman } = fakePodman(broken);
    await expect(
      buildDeployment(depsWith({ podman: () => podman }), { deploymentId: deployment.id, operationId: operation.id }),
    ).rejects.toBe(broken);
    expect((await outcome(deployment.id, operation.id, appId)).deployment.status).toBe("building");
  });

  it("a deployment cancelled before its build starts ends cancelled, its first-time app back to created", async () => {
    const { ctx, appId } = await seed();
    const { deployment, operation } = await deployExample(ctx, appId);
    await getDb().deployment.update({ where: { id: deployment.id }, data: { cancelRequestedAt: new Date() } });
    await buildDeployment(depsWith({}), { deploymentId: deployment.id, operationId: operation.id });
    const after = await outcome(deployment.id, operation.id, appId);
    expect(after.deployment.status).toBe("cancelled");
    // The operation a client follows says cancelled too, not failed (#18).
    expect(after.operation.status).toBe("cancelled");
    expect(after.app.status).toBe("created");
  });

  it("a deployment cancelled while podman builds ends cancelled, and so does its operation", async () => {
    const { ctx, appId } = await seed();
    const { deployment, operation } = await deployExample(ctx, appId);
    // A build that runs until it is aborted, after asking for the cancel the way the portal and API do.
    const podman = new Proxy({} as Podman, {
      get: (_target, method: string) => async (options: { signal?: AbortSignal }) => {
        if (method !== "build") return method === "imageExists" ? false : null;
        await cancelDeployment(getDb(), ctx, deployment.id);
        await new Promise<void>((resolve) => options.signal?.addEventListener("abort", () => resolve()));
        throw new PodmanError("command_failed", "build", "aborted");
      },
    });
    await buildDeployment(depsWith({ podman: () => podman }), {
      deploymentId: deployment.id,
      operationId: operation.id,
    });
    const after = await outcome(deployment.id, operation.id, appId);
    expect(after.deployment).toMatchObject({ status: "cancelled", failureSide: null });
    expect(after.operation.status).toBe("cancelled");
  });
});
