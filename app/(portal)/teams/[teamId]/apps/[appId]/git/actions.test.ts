// The Git tab's server actions and its data load: auto-deploy on and off, the webhook created with the secret in the
// answer only and rotated on the same URL, turned off; the deploy key; a first-use host key confirmed and forgotten;
// the read token set (never loaded back) and removed; viewers see everything and change nothing; another team's app
// or key is not found; the tab's data load is a constant number of queries.
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { receiveDelivery } from "@/lib/domain/deliveries";
import type { PublicUser } from "@/lib/domain/users";
import { createOrRotateWebhook } from "@/lib/domain/webhooks";
import type { Role } from "@/lib/generated/prisma/enums";
import { form } from "@/test/actions";
import { addMember, createTestTeam, createTestUser, userCtx } from "@/test/factories";

const session = vi.hoisted(() => ({ user: null as PublicUser | null }));

vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => session.user,
  currentRequestMeta: async () => ({ requestId: randomUUID(), ip: "203.0.113.9", userAgent: "vitest" }),
}));
// refresh() needs a live Next request; there is no page to refresh in a test.
vi.mock("next/cache", () => ({ refresh: () => {}, revalidatePath: () => {} }));

const actions = await import("@/app/(portal)/teams/[teamId]/apps/[appId]/git/actions");
const { loadAppGit } = await import("@/app/(portal)/teams/[teamId]/apps/[appId]/git/git-data");

beforeEach(() => {
  session.user = null;
});

const idle = { status: "idle" } as const;

async function appWith(role: Role, options: { git?: boolean } = {}) {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const user = await createTestUser();
  await addMember(team.id, user.id, role);
  const ownerCtx = await userCtx(owner.id, team.id);
  const app = await createApp(getDb(), ownerCtx, {
    name: `web-${randomBytes(3).toString("hex")}`,
    ...(options.git === false ? {} : { source: { url: "https://github.com/acme/shop.git", ref: "main" } }),
  });
  return { team, owner, user, ownerCtx, app, fields: { teamId: team.id, appId: app.id } };
}

async function seedHostKey(appId: string) {
  return await getDb().gitHostKey.create({
    data: {
      appId,
      host: "git.example.net",
      port: 2222,
      keyType: "ssh-ed25519",
      publicKey: `AAAAC3NzaC1lZDI1NTE5AAAAI${randomBytes(32).toString("base64")}`,
      fingerprint: `SHA256:${randomBytes(32).toString("base64").replace(/=+$/, "")}`,
      source: "first_use",
    },
  });
}

describe("auto-deploy", () => {
  it("turns deploy on push on and off for a member, keeping the URL and branch", async () => {
    const { user, app, fields } = await appWith("member");
    session.user = user;
    const on = await actions.setAutoDeployAction(idle, form({ ...fields, enabled: "on" }));
    expect(on).toEqual({ status: "success", message: "Pushes to main that reach the webhook now deploy." });
    expect(await getDb().app.findUnique({ where: { id: app.id } })).toMatchObject({
      autoDeploy: true,
      gitUrl: "https://github.com/acme/shop.git",
      gitRef: "main",
    });
    await actions.setAutoDeployAction(idle, form({ ...fields, enabled: "off" }));
    expect((await getDb().app.findUnique({ where: { id: app.id } }))?.autoDeploy).toBe(false);
  });

  it("says to set a repository first for an app without one", async () => {
    const { user, fields } = await appWith("member", { git: false });
    session.user = user;
    const state = await actions.setAutoDeployAction(idle, form({ ...fields, enabled: "on" }));
    expect(state).toEqual({ status: "error", message: "Set a git repository in the app's settings first." });
  });
});

describe("webhook", () => {
  it("answers the secret once on create, rotates it on the same URL, and the secret verifies deliveries", async () => {
    const { user, app, fields, ownerCtx } = await appWith("member");
    session.user = user;
    const created = await actions.createWebhookAction(idle, form(fields));
    expect(created.status).toBe("success");
    expect(created.data?.rotated).toBe(false);
    const secret = created.data?.secret ?? "";
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const loaded = await loadAppGit(getDb(), ownerCtx, app.id);
    expect(loaded.webhook?.url).toBe(created.data?.url);
    expect(JSON.stringify(loaded)).not.toContain(secret);

    const rotated = await actions.createWebhookAction(idle, form(fields));
    expect(rotated.data).toMatchObject({ rotated: true, url: created.data?.url });
    expect(rotated.data?.secret).not.toBe(secret);

    // The rotated secret is the one a delivery must be signed with; the poll shows the delivery.
    const body = Buffer.from(JSON.stringify({ ref: "refs/heads/other", after: randomBytes(20).toString("hex") }));
    const signature = createHmac("sha256", rotated.data?.secret ?? "")
      .update(body)
      .digest("hex");
    const urlToken = created.data?.url.split("/").pop() ?? "";
    await receiveDelivery(getDb(), {
      urlToken,
      body,
      headers: new Headers({ "x-tussilago-event": "push", "x-tussilago-signature": `sha256=${signature}` }),
    });
    const polled = await actions.pollWebhook(fields.teamId, app.id);
    expect(polled.data?.deliveries.map((delivery) => delivery.outcome)).toEqual(["ignored"]);
  });

  it("turns the webhook off", async () => {
    const { user, app, fields, ownerCtx } = await appWith("member");
    await createOrRotateWebhook(getDb(), ownerCtx, app.id);
    session.user = user;
    expect((await actions.deleteWebhookAction(idle, form(fields))).status).toBe("success");
    expect(await getDb().webhook.count({ where: { appId: app.id } })).toBe(0);
    expect((await actions.pollWebhook(fields.teamId, app.id)).data).toEqual({ webhook: null, deliveries: [] });
  });
});

