// Image reuse (#19): a deployment whose image key (source tree, plan, Containerfile, base image ID) matches a kept
// image of an earlier deployment of the same app releases that image without `podman build`; any change to one of
// those rebuilds; another team's identical source never reuses. Against the fake podman, which records its calls.
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { runOnce } from "graphile-worker";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTaskList } from "@/jobs/runner";
import { workerLogger } from "@/lib/database/migrate";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { type Ctx, userContext } from "@/lib/domain/context";
import { createDeployment, readDeploymentLog } from "@/lib/domain/deployments";
import { createTeam } from "@/lib/domain/teams";
import { createUpload } from "@/lib/domain/uploads";
import { createUser } from "@/lib/domain/users";
import { getEnv } from "@/lib/env";
import { toResourceName } from "@/lib/infra/podman";
import { type FakePodman, installFakePodman } from "@/test/fake-podman/install";

const run = promisify(execFile);
const log = pino({ level: "silent" });
const meta = { requestId: "test", ip: "127.0.0.1", userAgent: "vitest" };

let podman: FakePodman;
let scratch: string;

beforeAll(async () => {
  podman = await installFakePodman();
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-reuse-test-"));
});

afterAll(async () => {
  await podman.cleanup();
  await fs.rm(scratch, { recursive: true, force: true });
});

async function seed(): Promise<{ ctx: Ctx; appId: string }> {
  const db = getDb();
  const user = await createUser(db, { email: `reuse-${crypto.randomUUID()}@example.com`, password: "correct horse" });
  const team = await createTeam(db, { userId: user.id, name: "Reusers", meta });
  const ctx = await userContext(db, user.id, team.id, meta);
  const app = await createApp(db, ctx, { name: `app-${Math.random().toString(36).slice(2, 8)}` });
  return { ctx, appId: app.id };
}

/** A private copy of the example, so a test can change a file of it. */
async function copyOfExample(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(scratch, "src-"));
  await fs.cp("examples/wsgi-stdlib", dir, { recursive: true });
  return dir;
}

/** Deploys the directory and runs the queued builds (not the releases: deployment__release's business). */
async function deployAndBuild(ctx: Ctx, appId: string, dir: string) {
  const out = path.join(scratch, `${crypto.randomUUID()}.tar.gz`);
  await run("tar", ["-czf", out, "-C", dir, "."]);
  const buffer = await fs.readFile(out);
  const upload = await createUpload(
    getDb(),
    ctx,
    (async function* () {
      yield buffer;
    })(),
  );
  const { deployment } = await createDeployment(getDb(), ctx, appId, { type: "upload", uploadId: upload.id });
  const { deployment__release: _release, ...buildsOnly } = buildTaskList({ db: getDb(), log, workerId: "test" });
  await runOnce({ connectionString: getEnv().databaseDirectUrl, logger: workerLogger(log) }, buildsOnly);
  return await getDb().deployment.findUniqueOrThrow({ where: { id: deployment.id } });
}

/** `podman build` calls for this app's images. */
async function buildsOf(appId: string): Promise<number> {
  const prefix = `localhost/${toResourceName(appId)}:`;
  return (await podman.calls()).filter((argv) => argv.includes("build") && argv.some((arg) => arg.startsWith(prefix)))
    .length;
}

async function logOf(ctx: Ctx, deploymentId: string): Promise<string> {
  return (await readDeploymentLog(getDb(), ctx, deploymentId, 0)).text;
}

describe("image reuse", { timeout: 300_000 }, () => {
  it("releases the kept image of an unchanged source without podman build, saying so in the build log", async () => {
    const { ctx, appId } = await seed();
    const dir = await copyOfExample();
    const first = await deployAndBuild(ctx, appId, dir);
    expect(first.status).toBe("built");
    expect(first.imageKey).toMatch(/^[0-9a-f]{64}$/);
    expect(await buildsOf(appId)).toBe(1);

    const second = await deployAndBuild(ctx, appId, dir);
    expect(second.status).toBe("built");
    expect(await buildsOf(appId)).toBe(1);
    expect(second.imageRef).toBe(first.imageRef);
    expect(second.imageKey).toBe(first.imageKey);
    const text = await logOf(ctx, second.id);
    expect(text).toMatch(new RegExp(`reused image ${first.imageKey?.slice(0, 12)} from deployment #1`, "i"));
    expect(text).not.toContain("==> Building the image");
    // The build phase stays visible, and succeeded.
    const phases = second.phases as { name: string; status: string }[];
    expect(phases.find((phase) => phase.name === "building")).toMatchObject({ status: "succeeded" });
    // The build carries no per-deployment label (it would make every build's last layer new).
    const buildCall = (await podman.calls()).find(
      (argv) => argv.includes("build") && argv.includes(first.imageRef ?? "-"),
    );
    expect(buildCall?.some((arg) => arg.startsWith("tussilago.deployment="))).toBe(false);
  });

  it("rebuilds when a file, the plan or the base image's ID changed", async () => {
    const { ctx, appId } = await seed();
    const dir = await copyOfExample();
    const first = await deployAndBuild(ctx, appId, dir);
    expect(await buildsOf(appId)).toBe(1);

    await fs.appendFile(path.join(dir, "wsgi.py"), "\n# changed\n");
    const changedFile = await deployAndBuild(ctx, appId, dir);
    expect(await buildsOf(appId)).toBe(2);
    expect(changedFile.imageKey).not.toBe(first.imageKey);
    expect(changedFile.imageRef).not.toBe(first.imageRef);

    // A file's mode is part of the source tree too.
    await fs.chmod(path.join(dir, "server.py"), 0o755);
    await deployAndBuild(ctx, appId, dir);
    expect(await buildsOf(appId)).toBe(3);

    await getDb().app.update({ where: { id: appId }, data: { webCommand: "python3 server.py --changed" } });
    const changedPlan = await deployAndBuild(ctx, appId, dir);
    expect(await buildsOf(appId)).toBe(4);

    // The base image was rebuilt or pulled anew: same name, another ID.
    const stateFile = path.join(podman.stateDir, "state.json");
    const state = JSON.parse(await fs.readFile(stateFile, "utf8")) as { images: { id: string; names: string[] }[] };
    const ours = `localhost/${toResourceName(appId)}`;
    for (const image of state.images) {
      if (!image.names.some((name) => name.startsWith("localhost/tsl-"))) image.id = `${image.id.slice(0, -8)}00c0ffee`;
    }
    await fs.writeFile(stateFile, JSON.stringify(state));
    const changedBase = await deployAndBuild(ctx, appId, dir);
    expect(await buildsOf(appId)).toBe(5);
    expect(changedBase.imageKey).not.toBe(changedPlan.imageKey);
    expect(changedBase.imageRef?.startsWith(ours)).toBe(true);
  });

  it("never reuses another team's image of the identical source", async () => {
    const a = await seed();
    const b = await seed();
    const dir = await copyOfExample();
    const mine = await deployAndBuild(a.ctx, a.appId, dir);
    const theirs = await deployAndBuild(b.ctx, b.appId, dir);
    expect(await buildsOf(b.appId)).toBe(1);
    expect(theirs.imageRef).not.toBe(mine.imageRef);
    expect(theirs.imageKey).not.toBe(mine.imageKey);
  });
});
