// Scaling an app that was never deployed is refused by the domain (#18): 409 conflict with words saying to deploy
// first, nothing stored, nothing queued; it used to be accepted and queued a lifecycle job with nothing to do.
import { describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { NEVER_DEPLOYED_SCALE, scaleApp } from "@/lib/domain/lifecycle";
import { expectAppError } from "@/test/errors";
import { createTestTeam, createTestUser, userCtx } from "@/test/factories";
import { pendingJobs } from "@/test/helpers";

describe("scaleApp before the first release", () => {
  it("refuses an app without a release, also while its first deployment builds, and changes nothing", async () => {
    const owner = await createTestUser();
    const team = await createTestTeam(owner.id);
    const ctx = await userCtx(owner.id, team.id);
    const app = await createApp(getDb(), ctx, { name: "first-deploy" });
    const before = await getDb().app.findUniqueOrThrow({ where: { id: app.id } });
    const error = await expectAppError(scaleApp(getDb(), ctx, app.id, { replicas: 3 }), "conflict");
    expect(error.message).toBe(NEVER_DEPLOYED_SCALE);
    await getDb().app.update({ where: { id: app.id }, data: { status: "deploying" } });
    await expectAppError(scaleApp(getDb(), ctx, app.id, { processes: { web: 2 } }), "conflict");
    const after = await getDb().app.findUniqueOrThrow({ where: { id: app.id } });
    expect({ replicas: after.replicas, processes: after.processes }).toEqual({
      replicas: before.replicas,
      processes: before.processes,
    });
    const lifecycleJobs = await pendingJobs("app__lifecycle");
    expect(lifecycleJobs.filter((job) => (job.payload as { appId?: string }).appId === app.id)).toEqual([]);
  });
});
