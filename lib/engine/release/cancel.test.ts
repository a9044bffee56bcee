// Cancel means cancel (#18): a built deployment whose cancel was asked for before its release started ends
// `cancelled`, with its operation, and starts nothing; once it is releasing the domain says it is too late.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { cancelDeployment } from "@/lib/domain/deployments";
import { releaseDeployment } from "@/lib/engine/release";
import { expectAppError } from "@/test/errors";
import { type FakeCaddy, startFakeCaddy } from "@/test/fake-caddy";
import { type FakePodman, installFakePodman } from "@/test/fake-podman/install";
import { fakeContainers, seedApp, seedBuiltDeployment, testDeps } from "@/test/release-helpers";

let podman: FakePodman;
let caddy: FakeCaddy;

beforeAll(async () => {
  podman = await installFakePodman();
  caddy = await startFakeCaddy();
});

afterAll(async () => {
  await caddy.close();
  await podman.cleanup();
});

describe("cancelling around the release", { timeout: 120_000 }, () => {
  it("a built deployment cancelled before its release ends cancelled, its operation too, and starts nothing", async () => {
    const { ctx, app } = await seedApp({ replicas: 1 });
    const { deployment, operation } = await seedBuiltDeployment(app);
    await cancelDeployment(getDb(), ctx, deployment.id);
    await releaseDeployment(testDeps(caddy), { deploymentId: deployment.id, operationId: operation.id });
    const row = await getDb().deployment.findUniqueOrThrow({ where: { id: deployment.id } });
    expect(row).toMatchObject({ status: "cancelled", error: expect.stringMatching(/cancelled before its release/) });
    expect((await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } })).status).toBe("cancelled");
    expect(await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).toMatchObject({
      status: "created",
      currentDeploymentId: null,
    });
    const started = (await fakeContainers(podman)).filter((c) => c.labels["tussilago.app"] === app.id);
    expect(started).toEqual([]);
  });

  it("a releasing deployment cannot be cancelled: too late, said in words, and nothing changes", async () => {
    const { ctx, app } = await seedApp({ replicas: 1 });
    const { deployment } = await seedBuiltDeployment(app);
    await getDb().deployment.update({ where: { id: deployment.id }, data: { status: "releasing" } });
    const error = await expectAppError(cancelDeployment(getDb(), ctx, deployment.id), "conflict");
    expect(error.message).toMatch(/Too late to cancel: the release of deployment #1 had already started/);
    const row = await getDb().deployment.findUniqueOrThrow({ where: { id: deployment.id } });
    expect(row.cancelRequestedAt).toBeNull();
  });
});
