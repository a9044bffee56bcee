// The fake podman's serve-http switch: containers answer HTTP on their published port while they run, and stop
// answering once removed, so end-to-end releases can pass their health check without real containers.
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
// The task registry first: lib/engine/release and the tasks import each other.
import "@/jobs/tasks";
import { teamNetworkName } from "@/lib/engine/release";
import { getInfra } from "@/lib/services/infra";
import { type FakePodman, installFakePodman } from "@/test/fake-podman/install";
import { buildImage, seedApp } from "@/test/release-helpers";

let podman: FakePodman;

beforeAll(async () => {
  podman = await installFakePodman();
});

afterAll(async () => {
  await podman.cleanup();
});

async function answer(port: number): Promise<string | null> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/`);
    return await response.text();
  } catch {
    return null;
  }
}

async function eventually<T>(probe: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

it("answers on a running container's published port until it is removed", { timeout: 60_000 }, async () => {
  await fs.mkdir(podman.stateDir, { recursive: true });
  await fs.writeFile(path.join(podman.stateDir, "serve-http"), "");
  const { app } = await seedApp({ replicas: 1 });
  const image = await buildImage(app.id, 1);
  const adapter = getInfra().podman();
  await adapter.createNetwork(teamNetworkName(app.teamId), { team: app.teamId });
  const name = `tsl-${app.id.replaceAll("-", "")}-1-0`;
  await adapter.run({
    name,
    image,
    network: teamNetworkName(app.teamId),
    labels: { team: app.teamId, app: app.id, deployment: app.id, process: "web" },
    memoryMiB: 256,
    cpus: 1,
    port: 8000,
  });
  const port = (await adapter.inspectContainer(name))?.ports[0]?.hostPort as number;
  expect(
    await eventually(
      () => answer(port),
      (text) => text !== null,
    ),
  ).toBe(`ok from ${name}\n`);
  await adapter.remove(name);
  expect(
    await eventually(
      () => answer(port),
      (text) => text === null,
    ),
  ).toBeNull();
});
