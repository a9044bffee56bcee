// Deploy on push through the route handlers: the webhook's life (create with the secret once, show without it,
// rotate, turn off), deliveries built exactly as each forge documents them (payloads in test/fixtures/webhooks,
// headers below), and the hostile ones: wrong or missing signature, unknown URL, replay, other branch, tag,
// deletion, huge body, malformed JSON, option- or shell-like ref and SHA. None of those deploys or queues a build.
//
// Sources of the payloads and headers:
// - GitHub: https://docs.github.com/en/webhooks/webhook-events-and-payloads#push (and #ping) and
//   https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
// - GitLab: https://docs.gitlab.com/user/project/integrations/webhook_events/#push-events and
//   https://docs.gitlab.com/user/project/integrations/webhooks/ (X-Gitlab-Token, X-Gitlab-Event-UUID)
// - Gitea / Forgejo: https://docs.gitea.com/usage/webhooks (example push payload, X-Gitea-Signature)
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PATCH as patchAppRoute } from "@/app/api/v1/apps/[appId]/route";
import {
  POST as createWebhookRoute,
  DELETE as deleteWebhookRoute,
  GET as getWebhookRoute,
} from "@/app/api/v1/apps/[appId]/webhook/route";
import { POST as redeployRoute } from "@/app/api/v1/deployments/[id]/redeploy/route";
import { GET as getDeploymentRoute } from "@/app/api/v1/deployments/[id]/route";
import { POST as hookRoute } from "@/app/api/v1/hooks/[urlToken]/route";
import { updateAppEndpoint } from "@/lib/api/endpoints/apps";
import { getDeploymentEndpoint, redeployDeploymentEndpoint } from "@/lib/api/endpoints/deployments";
import { createWebhookEndpoint, getWebhookEndpoint, receiveDeliveryEndpoint } from "@/lib/api/endpoints/webhooks";
import { decryptBound } from "@/lib/crypto";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { DEDUPE_DAYS, DELIVERIES_PER_APP } from "@/lib/domain/deliveries";
import { createDeployment } from "@/lib/domain/deployments";
import { DELIVERIES_KEPT, webhookSecretBinding } from "@/lib/domain/webhooks";
import { call, errorOf } from "@/test/api";
import { createTestTeam, createTestToken, createTestUser, userCtx } from "@/test/factories";
import { pendingJobs } from "@/test/helpers";

const FIXTURES = path.join(process.cwd(), "test/fixtures/webhooks");

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(FIXTURES, name), "utf8")) as Record<string, unknown>;
}

const hmac = (secret: string, body: Buffer | string) => createHmac("sha256", secret).update(body).digest("hex");

type Signer = (secret: string, body: Buffer, event?: string) => Record<string, string>;

/** The headers each forge sends with a delivery, as its documentation lists them. */
const FORGES: Record<"github" | "gitlab" | "gitea" | "generic", Signer> = {
  github: (secret, body, event = "push") => ({
    "x-github-event": event,
    "x-github-delivery": randomUUID(),
    "x-github-hook-id": "292430182",
    "x-hub-signature-256": `sha256=${hmac(secret, body)}`,
    "user-agent": "GitHub-Hookshot/044aadd",
  }),
  gitlab: (secret, _body, event = "Push Hook") => ({
    "x-gitlab-event": event,
    "x-gitlab-token": secret,
    "x-gitlab-event-uuid": randomUUID(),
    "x-gitlab-webhook-uuid": randomUUID(),
    "x-gitlab-instance": "https://gitlab.example.com",
    "user-agent": "GitLab/17.0.0",
  }),
  gitea: (secret, body, event = "push") => ({
    "x-gitea-event": event,
    "x-gitea-delivery": randomUUID(),
    "x-gitea-signature": hmac(secret, body),
    // Gitea also sends GitHub's headers, with a GitHub-style signature: it must still be read as Gitea.
    "x-github-event": event,
    "x-hub-signature-256": `sha256=${hmac(secret, body)}`,
  }),
  generic: (secret, body, event = "push") => ({
    "x-tussilago-event": event,
    "x-tussilago-signature": `sha256=${hmac(secret, body)}`,
  }),
};

function sha(): string {
  return randomBytes(20).toString("hex");
}

