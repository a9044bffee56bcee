// Replay protection outlives the delivery list: a signed delivery pushed out of the newest DELIVERIES_KEPT rows is
// still recognised as a duplicate for DEDUPE_DAYS, so capturing one cannot redeploy an old commit later. Past that
// age, and past the newest rows, it is pruned like any other.
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { DEDUPE_DAYS, receiveDelivery } from "@/lib/domain/deliveries";
import { createOrRotateWebhook, DELIVERIES_KEPT } from "@/lib/domain/webhooks";
import { createTestTeam, createTestUser, userCtx } from "@/test/factories";

async function appWithWebhook() {
  const user = await createTestUser();
  const team = await createTestTeam(user.id);
  const ctx = await userCtx(user.id, team.id);
  const app = await createApp(getDb(), ctx, {
    name: `web-${randomBytes(3).toString("hex")}`,
    source: { url: "https://github.com/acme/shop.git", ref: "main", autoDeploy: true },
  });
  const { webhook } = await createOrRotateWebhook(getDb(), ctx, app.id);
  return { app, team, urlToken: webhook.url.split("/").pop() ?? "", secret: webhook.secret };
}

/** A GitHub push delivery, signed as GitHub signs it. */
function githubPush(secret: string, ref: string, deliveryId = randomUUID()) {
  const body = Buffer.from(JSON.stringify({ ref, after: randomBytes(20).toString("hex"), head_commit: null }));
  const signature = createHmac("sha256", secret).update(body).digest("hex");
  const headers = new Headers({
    "x-github-event": "push",
    "x-github-delivery": deliveryId,
    "x-hub-signature-256": `sha256=${signature}`,
  });
  return { body, headers };
}

/** Rows newer than everything so far, enough to push every earlier one out of the newest DELIVERIES_KEPT. */
async function floodNewer(appId: string, teamId: string, withIds: boolean): Promise<void> {
  const base = Date.now() + 1_000;
  await getDb().webhookDelivery.createMany({
    data: Array.from({ length: DELIVERIES_KEPT + 1 }, (_, i) => ({
      appId,
      teamId,
      forge: "github",
      deliveryId: withIds ? `newer-${i}` : null,
      outcome: "ignored" as const,
      reason: "newer",
      receivedAt: new Date(base + i),
    })),
  });
}

describe("delivery dedupe", () => {
  it(`refuses a replay pushed out of the newest ${DELIVERIES_KEPT} deliveries`, async () => {
    const { app, team, urlToken, secret } = await appWithWebhook();
    const captured = githubPush(secret, "refs/heads/main");
    const first = await receiveDelivery(getDb(), { urlToken, ...captured });
    expect(first.status).toBe(202);

    await floodNewer(app.id, team.id, false);
    // Any further delivery prunes (a push to another branch: ignored, deploys nothing).
    const other = githubPush(secret, "refs/heads/feature");
    expect((await receiveDelivery(getDb(), { urlToken, ...other })).body).toHaveProperty("ignored");

    const replay = await receiveDelivery(getDb(), { urlToken, ...captured });
    expect(replay).toEqual({ status: 200, body: { ignored: "duplicate delivery" } });
    expect(await getDb().deployment.count({ where: { appId: app.id } })).toBe(1);
  });

  it(`prunes delivery IDs older than ${DEDUPE_DAYS} days once past the newest ${DELIVERIES_KEPT}`, async () => {
    const { app, team, urlToken, secret } = await appWithWebhook();
    const old = new Date(Date.now() - (DEDUPE_DAYS + 1) * 86_400_000);
    await getDb().webhookDelivery.create({
      data: { appId: app.id, teamId: team.id, forge: "github", deliveryId: "ancient", outcome: "ignored", reason: "" },
    });
    await getDb().webhookDelivery.updateMany({ where: { deliveryId: "ancient" }, data: { receivedAt: old } });
    await floodNewer(app.id, team.id, true);
    await receiveDelivery(getDb(), { urlToken, ...githubPush(secret, "refs/heads/feature") });

    const ids = (await getDb().webhookDelivery.findMany({ where: { appId: app.id } })).map((row) => row.deliveryId);
    expect(ids).not.toContain("ancient");
    // The recent ones past the newest DELIVERIES_KEPT stay for dedupe.
    expect(ids).toHaveLength(DELIVERIES_KEPT + 2);
  });
});