describe("deploy key, host keys and token", () => {
  it("creates a deploy key whose public half and fingerprint the tab loads", async () => {
    const { user, app, fields, ownerCtx } = await appWith("member");
    session.user = user;
    expect((await actions.createDeployKeyAction(idle, form(fields))).status).toBe("success");
    const { deployKey } = await loadAppGit(getDb(), ownerCtx, app.id);
    expect(deployKey?.publicKey).toMatch(/^ssh-ed25519 AAAA\S+ tussilago-web-/);
    expect(deployKey?.fingerprint).toMatch(/^SHA256:/);
  });

  it("confirms a first-use host key, then forgets it", async () => {
    const { user, app, team } = await appWith("member");
    const key = await seedHostKey(app.id);
    session.user = user;
    const confirmed = await actions.confirmHostKeyAction(idle, form({ teamId: team.id, hostKeyId: key.id }));
    expect(confirmed.status).toBe("success");
    expect((await getDb().gitHostKey.findUnique({ where: { id: key.id } }))?.confirmedAt).not.toBeNull();
    await actions.deleteHostKeyAction(idle, form({ teamId: team.id, hostKeyId: key.id }));
    expect(await getDb().gitHostKey.count({ where: { appId: app.id } })).toBe(0);
  });

  it("stores the token sealed, loads only whether it is set, refuses header-breaking input, and removes it", async () => {
    const { user, app, fields, ownerCtx } = await appWith("member");
    session.user = user;
    const refused = await actions.setGitTokenAction(idle, form({ ...fields, username: "", token: "a b\r\nX-Evil: 1" }));
    expect(refused.status).toBe("error");
    expect(refused.fieldErrors?.token).toBeDefined();
    const token = `glpat-${randomBytes(12).toString("hex")}`;
    expect((await actions.setGitTokenAction(idle, form({ ...fields, username: "", token }))).status).toBe("success");
    const loaded = await loadAppGit(getDb(), ownerCtx, app.id);
    expect(loaded.gitToken?.username).toBe("git");
    expect(JSON.stringify(loaded)).not.toContain(token);
    expect((await getDb().gitHttpsToken.findUnique({ where: { appId: app.id } }))?.tokenSealed).not.toContain(token);
    await actions.deleteGitTokenAction(idle, form(fields));
    expect((await loadAppGit(getDb(), ownerCtx, app.id)).gitToken).toBeNull();
  });
});

describe("who may", () => {
  it("lets a viewer load and poll the tab but change nothing", async () => {
    const { user, app, fields, ownerCtx } = await appWith("viewer");
    await createOrRotateWebhook(getDb(), ownerCtx, app.id);
    const key = await seedHostKey(app.id);
    session.user = user;
    const refusal = { status: "error", message: "Your role in this team does not allow this." };
    expect(await actions.createWebhookAction(idle, form(fields))).toEqual(refusal);
    expect(await actions.deleteWebhookAction(idle, form(fields))).toEqual(refusal);
    expect(await actions.createDeployKeyAction(idle, form(fields))).toEqual(refusal);
    expect(await actions.setAutoDeployAction(idle, form({ ...fields, enabled: "on" }))).toEqual(refusal);
    expect(await actions.setGitTokenAction(idle, form({ ...fields, token: "t" }))).toEqual(refusal);
    expect(await actions.confirmHostKeyAction(idle, form({ teamId: fields.teamId, hostKeyId: key.id }))).toEqual(
      refusal,
    );
    expect((await actions.pollWebhook(fields.teamId, app.id)).data?.webhook).not.toBeNull();
    expect(await getDb().deployKey.count({ where: { appId: app.id } })).toBe(0);
    expect((await getDb().gitHostKey.findUnique({ where: { id: key.id } }))?.confirmedAt).toBeNull();
  });

  it("answers not found for another team's app and host key", async () => {
    const mine = await appWith("member");
    const other = await appWith("member");
    const key = await seedHostKey(other.app.id);
    session.user = mine.user;
    const foreign = { teamId: mine.team.id, appId: other.app.id };
    expect((await actions.createWebhookAction(idle, form(foreign))).message).toBe("App not found.");
    expect((await actions.confirmHostKeyAction(idle, form({ teamId: mine.team.id, hostKeyId: key.id }))).message).toBe(
      "Host key not found.",
    );
    expect(await getDb().webhook.count({ where: { appId: other.app.id } })).toBe(0);
    // The poll reads another team's app as one without a webhook: nothing of it shows.
    expect((await actions.pollWebhook(mine.team.id, other.app.id)).data).toEqual({ webhook: null, deliveries: [] });
  });
});

describe("loadAppGit", () => {
  it("reads the tab in a constant number of queries whatever the number of deliveries and host keys", async () => {
    const small = await appWith("member");
    const large = await appWith("member");
    for (const world of [small, large]) await createOrRotateWebhook(getDb(), world.ownerCtx, world.app.id);
    await seedHostKey(small.app.id);
    for (let i = 0; i < 5; i += 1) await seedHostKey(large.app.id);
    await getDb().webhookDelivery.createMany({
      data: Array.from({ length: 15 }, (_, i) => ({
        appId: large.app.id,
        teamId: large.team.id,
        forge: "github",
        deliveryId: `d-${i}`,
        outcome: "ignored" as const,
        reason: "seeded",
      })),
    });
    const few = await countQueries(() => loadAppGit(getDb(), small.ownerCtx, small.app.id));
    const many = await countQueries(() => loadAppGit(getDb(), large.ownerCtx, large.app.id));
    expect(many.result.deliveries).toHaveLength(15);
    expect(many.result.hostKeys).toHaveLength(5);
    expect(many.count).toBe(few.count);
  });
});