async function freshApp(options: { url?: string; ref?: string; autoDeploy?: boolean } = {}) {
  const user = await createTestUser();
  const team = await createTestTeam(user.id);
  const ctx = await userCtx(user.id, team.id);
  const app = await createApp(getDb(), ctx, {
    name: `web-${randomBytes(3).toString("hex")}`,
    source: {
      url: options.url ?? "https://github.com/acme/shop.git",
      ref: options.ref ?? "main",
      autoDeploy: options.autoDeploy ?? true,
    },
  });
  const write = await createTestToken(team.id, ["write"]);
  const created = await call(createWebhookRoute, `/api/v1/apps/${app.id}/webhook`, {
    method: "POST",
    token: write,
    params: { appId: app.id },
  });
  expect(created.status).toBe(201);
  const { webhook } = createWebhookEndpoint.responses[201].schema.parse(await created.json());
  if (!webhook) throw new Error("no webhook");
  const urlToken = webhook.url.split("/").pop() ?? "";
  return { ctx, team, app, write, webhook, urlToken, secret: webhook.secret };
}

function deliver(urlToken: string, body: Buffer | string, headers: Record<string, string>): Promise<Response> {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  return hookRoute(
    new Request(`http://tussilago.test/api/v1/hooks/${urlToken}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: new Uint8Array(bytes),
    }),
    { params: Promise.resolve({ urlToken }) },
  );
}

async function deploymentsOf(appId: string) {
  return await getDb().deployment.findMany({ where: { appId }, orderBy: { number: "asc" } });
}

async function buildJobsFor(ids: string[]): Promise<number> {
  const jobs = await pendingJobs("deployment__build");
  return jobs.filter((job) => ids.includes((job.payload as { deploymentId: string }).deploymentId)).length;
}

async function deliveriesOf(appId: string) {
  return await getDb().webhookDelivery.findMany({ where: { appId }, orderBy: { receivedAt: "asc" } });
}

function push(name: string, overrides: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({ ...fixture(name), ...overrides }));
}

describe("webhook management", () => {
  it("creates with the secret once, shows without it, rotates the secret on the same URL, and turns off", async () => {
    const { app, write, webhook, urlToken, secret } = await freshApp();
    expect(webhook.url).toMatch(/\/api\/v1\/hooks\/[A-Za-z0-9_-]{43}$/);
    expect(webhook.events).toEqual(["push"]);
    const row = await getDb().webhook.findUniqueOrThrow({ where: { appId: app.id } });
    expect(row.secretSealed).not.toContain(secret);
    expect(decryptBound(row.secretSealed, webhookSecretBinding(row.id))).toBe(secret);
    // Bound to the webhook's id: the sealed value does not open as another webhook's.
    expect(() => decryptBound(row.secretSealed, webhookSecretBinding(randomUUID()))).toThrow();

    const shown = await call(getWebhookRoute, `/api/v1/apps/${app.id}/webhook`, {
      token: write,
      params: { appId: app.id },
    });
    expect(shown.status).toBe(200);
    const text = await shown.text();
    expect(text).not.toContain(secret);
    expect(getWebhookEndpoint.responses[200].schema.parse(JSON.parse(text)).webhook.url).toBe(webhook.url);

    const rotated = await call(createWebhookRoute, `/api/v1/apps/${app.id}/webhook`, {
      method: "POST",
      token: write,
      params: { appId: app.id },
    });
    const next = createWebhookEndpoint.responses[201].schema.parse(await rotated.json()).webhook;
    expect(next?.url).toBe(webhook.url);
    expect(next?.secret).not.toBe(secret);
    const body = push("github-push.json", { after: sha() });
    expect((await deliver(urlToken, body, FORGES.github(secret, body))).status).toBe(401);
    expect((await deliver(urlToken, body, FORGES.github(next?.secret ?? "", body))).status).toBe(202);

    const audit = await getDb().auditEvent.findMany({
      where: { targetId: app.id, action: { startsWith: "webhook." } },
    });
    expect(audit.map((event) => event.action).sort()).toEqual(["webhook.created", "webhook.rotated"]);

    const removed = await call(deleteWebhookRoute, `/api/v1/apps/${app.id}/webhook`, {
      method: "DELETE",
      token: write,
      params: { appId: app.id },
    });
    expect(removed.status).toBe(204);
    const again = push("github-push.json", { after: sha() });
    expect((await deliver(urlToken, again, FORGES.github(next?.secret ?? "", again))).status).toBe(401);
  });

  it("answers 404 for another team's app and refuses a read token", async () => {
    const { app } = await freshApp();
    const other = await freshApp();
    const foreign = await call(getWebhookRoute, `/api/v1/apps/${app.id}/webhook`, {
      token: other.write,
      params: { appId: app.id },
    });
    expect(foreign.status).toBe(404);
    const read = await createTestToken(other.team.id, ["read"]);
    const refused = await call(createWebhookRoute, `/api/v1/apps/${other.app.id}/webhook`, {
      method: "POST",
      token: read,
      params: { appId: other.app.id },
    });
    expect(refused.status).toBe(403);
  });

  it("turns autoDeploy on and off through PATCH source", async () => {
    const { app, write } = await freshApp({ autoDeploy: false });
    const patch = (autoDeploy: boolean | undefined) =>
      call(patchAppRoute, `/api/v1/apps/${app.id}`, {
        method: "PATCH",
        token: write,
        params: { appId: app.id },
        body: { source: { type: "git", url: "https://github.com/acme/shop.git", ref: "main", autoDeploy } },
      });
    const on = updateAppEndpoint.responses[200].schema.parse(await (await patch(true)).json());
    expect(on.app.source).toMatchObject({ autoDeploy: true });
    // Omitted: unchanged.
    const same = updateAppEndpoint.responses[200].schema.parse(await (await patch(undefined)).json());
    expect(same.app.source).toMatchObject({ autoDeploy: true });
    const off = updateAppEndpoint.responses[200].schema.parse(await (await patch(false)).json());
    expect(off.app.source).toMatchObject({ autoDeploy: false });
  });

  it("shows the webhook and its deliveries in a constant number of queries", async () => {
    const { app, write, urlToken, secret } = await freshApp({ autoDeploy: false });
    const show = () =>
      call(getWebhookRoute, `/api/v1/apps/${app.id}/webhook`, { token: write, params: { appId: app.id } });
    const body = push("github-push.json");
    await deliver(urlToken, body, FORGES.github(secret, body));
    const few = await countQueries(show);
    for (let i = 0; i < 5; i += 1) {
      const more = push("github-push.json", { after: sha() });
      await deliver(urlToken, more, FORGES.github(secret, more));
    }
    const many = await countQueries(show);
    expect(many.count).toBe(few.count);
    const parsed = getWebhookEndpoint.responses[200].schema.parse(await many.result.json());
    expect(parsed.deliveries).toHaveLength(6);
    expect(parsed.deliveries[0]?.outcome).toBe("ignored");
  });
});

describe("deliveries as each forge sends them", () => {
  it("GitHub push: deploys exactly `after` with the payload's commit metadata and a link", async () => {
    const { app, write, urlToken, secret } = await freshApp();
    const payload = fixture("github-push.json");
    const body = Buffer.from(JSON.stringify(payload, null, 2));
    const answer = await deliver(urlToken, body, FORGES.github(secret, body));
    expect(answer.status).toBe(202);
    const parsed = receiveDeliveryEndpoint.responses[202].schema.parse(await answer.json());
    if (!("deployment" in parsed)) throw new Error("not deployed");
    const [deployment] = await deploymentsOf(app.id);
    expect(deployment?.id).toBe(parsed.deployment.id);
    expect(await buildJobsFor([parsed.deployment.id])).toBe(1);

    const shown = await call(getDeploymentRoute, `/api/v1/deployments/${parsed.deployment.id}`, {
      token: write,
      params: { id: parsed.deployment.id },
    });
    const view = getDeploymentEndpoint.responses[200].schema.parse(await shown.json()).deployment;
    expect(view.trigger).toBe("push");
    expect(view.source).toEqual({
      type: "git",
      url: "https://github.com/acme/shop.git",
      ref: "main",
      commitSha: payload.after,
      commitMessage: "Update README.md",
      commitAuthor: "Codertocat",
      commitUrl: `https://github.com/acme/shop/commit/${payload.after}`,
    });
    const [delivery] = await deliveriesOf(app.id);
    expect(delivery).toMatchObject({
      forge: "github",
      event: "push",
      outcome: "deployed",
      ref: "refs/heads/main",
      sha: payload.after,
      deploymentId: parsed.deployment.id,
    });
    const audit = await getDb().auditEvent.findFirstOrThrow({ where: { targetId: parsed.deployment.id } });
    expect(audit).toMatchObject({ actorType: "system", action: "deployment.created", actorLabel: "webhook (github)" });
  });

  it("GitLab Push Hook: the secret token, the commit named by `after`, the project's page for the link", async () => {
    const { app, urlToken, secret } = await freshApp({ url: "https://gitlab.example.com/mike/diaspora.git" });
    const payload = fixture("gitlab-push.json");
    const body = Buffer.from(JSON.stringify(payload));
    const answer = await deliver(urlToken, body, FORGES.gitlab(secret, body));
    expect(answer.status).toBe(202);
    const [deployment] = await deploymentsOf(app.id);
    expect(deployment).toMatchObject({
      trigger: "push",
      commitSha: payload.after,
      commitMessage: "fixed readme",
      commitAuthor: "GitLab dev user",
      repositoryUrl: "https://gitlab.example.com/mike/diaspora",
    });
  });

  it("Gitea/Forgejo push: X-Gitea-Signature (not the GitHub-compatible headers it also sends)", async () => {
    const { app, urlToken, secret } = await freshApp({ url: "https://codeberg.org/gitea/webhooks.git" });
    const body = push("gitea-push.json");
    const headers = FORGES.gitea(secret, body);
    // A wrong Gitea signature fails even though the GitHub-style one it carries is right.
    const forged = await deliver(urlToken, body, { ...headers, "x-gitea-signature": hmac("wrong", body) });
    expect(forged.status).toBe(401);
    const answer = await deliver(urlToken, body, headers);
    expect(answer.status).toBe(202);
    const [deployment] = await deploymentsOf(app.id);
    expect(deployment).toMatchObject({ commitMessage: "Webhooks Yay!", commitAuthor: "Gitea" });
    const [, delivery] = await deliveriesOf(app.id);
    expect(delivery?.forge).toBe("gitea");
  });

  it("generic X-Tussilago-Signature push deploys; GitHub ping answers 200 and deploys nothing", async () => {
    const { app, urlToken, secret } = await freshApp();
    const ping = Buffer.from(JSON.stringify(fixture("github-ping.json")));
    const pong = await deliver(urlToken, ping, FORGES.github(secret, ping, "ping"));
    expect(pong.status).toBe(200);
    expect(await pong.json()).toEqual({ pong: true });
    expect(await deploymentsOf(app.id)).toHaveLength(0);
    const body = push("github-push.json", { after: sha() });
    expect((await deliver(urlToken, body, FORGES.generic(secret, body))).status).toBe(202);
    expect(await deploymentsOf(app.id)).toHaveLength(1);
  });
});

