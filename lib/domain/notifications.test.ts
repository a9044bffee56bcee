// Notification events and channels (#17): notifyTeam's fan-out (constant queries, only enabled subscribed channels,
// the dedupe key), who may change what on a channel, URL checks, the quota, and the emitters: deployment
// succeeded/failed (lib/engine/state.ts), app crashed and crash-looping (lib/engine/crash-watch.ts).
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import type { Ctx } from "@/lib/domain/context";
import {
  checkTarget,
  createChannel,
  deleteChannel,
  listChannels,
  listDeliveries,
  recentDeliveries,
  testChannel,
  toggleChannelEvent,
  updateChannel,
} from "@/lib/domain/notification-channels";
import { noteQuotaRefusal, notifyTeam } from "@/lib/domain/notifications";
import { quotaExceeded } from "@/lib/domain/quotas";
import { watchCrashes } from "@/lib/engine/crash-watch";
import { endDeployment, markReleased } from "@/lib/engine/state";
import { resetEnvForTests } from "@/lib/env";
import type { ContainerHost } from "@/lib/infra/container-host";
import { expectAppError } from "@/test/errors";
import { addMember, createTestTeam, createTestUser, userCtx } from "@/test/factories";
import { pendingJobs } from "@/test/helpers";
import { silentLog } from "@/test/release-helpers";

afterEach(() => {
  delete process.env.TUSSILAGO_WEBHOOK_ALLOW_PRIVATE_HOSTS;
  resetEnvForTests();
});

async function team() {
  const owner = await createTestUser();
  const created = await createTestTeam(owner.id);
  const ctx = await userCtx(owner.id, created.id);
  return { team: created, ctx };
}

async function roleCtx(teamId: string, role: "member" | "viewer" | "admin"): Promise<Ctx> {
  const user = await createTestUser();
  await addMember(teamId, user.id, role);
  return await userCtx(user.id, teamId);
}

const email = (ctx: Ctx, events: string[], enabled = true) =>
  createChannel(getDb(), ctx, { kind: "email", name: "ops", target: "ops@example.test", events, enabled });

async function deliveriesOf(teamId: string) {
  return await getDb().notificationDelivery.findMany({ where: { teamId }, include: { event: true } });
}

describe("notifyTeam", () => {
  it("queues one delivery per enabled subscribed channel in constant queries", async () => {
    const one = await team();
    const many = await team();
    await email(one.ctx, ["deployment.failed"]);
    for (let i = 0; i < 5; i++) await email(many.ctx, ["deployment.failed"]);
    await email(many.ctx, ["deployment.succeeded"]);
    await email(many.ctx, ["deployment.failed"], false);
    const notify = (teamId: string) =>
      countQueries(() =>
        getDb().$transaction((tx) =>
          notifyTeam(tx, { teamId, event: "deployment.failed", subject: {}, summary: "failed" }),
        ),
      );
    const small = await notify(one.team.id);
    const large = await notify(many.team.id);
    expect(large.count).toBe(small.count);
    expect(await deliveriesOf(one.team.id)).toHaveLength(1);
    expect(await deliveriesOf(many.team.id)).toHaveLength(5);
    const jobs = await pendingJobs("notification__deliver");
    const ids = new Set((await deliveriesOf(many.team.id)).map((row) => row.id));
    expect(jobs.filter((job) => ids.has((job.payload as { deliveryId: string }).deliveryId))).toHaveLength(5);
  });

  it("records an event with a used dedupe key once, without aborting the caller's transaction", async () => {
    const { team: t, ctx } = await team();
    await email(ctx, ["quota.reached"]);
    const first = await getDb().$transaction((tx) =>
      notifyTeam(tx, { teamId: t.id, event: "quota.reached", subject: {}, summary: "a", dedupeKey: "k" }),
    );
    const second = await getDb().$transaction(async (tx) => {
      const id = await notifyTeam(tx, {
        teamId: t.id,
        event: "quota.reached",
        subject: {},
        summary: "b",
        dedupeKey: "k",
      });
      await tx.team.update({ where: { id: t.id }, data: { name: "still committed" } });
      return id;
    });
    expect(first).not.toBeNull();
    expect(second).toBeNull();
    expect((await getDb().team.findUniqueOrThrow({ where: { id: t.id } })).name).toBe("still committed");
    expect(await deliveriesOf(t.id)).toHaveLength(1);
  });

  it("tells quota.reached at most once per team and quota in an hour", async () => {
    const { team: t, ctx } = await team();
    await email(ctx, ["quota.reached"]);
    const now = new Date("2026-06-01T10:05:00Z");
    await noteQuotaRefusal(getDb(), t.id, quotaExceeded("apps", 3), now);
    await noteQuotaRefusal(getDb(), t.id, quotaExceeded("apps", 3), new Date("2026-06-01T10:55:00Z"));
    await noteQuotaRefusal(getDb(), t.id, quotaExceeded("domains", 3), now);
    await noteQuotaRefusal(getDb(), t.id, quotaExceeded("apps", 3), new Date("2026-06-01T11:01:00Z"));
    const events = await getDb().notificationEvent.findMany({ where: { teamId: t.id }, orderBy: { createdAt: "asc" } });
    expect(events.map((event) => event.dedupeKey)).toEqual([
      "quota.reached:apps:2026-06-01T10",
      "quota.reached:domains:2026-06-01T10",
      "quota.reached:apps:2026-06-01T11",
    ]);
  });
});

