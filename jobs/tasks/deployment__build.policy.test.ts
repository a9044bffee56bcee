// Tenant Containerfiles end to end through the REST API with the fake podman: a hostile file uploaded as a tarball is
// refused by the build policy before anything reaches podman, with the line and instruction in the deployment's
// error; base images with ONBUILD triggers are refused after pulling; builds get a process bound; the build log the
// tenant reads has no host paths or resolver addresses.
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { runOnce } from "graphile-worker";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as createDeploymentRoute } from "@/app/api/v1/apps/[appId]/deployments/route";
import { POST as createAppRoute } from "@/app/api/v1/apps/route";
import { GET as deploymentLogsRoute } from "@/app/api/v1/deployments/[id]/logs/route";
import { GET as getDeploymentRoute } from "@/app/api/v1/deployments/[id]/route";
import { POST as uploadRoute } from "@/app/api/v1/uploads/route";
import { buildTaskList } from "@/jobs/runner";
import { workerLogger } from "@/lib/database/migrate";
import { getDb } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { call } from "@/test/api";
import { createTestTeam, createTestToken, createTestUser } from "@/test/factories";
import { type FakePodman, installFakePodman } from "@/test/fake-podman/install";

const run = promisify(execFile);
const log = pino({ level: "silent" });

let podman: FakePodman;
let scratch: string;

beforeAll(async () => {
  podman = await installFakePodman();
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-build-policy-test-"));
});

afterAll(async () => {
  await podman.cleanup();
  await fs.rm(scratch, { recursive: true, force: true });
});

/** A tarball of the given files, made by tar(1). */
async function tarballOf(files: Record<string, string>): Promise<Uint8Array<ArrayBuffer>> {
  const dir = await fs.mkdtemp(path.join(scratch, "src-"));
  for (const [name, text] of Object.entries(files)) await fs.writeFile(path.join(dir, name), text);
  const out = `${dir}.tar.gz`;
  await run("tar", ["-czf", out, "-C", dir, "."]);
  return new Uint8Array(await fs.readFile(out));
}

/** Creates an app, uploads the files and deploys them, all through the API; returns the deployment ID. */
async function deployThroughApi(files: Record<string, string>): Promise<{ token: string; deploymentId: string }> {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const token = await createTestToken(team.id, ["write"]);
  const created = await call(createAppRoute, "/api/v1/apps", {
    token,
    method: "POST",
    body: { name: `app-${Math.random().toString(36).slice(2, 8)}` },
  });
  expect(created.status).toBe(201);
  const appId = ((await created.json()) as { app: { id: string } }).app.id;
  const uploaded = await call(uploadRoute, "/api/v1/uploads", {
    token,
    method: "POST",
    body: await tarballOf(files),
  });
  expect(uploaded.status).toBe(201);
  const uploadId = ((await uploaded.json()) as { upload: { id: string } }).upload.id;
  const deployed = await call(createDeploymentRoute, `/api/v1/apps/${appId}/deployments`, {
    token,
    method: "POST",
    body: { source: { type: "upload", uploadId } },
    params: { appId },
  });
  expect(deployed.status).toBe(202);
  const deploymentId = ((await deployed.json()) as { deployment: { id: string } }).deployment.id;
  return { token, deploymentId };
}

async function drain(): Promise<void> {
  const { deployment__release: _release, ...buildsOnly } = buildTaskList({ db: getDb(), log, workerId: "test" });
  await runOnce({ connectionString: getEnv().databaseDirectUrl, logger: workerLogger(log) }, buildsOnly);
}

async function deploymentOf(token: string, id: string): Promise<{ status: string; error: string | null }> {
  const response = await call(getDeploymentRoute, `/api/v1/deployments/${id}`, { token, params: { id } });
  return ((await response.json()) as { deployment: { status: string; error: string | null } }).deployment;
}

async function logOf(token: string, id: string): Promise<string> {
  const response = await call(deploymentLogsRoute, `/api/v1/deployments/${id}/logs?offset=0`, {
    token,
    params: { id },
  });
  return ((await response.json()) as { text: string }).text;
}

const APP_PY = "def app(environ, start_response):\n    return [b'ok']\n";