describe("deliveries that deploy nothing", () => {
  it.each(Object.keys(FORGES) as (keyof typeof FORGES)[])(
    "%s: a wrong or missing signature is 401, recorded as rejected without its delivery ID",
    async (forge) => {
      const { app, urlToken, secret } = await freshApp();
      const body = push(forge === "gitlab" ? "gitlab-push.json" : "github-push.json");
      const wrong = FORGES[forge](`${secret}x`, body);
      const answer = await deliver(urlToken, body, wrong);
      expect(answer.status).toBe(401);
      const missing = Object.fromEntries(
        Object.entries(FORGES[forge](secret, body)).filter(([name]) => !/signature|token/.test(name)),
      );
      expect((await deliver(urlToken, body, missing)).status).toBe(401);
      expect(await deploymentsOf(app.id)).toHaveLength(0);
      const rows = await deliveriesOf(app.id);
      expect(rows.map((row) => [row.outcome, row.deliveryId])).toEqual([
        ["rejected", null],
        ["rejected", null],
      ]);
      // The genuine delivery with the ID the forgery claimed still deploys.
      const genuine = await deliver(urlToken, body, { ...FORGES[forge](secret, body), ...pickIds(wrong) });
      expect(genuine.status).toBe(202);
    },
  );

  it("answers an unknown URL token like a bad signature, and records nothing", async () => {
    const { urlToken, secret } = await freshApp();
    const body = push("github-push.json");
    const unknown = randomBytes(32).toString("base64url");
    const before = await getDb().webhookDelivery.count();
    const a = await deliver(unknown, body, FORGES.github(secret, body));
    expect(await getDb().webhookDelivery.count()).toBe(before);
    const b = await deliver(urlToken, body, FORGES.github("nope", body));
    expect([a.status, b.status]).toEqual([401, 401]);
    expect((await errorOf(a)).message).toBe((await errorOf(b)).message);
  });

  it("deploys a replayed delivery ID once: 200 duplicate delivery", async () => {
    const { app, urlToken, secret } = await freshApp();
    const body = push("github-push.json");
    const headers = FORGES.github(secret, body);
    expect((await deliver(urlToken, body, headers)).status).toBe(202);
    const replay = await deliver(urlToken, body, headers);
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({ ignored: "duplicate delivery" });
    expect(await deploymentsOf(app.id)).toHaveLength(1);
    expect((await deliveriesOf(app.id)).map((row) => row.outcome)).toEqual(["deployed", "duplicate"]);
  });

  it.each([
    ["another branch", { ref: "refs/heads/feature" }, /feature; this app deploys main/],
    ["a tag", { ref: "refs/tags/v1.0.0" }, /Tag pushes/],
    ["a branch deletion", { after: "0".repeat(40), deleted: true }, /deletions/],
    ["a deletion without the flag", { after: "0".repeat(40) }, /deletions/],
  ])("ignores %s with 202 and why", async (_what, overrides, why) => {
    const { app, urlToken, secret } = await freshApp();
    const body = push("github-push.json", overrides);
    const answer = await deliver(urlToken, body, FORGES.github(secret, body));
    expect(answer.status).toBe(202);
    expect(((await answer.json()) as { ignored: string }).ignored).toMatch(why);
    expect(await deploymentsOf(app.id)).toHaveLength(0);
    expect((await deliveriesOf(app.id))[0]?.outcome).toBe("ignored");
  });

  it("ignores pushes while autoDeploy is off", async () => {
    const { app, urlToken, secret } = await freshApp({ autoDeploy: false });
    const body = push("github-push.json");
    const answer = await deliver(urlToken, body, FORGES.github(secret, body));
    expect(await answer.json()).toEqual({ ignored: "Auto-deploy is off for this app." });
    expect(await deploymentsOf(app.id)).toHaveLength(0);
  });

  it("refuses a body over 1 MB with 413 before reading it, recording nothing", async () => {
    const { app, urlToken, secret } = await freshApp();
    const body = Buffer.from(JSON.stringify({ ...fixture("github-push.json"), pad: "x".repeat(1024 * 1024) }));
    const answer = await deliver(urlToken, body, FORGES.github(secret, body));
    expect(answer.status).toBe(413);
    expect(await deploymentsOf(app.id)).toHaveLength(0);
    expect(await deliveriesOf(app.id)).toHaveLength(0);
  });

  it("refuses malformed JSON (400) and a payload that is not a push (422), correctly signed", async () => {
    const { app, urlToken, secret } = await freshApp();
    const broken = Buffer.from('{"ref": "refs/heads/main", "after": ');
    expect((await deliver(urlToken, broken, FORGES.github(secret, broken))).status).toBe(400);
    const notPush = Buffer.from(JSON.stringify({ ref: 5 }));
    expect((await deliver(urlToken, notPush, FORGES.github(secret, notPush))).status).toBe(422);
    expect(await deploymentsOf(app.id)).toHaveLength(0);
    expect((await deliveriesOf(app.id)).map((row) => [row.outcome, row.deliveryId])).toEqual([
      ["rejected", null],
      ["rejected", null],
    ]);
  });

  it.each([
    ["an option as branch", { ref: "refs/heads/--upload-pack=touch /tmp/pwned" }],
    ["a revision expression", { ref: "refs/heads/main@{1}" }],
    ["a branch with .. ", { ref: "refs/heads/../../etc" }],
    ["a shell expansion", { ref: "refs/heads/$(id)" }],
    ["an option as SHA", { after: "--output=/tmp/pwned" }],
    ["a short SHA", { after: "59b20b8" }],
    ["a SHA with a newline", { after: `${"a".repeat(40)}\n` }],
    ["a shell expansion as SHA", { after: "$(touch /tmp/pwned)" }],
  ])("refuses %s with 422: no deployment, no build", async (_what, overrides) => {
    const { app, urlToken, secret } = await freshApp();
    const body = push("github-push.json", overrides);
    const answer = await deliver(urlToken, body, FORGES.github(secret, body));
    expect(answer.status).toBe(422);
    const rows = await deploymentsOf(app.id);
    expect(rows).toHaveLength(0);
    expect((await deliveriesOf(app.id))[0]?.outcome).toBe("rejected");
  });

  it("rate-limits deliveries per app (429), not per URL guess", async () => {
    const { urlToken, secret } = await freshApp({ autoDeploy: false });
    const statuses: number[] = [];
    for (let i = 0; i <= DELIVERIES_PER_APP.limit; i += 1) {
      const body = push("github-push.json", { after: sha() });
      statuses.push((await deliver(urlToken, body, FORGES.github(secret, body))).status);
    }
    expect(statuses.slice(0, -1).every((status) => status === 202)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  });

  it(`keeps the newest ${DELIVERIES_KEPT} deliveries per app`, async () => {
    const { app, team, urlToken, secret } = await freshApp({ autoDeploy: false });
    // Older than DEDUPE_DAYS: delivery IDs younger than that outlive the count (lib/domain/deliveries-dedupe.test.ts).
    const old = new Date(Date.now() - (DEDUPE_DAYS + 1) * 86_400_000);
    await getDb().webhookDelivery.createMany({
      data: Array.from({ length: DELIVERIES_KEPT + 5 }, (_, i) => ({
        appId: app.id,
        teamId: team.id,
        forge: "github",
        deliveryId: `old-${i}`,
        outcome: "ignored" as const,
        reason: "old",
        receivedAt: new Date(old.getTime() + i),
      })),
    });
    const body = push("github-push.json");
    await deliver(urlToken, body, FORGES.github(secret, body));
    const rows = await deliveriesOf(app.id);
    expect(rows).toHaveLength(DELIVERIES_KEPT);
    expect(rows.at(-1)?.reason).not.toBe("old");
    expect(rows[0]?.deliveryId).toBe("old-6");
  });
});

function pickIds(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => /delivery|uuid/.test(name)));
}