describe("channels", () => {
  it("lets members switch events only; admins change targets; viewers nothing", async () => {
    const { team: t, ctx } = await team();
    const { channel, secret } = await createChannel(getDb(), ctx, {
      kind: "webhook",
      name: "hook",
      target: "https://hooks.example.com/x",
      events: ["deployment.failed"],
    });
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(channel.target).toBe("https://hooks.example.com/…");
    const member = await roleCtx(t.id, "member");
    const viewer = await roleCtx(t.id, "viewer");
    const admin = await roleCtx(t.id, "admin");
    const toggled = await updateChannel(getDb(), member, channel.id, { events: ["app.crashed"], enabled: false });
    expect(toggled).toMatchObject({ events: ["app.crashed"], enabled: false });
    await expectAppError(
      updateChannel(getDb(), member, channel.id, { target: "https://other.example.com/" }),
      "forbidden",
    );
    await expectAppError(updateChannel(getDb(), member, channel.id, { name: "x" }), "forbidden");
    await expectAppError(updateChannel(getDb(), viewer, channel.id, { enabled: true }), "forbidden");
    await expectAppError(
      createChannel(getDb(), member, { kind: "email", name: "m", target: "a@b.test", events: [] }),
      "forbidden",
    );
    await expectAppError(testChannel(getDb(), member, channel.id), "forbidden");
    await expectAppError(deleteChannel(getDb(), member, channel.id), "forbidden");
    await updateChannel(getDb(), admin, channel.id, { target: "https://other.example.com/y" });
    expect((await listChannels(getDb(), viewer, { limit: 10 })).items[0]?.target).toBe("https://other.example.com/…");
  });

  it("answers not_found for another team's channel", async () => {
    const mine = await team();
    const theirs = await team();
    const { channel } = await email(theirs.ctx, ["app.crashed"]);
    await expectAppError(updateChannel(getDb(), mine.ctx, channel.id, { enabled: false }), "not_found");
    await expectAppError(deleteChannel(getDb(), mine.ctx, channel.id), "not_found");
    await expectAppError(testChannel(getDb(), mine.ctx, channel.id), "not_found");
    await expectAppError(listDeliveries(getDb(), mine.ctx, channel.id, { limit: 10 }), "not_found");
  });

  it("refuses private, plain-http and credentialed URLs unless private hosts are allowed", async () => {
    for (const url of [
      "https://127.0.0.1/x",
      "https://10.1.2.3/x",
      "https://[::1]/x",
      "https://169.254.169.254/latest",
      "https://metadata.google.internal/x",
      "https://localhost:8080/x",
      "http://hooks.example.com/x",
      "https://user:pw@hooks.example.com/x",
      "ftp://hooks.example.com/x",
    ]) {
      expect(() => checkTarget("webhook", url, false), url).toThrow();
    }
    expect(checkTarget("webhook", "http://127.0.0.1:9/x", true)).toBe("http://127.0.0.1:9/x");
    expect(() => checkTarget("email", "not an address", false)).toThrow();
    expect(checkTarget("email", "a@example.test, b@example.test a@example.test", false)).toBe(
      "a@example.test, b@example.test",
    );
  });

  it("counts against TUSSILAGO_QUOTA_NOTIFICATION_CHANNELS", async () => {
    process.env.TUSSILAGO_QUOTA_NOTIFICATION_CHANNELS = "2";
    resetEnvForTests();
    try {
      const { ctx } = await team();
      await email(ctx, []);
      await email(ctx, []);
      await expectAppError(email(ctx, []), "quota_exceeded");
    } finally {
      delete process.env.TUSSILAGO_QUOTA_NOTIFICATION_CHANNELS;
    }
  });

  it("queues a test delivery and lists deliveries in constant queries", async () => {
    const { ctx } = await team();
    const { channel } = await email(ctx, []);
    const delivery = await testChannel(getDb(), ctx, channel.id);
    expect(delivery).toMatchObject({ event: "channel.test", status: "pending" });
    const one = await countQueries(() => listDeliveries(getDb(), ctx, channel.id, { limit: 50 }));
    for (let i = 0; i < 4; i++) await testChannel(getDb(), ctx, channel.id);
    const five = await countQueries(() => listDeliveries(getDb(), ctx, channel.id, { limit: 50 }));
    expect(five.result.items).toHaveLength(5);
    expect(five.count).toBe(one.count);
  });
});

