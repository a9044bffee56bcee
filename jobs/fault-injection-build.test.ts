// Fault injection during a build (test/fault-harness.ts): the real worker is SIGKILLed while `podman build` runs and
// right after it (the image built, the deployment not yet updated). A restarted worker builds once more and
// releases once: the deployment ends running, served by exactly its replicas, with no build workspace and no
// untagged copy of the image left that platform__prune (which removes images by their deployment's tag) would miss.
import { describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import {
  assertConverged,
  buildQueued,
  callsSince,
  fakeImages,
  harness,
  installFaultHarness,
  killedByFake,
  REPLICAS,
  resetKillSwitch,
  startWorkerProcess,
  withWorker,
} from "@/test/fault-harness";

installFaultHarness();

describe("a worker killed during a build", { timeout: 300_000 }, () => {
  it.each([
    ["while podman builds the image", "KILL_DURING", "during BUILD"],
    ["after the image was built, before the build was recorded", "KILL_ON", "BUILD:1"],
  ])("converges when killed %s", async (_label, killSwitch, expected) => {
    const seeded = await buildQueued();
    const deploymentId = seeded.second.deployment.id;
    await resetKillSwitch();
    const child = await startWorkerProcess(undefined, { [killSwitch]: "BUILD:1" });
    await killedByFake(child, expected);
    expect((await getDb().deployment.findUniqueOrThrow({ where: { id: deploymentId } })).status).toBe("building");
    const mark = (await harness().podman.calls()).length;

    await withWorker(async () => {
      await assertConverged(seeded);
      // Built once more and released once: one `run` per replica of this deployment, no duplicate.
      const runs = (await callsSince(mark)).filter(
        (argv) => argv.includes("run") && argv.some((arg) => arg.includes(deploymentId)),
      );
      expect(runs.length).toBe(REPLICAS);
      // Every image of the app carries a tag a deployment row records: nothing the prune could not find.
      const images = (await fakeImages()).filter((image) => image.labels["tussilago.app"] === seeded.app.id);
      const deployment = await getDb().deployment.findUniqueOrThrow({ where: { id: deploymentId } });
      expect(images.map((image) => image.names)).toEqual([[deployment.imageRef]]);
    });
  });
});