describe("coalescing and redeploy", () => {
  it("a newer push supersedes the queued deployment of the same app", async () => {
    const { app, urlToken, secret } = await freshApp();
    const first = push("github-push.json", { after: sha() });
    const second = push("github-push.json", { after: sha() });
    await deliver(urlToken, first, FORGES.github(secret, first));
    await deliver(urlToken, second, FORGES.github(secret, second));
    const [older, newer] = await deploymentsOf(app.id);
    expect(older?.cancelRequestedAt).not.toBeNull();
    expect(older?.supersededById).toBe(newer?.id);
    expect(newer?.cancelRequestedAt).toBeNull();
    expect(newer?.commitSha).toBe(JSON.parse(second.toString()).after);
  });

  it("redeploys the same commit (pinned) with trigger redeploy, 202 with the operation", async () => {
    const { app, ctx, write } = await freshApp();
    const { deployment } = await createDeployment(getDb(), ctx, app.id, undefined);
    const built = sha();
    await getDb().deployment.update({
      where: { id: deployment.id },
      data: { status: "failed", commitSha: built, commitMessage: "Ship it", commitAuthor: "Ada" },
    });
    const answer = await call(redeployRoute, `/api/v1/deployments/${deployment.id}/redeploy`, {
      method: "POST",
      token: write,
      params: { id: deployment.id },
    });
    expect(answer.status).toBe(202);
    const body = redeployDeploymentEndpoint.responses[202].schema.parse(await answer.json());
    expect(body.deployment).toMatchObject({
      trigger: "redeploy",
      redeployOfId: deployment.id,
      number: 2,
      source: { type: "git", commitSha: built, commitMessage: "Ship it", commitAuthor: "Ada" },
    });
    expect(body.operation.id).toBeTruthy();
    expect(await buildJobsFor([body.deployment.id])).toBe(1);
    const foreign = await freshApp();
    const refused = await call(redeployRoute, `/api/v1/deployments/${deployment.id}/redeploy`, {
      method: "POST",
      token: foreign.write,
      params: { id: deployment.id },
    });
    expect(refused.status).toBe(404);
  });

  it("refuses to redeploy an upload that is no longer kept with 409", async () => {
    const { app, ctx, team, write } = await freshApp();
    const upload = await getDb().upload.create({
      data: { teamId: team.id, sizeBytes: 1, sha256: "0".repeat(64), expiresAt: new Date(Date.now() + 60_000) },
    });
    const { deployment } = await createDeployment(getDb(), ctx, app.id, { type: "upload", uploadId: upload.id });
    await getDb().upload.update({ where: { id: upload.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const answer = await call(redeployRoute, `/api/v1/deployments/${deployment.id}/redeploy`, {
      method: "POST",
      token: write,
      params: { id: deployment.id },
    });
    expect(answer.status).toBe(409);
    expect(await deploymentsOf(app.id)).toHaveLength(1);
  });
});
