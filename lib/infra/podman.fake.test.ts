import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CommandError, execFileExecutor, toUserMessage } from "./exec";
import { createPodman, type PodmanConfig, PodmanError, toResourceName } from "./podman";

// The real adapter and the real executor against test/fake-podman/podman: real processes, real argument parsing,
// podman's error wordings and JSON shapes, and a fake that refuses `run` without the hardening flags.

const FAKE_PODMAN = fileURLToPath(new URL("../../test/fake-podman/podman", import.meta.url));
const TEAM = "7c1e4a52-3b6d-4f0e-9a21-5d8c3e7f1b90";
const OTHER_TEAM = "9d2f5b63-4c7e-4a1f-8b32-6e9d4f8a2c01";
const APP = "0f3c2a6e-8b1d-4c7e-9a5f-2d4b6c8e0a1b";
const DEPLOYMENT = "5e9d7b31-2c4a-4e8f-b6d0-1a3c5e7f9b2d";
const LABELS = { team: TEAM, app: APP, deployment: DEPLOYMENT, process: "web" };
const NAME = toResourceName(APP, 1, 0);
const NETWORK = toResourceName(TEAM, "net");
const TAG = `localhost/${toResourceName(APP)}:r1`;

let stateDir: string;
let contextDir: string;

function config(extraEnv: Record<string, string> = {}, overrides: Partial<PodmanConfig> = {}): PodmanConfig {
  return {
    podmanPath: FAKE_PODMAN,
    runtime: "runsc-hostnet",
    runtimeFlags: ["network=host"],
    // The fake is a Node script started through `#!/usr/bin/env node`: node must be on its PATH.
    env: {
      PATH: [dirname(process.execPath), process.env.PATH ?? ""].join(delimiter),
      FAKE_PODMAN_STATE: stateDir,
      ...extraEnv,
    },
    ...overrides,
  };
}

async function podmanError(promise: Promise<unknown>): Promise<PodmanError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof PodmanError) return err;
    throw err;
  }
  throw new Error("expected a PodmanError");
}

const buildOptions = () => ({
  contextDir,
  containerfile: join(contextDir, "Containerfile"),
  tag: TAG,
  labels: LABELS,
  memoryMiB: 1024,
  cpus: 1,
  timeoutMs: 30_000,
  pull: "never" as const,
});

const runOptions = {
  name: NAME,
  image: TAG,
  network: NETWORK,
  labels: LABELS,
  env: { DATABASE_URL: "postgres://u:p@db/x", PORT: "8000" },
  port: 8000,
  memoryMiB: 512,
  cpus: 0.5,
};

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "tsl-fake-podman-"));
  contextDir = join(stateDir, "context");
  await mkdir(contextDir);
  await writeFile(join(contextDir, "Containerfile"), "FROM scratch\nRUN true\nEXPOSE 8000\nUSER 1000\n");
});

afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe("podman adapter against the fake podman", () => {
  it("goes through build, run, ps, stop and rm", async () => {
    const podman = createPodman(execFileExecutor, config());

    expect((await podman.version()).client).toBe("4.3.1");
    expect((await podman.info()).ociRuntime?.name).toBe("runsc-hostnet");

    expect(await podman.createNetwork(NETWORK, { team: TEAM })).toEqual({ created: true });
    expect(await podman.createNetwork(NETWORK, { team: TEAM })).toEqual({ created: false });

    const log: string[] = [];
    const { imageId } = await podman.build({ ...buildOptions(), onStdout: (chunk) => log.push(chunk) });
    expect(imageId).toMatch(/^[0-9a-f]{64}$/);
    expect(log.join("")).toContain("STEP 2/4: RUN true");
    expect(await podman.imageExists(TAG)).toBe(true);
    expect(await podman.inspectImage(TAG)).toMatchObject({ id: imageId, tags: [TAG], exposedPorts: ["8000/tcp"] });

    const { id } = await podman.run(runOptions);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect((await podmanError(podman.run(runOptions))).kind).toBe("already_exists");

    const listed = await podman.listContainers({ team: TEAM });
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id, name: NAME, image: TAG, imageId, state: "running" });
    expect(listed[0]?.labels).toMatchObject({
      "tussilago.managed": "true",
      "tussilago.team": TEAM,
      "tussilago.app": APP,
      "tussilago.deployment": DEPLOYMENT,
      "tussilago.process": "web",
    });
    expect(listed[0]?.ports).toEqual([
      { containerPort: 8000, protocol: "tcp", hostIp: "127.0.0.1", hostPort: expect.any(Number) },
    ]);
    expect(await podman.listContainers({ team: OTHER_TEAM })).toEqual([]);

    const details = await podman.inspectContainer(NAME);
    expect(details).toMatchObject({ id, running: true, status: "running", imageId });
    expect(details?.ports[0]?.hostPort).toBe(listed[0]?.ports[0]?.hostPort);
    expect((await podman.stats(NAME))?.pids).toBe(46);
    expect((await podman.logs(NAME, { tail: 10 }))?.stdout).toContain("fake-podman: started");

    await podman.stop(NAME, { timeoutSeconds: 1 });
    expect((await podman.listContainers({ app: APP }))[0]?.state).toBe("exited");
    expect(await podman.stats(NAME)).toBeNull();
    await podman.stop(NAME);

    await podman.remove(NAME);
    await podman.remove(NAME);
    expect(await podman.listContainers({ team: TEAM })).toEqual([]);
    expect(await podman.inspectContainer(NAME)).toBeNull();
    expect(await podman.logs(NAME)).toBeNull();

    await podman.removeImage(TAG);
    await podman.removeImage(TAG);
    expect(await podman.imageExists(TAG)).toBe(false);
    expect(await podman.inspectImage(TAG)).toBeNull();

    await podman.removeNetwork(NETWORK);
    await podman.removeNetwork(NETWORK);
    expect(await podman.networkExists(NETWORK)).toBe(false);

    // The binary saw the hardened command line (the fake refuses `run` without it).
    const calls = (await readFile(join(stateDir, "calls.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { argv: string[] });
    const runCall = calls.find((call) => call.argv.includes("run"));
    expect(runCall?.argv.slice(0, 5)).toEqual(["--runtime", "runsc-hostnet", "--runtime-flag", "network=host", "run"]);
    expect(runCall?.argv).toContain("--cap-drop=all");
  });

  it("reports what is still in use and what is missing", async () => {
    const podman = createPodman(execFileExecutor, config());
    expect((await podmanError(podman.run(runOptions))).kind).toBe("not_found");
    await podman.createNetwork(NETWORK);
    expect((await podmanError(podman.run(runOptions))).kind).toBe("not_found");
    await podman.build(buildOptions());
    await podman.run(runOptions);
    expect((await podmanError(podman.removeImage(TAG))).kind).toBe("in_use");
    expect((await podmanError(podman.removeNetwork(NETWORK))).kind).toBe("in_use");
    expect(await podman.imageExists(TAG)).toBe(true);
  });

  it("surfaces an injected build failure as a command failure with a safe message", async () => {
    const podman = createPodman(execFileExecutor, config({ FAKE_PODMAN_FAIL_BUILD: "1" }));
    const err = await podmanError(podman.build(buildOptions()));
    expect(err.kind).toBe("command_failed");
    expect(err.cause).toBeInstanceOf(CommandError);
    const cause = err.cause as CommandError;
    expect(cause.exitCode).toBe(1);
    expect(cause.stderr).toContain("injected failure");
    expect(toUserMessage(err)).toBe("The build failed. See the build log for details.");
  });

  it("times out a podman that does not answer", async () => {
    const podman = createPodman(execFileExecutor, config({ FAKE_PODMAN_HANG_PS: "1" }, { commandTimeoutMs: 500 }));
    const err = await podmanError(podman.listContainers());
    expect(err.kind).toBe("command_failed");
    expect(err.retryable).toBe(true);
    expect(err.cause).toBeInstanceOf(CommandError);
    expect((err.cause as CommandError).kind).toBe("timeout");
  });

  it("records redacted env values on a failed run", async () => {
    const podman = createPodman(execFileExecutor, config({ FAKE_PODMAN_FAIL_RUN: "125" }));
    await podman.createNetwork(NETWORK);
    await podman.build(buildOptions());
    const err = await podmanError(podman.run(runOptions));
    const cause = err.cause as CommandError;
    expect(cause.args).toContain("DATABASE_URL=<redacted>");
    expect(JSON.stringify(err.toLog())).not.toContain("postgres://");
    expect(err.message).not.toContain("postgres://");
  });
});
