import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ContainerHost, type ImageBuilder, podmanBuilder, podmanHost } from "./container-host";
import { InfraError } from "./errors";
import { execFileExecutor } from "./exec";
import { createPodman, type Podman, toResourceName } from "./podman";

// The podman implementation of ContainerHost, through the real adapter and executor against test/fake-podman.

const FAKE_PODMAN = fileURLToPath(new URL("../../test/fake-podman/podman", import.meta.url));
const TEAM = "1b7e3c58-2d4f-4a6b-8c9d-0e1f2a3b4c5d";
const APP = "6a8c0e24-4b6d-4f8a-9c1e-3d5f7a9b1c3e";
const DEPLOYMENT = "8e0a2c46-6d8f-4a1c-b3e5-5f7a9c1e3a5b";
const LABELS = { team: TEAM, app: APP, deployment: DEPLOYMENT, process: "web" };
const NETWORK = toResourceName(TEAM);
const NAME = toResourceName(APP, 1, 0);
const TAG = `localhost/${toResourceName(APP)}:r1`;

let stateDir: string;

function podman(): Podman {
  return createPodman(execFileExecutor, {
    podmanPath: FAKE_PODMAN,
    runtime: "runsc",
    // The fake is a Node script started through `#!/usr/bin/env node`: node must be on its PATH.
    env: { PATH: [dirname(process.execPath), process.env.PATH ?? ""].join(delimiter), FAKE_PODMAN_STATE: stateDir },
  });
}

async function infraError(promise: Promise<unknown>): Promise<InfraError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof InfraError) return error;
    throw error;
  }
  throw new Error("expected an InfraError");
}

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "tsl-container-host-"));
  await mkdir(join(stateDir, "context"));
  await writeFile(join(stateDir, "context", "Containerfile"), "FROM scratch\nEXPOSE 8000\nUSER 1000\n");
});

afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe("ContainerHost on podman", () => {
  it("is a drop-in for the Podman the engine holds today", () => {
    // Compile-time: a Podman is accepted wherever a ContainerHost or an ImageBuilder is expected.
    const adapter = podman();
    const asHost: ContainerHost = adapter;
    const asBuilder: ImageBuilder = adapter;
    expect(asHost.run).toBe(adapter.run);
    expect(asBuilder.build).toBe(adapter.build);
    // The host exposes no build, and the builder no container operations.
    expect(Object.keys(podmanHost(adapter)).sort()).toEqual(
      [
        "createNetwork",
        "imageExists",
        "inspectContainer",
        "listContainers",
        "logs",
        "networkExists",
        "remove",
        "removeImage",
        "removeNetwork",
        "run",
        "start",
        "stats",
        "statsAll",
        "stop",
        "wait",
      ].sort(),
    );
    expect(Object.keys(podmanBuilder(adapter)).sort()).toEqual(["build", "inspectImage", "pull"]);
  });

  it("runs a team's replica through its whole life", async () => {
    const adapter = podman();
    const host = podmanHost(adapter);
    const builder = podmanBuilder(adapter);

    expect(await host.createNetwork(NETWORK, { team: TEAM })).toEqual({ created: true });
    expect(await host.createNetwork(NETWORK, { team: TEAM })).toEqual({ created: false });
    expect(await host.networkExists(NETWORK)).toBe(true);

    const context = join(stateDir, "context");
    await builder.build({
      contextDir: context,
      containerfile: join(context, "Containerfile"),
      tag: TAG,
      labels: LABELS,
      memoryMiB: 512,
      cpus: 1,
      timeoutMs: 30_000,
      pull: "never",
    });
    expect(await host.imageExists(TAG)).toBe(true);

    const spec = { name: NAME, image: TAG, network: NETWORK, labels: LABELS, port: 8000, memoryMiB: 256, cpus: 0.5 };
    const { id } = await host.run(spec);
    // What the engine branches on, with no reference to podman: the kind of an InfraError.
    expect((await infraError(host.run(spec))).kind).toBe("already_exists");

    const [listed] = await host.listContainers({ app: APP });
    expect(listed).toMatchObject({ id, name: NAME, state: "running" });
    expect(listed?.ports[0]).toMatchObject({ containerPort: 8000, hostIp: "127.0.0.1" });
    expect(await host.inspectContainer(NAME)).toMatchObject({ id, running: true });
    expect((await host.stats(NAME))?.pids).toEqual(expect.any(Number));
    expect((await host.logs(NAME, { tail: 5 }))?.stdout).toEqual(expect.any(String));
    expect((await infraError(host.removeNetwork(NETWORK))).kind).toBe("in_use");
    expect((await infraError(host.removeImage(TAG))).kind).toBe("in_use");

    await host.stop(NAME, { timeoutSeconds: 1 });
    expect(await host.wait(NAME, { timeoutMs: 10_000 })).toEqual(expect.any(Number));
    await host.remove(NAME);
    await host.remove(NAME);
    expect(await host.inspectContainer(NAME)).toBeNull();
    expect(await host.listContainers({ team: TEAM })).toEqual([]);

    await host.removeImage(TAG);
    expect(await host.imageExists(TAG)).toBe(false);
    await host.removeNetwork(NETWORK);
    expect(await host.networkExists(NETWORK)).toBe(false);
  });
});
