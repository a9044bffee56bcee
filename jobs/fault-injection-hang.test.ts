// Fault injection: a podman call that hangs (test/fault-harness.ts, the fake podman's FAKE_PODMAN_HANG_ON). The real
// worker restarts an app and its first `podman image exists` never answers: the Executor's timeout (60 s for such
// calls) kills it, the job fails as retryable, graphile-worker runs it again and the restart converges, once.
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { restartApp } from "@/lib/domain/lifecycle";
import {
  appContainers,
  assertServing,
  harness,
  installFaultHarness,
  operationEnded,
  resetKillSwitch,
  servingApp,
  withWorker,
} from "@/test/fault-harness";

installFaultHarness();

describe("a podman call that hangs", { timeout: 300_000 }, () => {
  it("times out, is retried, and the restart converges", async () => {
    const seeded = await servingApp();
    const appId = seeded.app.id;
    const before = new Set((await appContainers(appId)).map((container) => container.name));
    const { operation } = await restartApp(getDb(), seeded.ctx, appId);
    await resetKillSwitch();

    await withWorker(
      async () => {
        const ended = await operationEnded(operation.id);
        expect({ status: ended.status, error: ended.error }).toEqual({ status: "succeeded", error: null });
        // The hung call was made, and the operation took a second attempt to finish.
        expect(await fs.readFile(path.join(harness().podman.stateDir, "hung"), "utf8")).toContain("IMAGE_EXISTS");
        expect(ended.attempts).toBe(2);
        await assertServing(appId, seeded.first.deployment.id);
        const after = (await appContainers(appId)).map((container) => container.name);
        expect(after.filter((name) => before.has(name))).toEqual([]);
      },
      { HANG_ON: "IMAGE_EXISTS:1" },
    );
  });
});