describe("tenant Containerfiles through the API", { timeout: 120_000 }, () => {
  it("refuses ADD of a loopback URL before anything reaches podman, naming the line and the instruction", async () => {
    await podman.configure({});
    const callsBefore = (await podman.calls()).length;
    const { token, deploymentId } = await deployThroughApi({
      "app.py": APP_PY,
      Containerfile:
        "FROM python:3.12-slim\n# fetch the config\nADD http://127.0.0.1:2019/config/ /x\nCMD python app.py\n",
    });
    await drain();
    const deployment = await deploymentOf(token, deploymentId);
    expect(deployment.status).toBe("failed");
    expect(deployment.error).toContain("Containerfile line 3: ADD:");
    expect(deployment.error).toContain("not URLs");
    expect(await logOf(token, deploymentId)).toContain("Containerfile line 3: ADD:");
    // Nothing at all reached podman: not a build, not even a probe.
    expect((await podman.calls()).slice(callsBefore)).toEqual([]);
  });

  it("refuses RUN --mount and another team's image in a Dockerfile, every line named", async () => {
    await podman.configure({});
    const callsBefore = (await podman.calls()).length;
    const { token, deploymentId } = await deployThroughApi({
      "app.py": APP_PY,
      Dockerfile:
        "from python:3.12\nrun --mount=type=cache,target=/c,id=../../../etc/x true\n" +
        "COPY --from=localhost/tsl-0123456789abcdef0123456789abcdef:1 /app /app\n",
    });
    await drain();
    const deployment = await deploymentOf(token, deploymentId);
    expect(deployment.status).toBe("failed");
    expect(deployment.error).toContain("Dockerfile line 2: RUN:");
    expect(deployment.error).toContain("Dockerfile line 3: COPY:");
    expect((await podman.calls()).slice(callsBefore)).toEqual([]);
  });

  it("refuses a registry base image whose config carries ONBUILD triggers, after pulling it, without building", async () => {
    await podman.configure({ ONBUILD_IMAGES: "docker.io/acme/trap:1" });
    const { token, deploymentId } = await deployThroughApi({
      "app.py": APP_PY,
      Containerfile: "FROM docker.io/acme/trap:1\nCOPY . /app\n",
    });
    const callsBefore = (await podman.calls()).length;
    await drain();
    const deployment = await deploymentOf(token, deploymentId);
    expect(deployment.status).toBe("failed");
    expect(deployment.error).toContain("docker.io/acme/trap:1");
    expect(deployment.error).toContain("ONBUILD");
    const calls = (await podman.calls()).slice(callsBefore);
    expect(calls).toContainEqual(["pull", "--quiet", "--", "docker.io/acme/trap:1"]);
    expect(calls.some((argv) => argv.includes("build"))).toBe(false);
  });

  it("builds an allowed Containerfile from the pulled images only, with a process bound", async () => {
    await podman.configure({});
    const { token, deploymentId } = await deployThroughApi({
      "app.py": APP_PY,
      Containerfile: "FROM docker.io/library/python:3.12-slim\nCOPY . /app\nCMD python /app/app.py\n",
    });
    const callsBefore = (await podman.calls()).length;
    await drain();
    expect((await deploymentOf(token, deploymentId)).status).toBe("built");
    const build = (await podman.calls()).slice(callsBefore).find((argv) => argv.includes("build"));
    expect(build).toEqual(expect.arrayContaining(["--pull=never", "--ulimit", "nproc=4096:4096"]));
  });

  it("shows the tenant no host paths or resolver addresses in the build log", async () => {
    const resolvConf = await fs.readFile("/etc/resolv.conf", "utf8").catch(() => "");
    const resolver = /^\s*nameserver\s+(\S+)/m.exec(resolvConf)?.[1] ?? "10.0.2.3";
    await podman.configure({
      BUILD_OUTPUT: [
        "STEP 2/3: COPY failed: stat {context}/missing.txt: no such file or directory",
        `dial tcp: lookup pypi.org on ${resolver}:53: no such host`,
        `config at ${getEnv().dataDir}/builds/x/Containerfile`,
      ].join("\n"),
    });
    const { token, deploymentId } = await deployThroughApi({
      "app.py": APP_PY,
      Procfile: "web: python app.py\n",
    });
    await drain();
    const text = await logOf(token, deploymentId);
    expect(text).toContain("COPY failed: stat ./missing.txt");
    expect(text).toContain("lookup pypi.org on <resolver>:53");
    expect(text).toContain("config at <data>/builds/x/Containerfile");
    expect(text).not.toContain(getEnv().dataDir);
    expect(text).not.toContain(`${resolver}:53`);
  });
});
