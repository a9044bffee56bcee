// Tenant-visible errors never name internal addresses or host paths (issue #22): the reason stored on a deployment or
// an operation, and an API answer, say what happened in a sentence; Caddy's admin URL, the podman binary's path and
// the data directory stay in the worker log and on the readiness page.
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { POST as uploadRoute } from "@/app/api/v1/uploads/route";
import type { TaskContext } from "@/jobs/define";
import { giveUpReason } from "@/jobs/runner";
import { tasks } from "@/jobs/tasks";
import { getDb } from "@/lib/db";
import { createDeployment } from "@/lib/domain/deployments";
import { createUpload } from "@/lib/domain/uploads";
import { getEnv, resetEnvForTests } from "@/lib/env";
import { InfraError } from "@/lib/infra/errors";
import { resetInfraForTests } from "@/lib/services/infra";
import { call } from "@/test/api";
import { createTestToken } from "@/test/factories";
import { type FakePodman, installFakePodman } from "@/test/fake-podman/install";
import { seedApp, silentLog } from "@/test/release-helpers";
import { tarGz } from "@/test/tarball";

const run = promisify(execFile);
let podman: FakePodman;
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

/** No URL, no IP address or host:port, no absolute path of this host. */
function expectNoInternals(text: string | null | undefined, internals: string[]): void {
  expect(text).toBeTruthy();
  for (const internal of internals) expect(text).not.toContain(internal);
  expect(text).not.toMatch(/https?:\/\//);
  // 0.0.0.0 is no address of this host: the help for web commands says to bind to it.
  expect(text?.replaceAll("0.0.0.0", "")).not.toMatch(/\b\d{1,3}(\.\d{1,3}){3}\b|localhost:\d+|\[::1?\]/);
  expect(text).not.toMatch(/(^|[\s(:"'])\/(usr|var|tmp|run|home|etc|srv|opt|nonexistent)\//);
}

beforeAll(async () => {
  podman = await installFakePodman();
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-internals-test-"));
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
  await fs.rm(scratch, { recursive: true, force: true });
});

describe("reasons stored for the tenant", { timeout: 120_000 }, () => {
  it("a start refused because Caddy is down does not name Caddy's admin address", async () => {
    // Caddy's admin API at a closed port: the test environment's default.
    const admin = getEnv().release.caddyAdmin;
    const { app } = await seedApp({ replicas: 1 });
    const operation = await getDb().operation.create({
      data: { kind: "app.start", teamId: app.teamId, targetType: "app", targetId: app.id },
    });
    await tasks.app__lifecycle.run({ operationId: operation.id, appId: app.id, action: "start" }, taskCtx());
    const row = await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } });
    expect(row.status).toBe("failed");
    expectNoInternals(row.error, [admin, new URL(admin).host]);
    expect(row.error).toMatch(/proxy|Caddy/);
  });

  it("a build on a host without podman does not name the configured podman path", async () => {
    const missing = path.join(scratch, "nowhere", "podman");
    const { ctx, app } = await seedApp({ replicas: 1 });
    const archive = path.join(scratch, `${app.id}.tar.gz`);
    await run("tar", ["-czf", archive, "-C", path.resolve("examples/wsgi-stdlib"), "."]);
    const bytes = await fs.readFile(archive);
    const upload = await createUpload(
      getDb(),
      ctx,
      (async function* () {
        yield bytes;
      })(),
    );
    const { deployment, operation } = await createDeployment(getDb(), ctx, app.id, {
      type: "upload",
      uploadId: upload.id,
    });
    setEnv({ TUSSILAGO_PODMAN_PATH: missing });
    await tasks.deployment__build.run({ deploymentId: deployment.id, operationId: operation.id }, taskCtx());
    const row = await getDb().deployment.findUniqueOrThrow({ where: { id: deployment.id } });
    expect(row.status).toBe("failed");
    expectNoInternals(row.error, [missing, scratch]);
    const op = await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } });
    expectNoInternals(op.error, [missing, scratch]);
  });

  it("a job that gives up on an infrastructure error carrying a data directory path says no path", () => {
    const dataDir = getEnv().dataDir;
    const error = new InfraError("io", `EACCES: permission denied, open '${dataDir}/uploads/x.tar.gz'`);
    expectNoInternals(giveUpReason(error, 8, "42"), [dataDir]);
  });
});

describe("answers of the API", () => {
  it("an upload the data directory cannot take answers without the directory's path", async () => {
    const { app } = await seedApp({ replicas: 1 });
    const token = await createTestToken(app.teamId, ["write"]);
    // The data directory is a regular file: every write under it fails with a message naming the path.
    const file = path.join(scratch, "not-a-directory");
    await fs.writeFile(file, "");
    setEnv({ TUSSILAGO_DATA_DIR: file });
    const response = await call(uploadRoute, "/api/v1/uploads", {
      method: "POST",
      token,
      body: await tarGz({ "app.py": "print('hi')\n" }),
    });
    expect(response.status).toBeGreaterThanOrEqual(500);
    expectNoInternals(await response.text(), [file, scratch]);
  });
});