describe("the portal's channel list", () => {
  it("toggles one event against the current ones, and reads recent deliveries in constant queries", async () => {
    const { team: t, ctx } = await team();
    const member = await roleCtx(t.id, "member");
    const { channel } = await email(ctx, ["deployment.failed", "app.crashed"]);
    const off = await toggleChannelEvent(getDb(), member, channel.id, "app.crashed", false);
    expect(off.events).toEqual(["deployment.failed"]);
    const on = await toggleChannelEvent(getDb(), member, channel.id, "quota.reached", true);
    expect(on.events).toEqual(["deployment.failed", "quota.reached"]);
    const other = await email(ctx, []);
    await testChannel(getDb(), ctx, channel.id);
    const few = await countQueries(() => recentDeliveries(getDb(), ctx, [channel.id]));
    for (let i = 0; i < 3; i++) await testChannel(getDb(), ctx, other.channel.id);
    const more = await countQueries(() => recentDeliveries(getDb(), ctx, [channel.id, other.channel.id]));
    expect(more.count).toBe(few.count);
    expect(more.result.get(other.channel.id)).toHaveLength(3);
    expect(more.result.get(channel.id)).toHaveLength(1);
  });
});

describe("emitters", () => {
  async function appWithChannel(events: string[]) {
    const { team: t, ctx } = await team();
    await email(ctx, events);
    const app = await getDb().app.create({
      data: { teamId: t.id, name: `n-${randomBytes(3).toString("hex")}`, status: "deploying" },
    });
    const deployment = await getDb().deployment.create({
      data: { appId: app.id, teamId: t.id, number: 1, status: "building", sourceType: "upload" },
    });
    return { team: t, app, deployment };
  }

  it("deployment.failed once when a deployment fails; nothing for a cancel", async () => {
    const failed = await appWithChannel(["deployment.failed"]);
    await endDeployment(
      getDb(),
      failed.deployment.id,
      "failed",
      "pip install failed\nmore detail",
      new Date(),
      "tenant",
    );
    await endDeployment(getDb(), failed.deployment.id, "failed", "again");
    expect((await deliveriesOf(failed.team.id)).map((row) => row.event)).toMatchObject([
      {
        event: "deployment.failed",
        appId: failed.app.id,
        deploymentId: failed.deployment.id,
        summary: `Deployment of ${failed.app.name} failed: pip install failed`,
      },
    ]);
    const cancelled = await appWithChannel(["deployment.failed"]);
    await endDeployment(getDb(), cancelled.deployment.id, "cancelled", "Cancelled.");
    expect(await deliveriesOf(cancelled.team.id)).toHaveLength(0);
  });

  it("deployment.succeeded when a release goes live", async () => {
    const { team: t, deployment } = await appWithChannel(["deployment.succeeded"]);
    await getDb().deployment.update({ where: { id: deployment.id }, data: { status: "releasing" } });
    await getDb().$transaction((tx) => markReleased(tx, deployment.id));
    await getDb().$transaction((tx) => markReleased(tx, deployment.id));
    expect((await deliveriesOf(t.id)).map((row) => row.event.event)).toEqual(["deployment.succeeded"]);
  });

  it("app.crashed on the first exit, app.crash_looping when restarts run out", async () => {
    const { team: t, app, deployment } = await appWithChannel(["app.crashed", "app.crash_looping"]);
    await getDb().app.update({ where: { id: app.id }, data: { status: "running" } });
    const name = `tsl-notify-${randomBytes(4).toString("hex")}`;
    const replica = await getDb().replica.create({
      data: {
        appId: app.id,
        deploymentId: deployment.id,
        process: "worker",
        index: 0,
        containerName: name,
        status: "healthy",
      },
    });
    const podman = {
      listContainers: async () => [{ name, state: "exited", exitCode: 3 }],
      logs: async () => ({ stdout: "Traceback", stderr: "" }),
      start: async () => undefined,
    } as unknown as ContainerHost;
    let time = Date.parse("2026-06-01T00:00:00Z");
    const pass = () => watchCrashes({ db: getDb(), podman, log: silentLog, now: () => time });
    await pass();
    expect((await deliveriesOf(t.id)).map((row) => row.event.event)).toEqual(["app.crashed"]);
    // Restarts within the allowance are not told again; the exit past it is, once.
    for (let i = 0; i < 12; i++) {
      time += 10 * 60_000 - 1;
      await pass();
    }
    const row = await getDb().replica.findUniqueOrThrow({ where: { id: replica.id } });
    expect(row.status).toBe("crashed");
    const events = (await deliveriesOf(t.id)).map((delivery) => delivery.event.event).sort();
    expect(events).toEqual(["app.crash_looping", "app.crashed"]);
  });
});
