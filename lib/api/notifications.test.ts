// The notification channels API through its route handlers: shapes parsed with the endpoint schemas, the secret
// once, 422 for a private URL, 404 for another team's channel, 403 for a read token, a member token limited to
// switching events, the test delivery (202), deliveries listed in constant queries, and quota.reached told once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET as deliveriesRoute } from "@/app/api/v1/notification-channels/[id]/deliveries/route";
import { DELETE as deleteRoute, PATCH as patchRoute } from "@/app/api/v1/notification-channels/[id]/route";
import { POST as testRoute } from "@/app/api/v1/notification-channels/[id]/test/route";
import { POST as createRoute, GET as listRoute } from "@/app/api/v1/notification-channels/route";
import {
  createChannelEndpoint,
  listChannelsEndpoint,
  listDeliveriesEndpoint,
  testChannelEndpoint,
} from "@/lib/api/endpoints/notifications";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import { call, errorOf } from "@/test/api";
import { addMember, createTestTeam, createTestToken, createTestUser } from "@/test/factories";
import { pendingJobs } from "@/test/helpers";

beforeAll(() => {
  process.env.TUSSILAGO_QUOTA_NOTIFICATION_CHANNELS = "3";
  resetEnvForTests();
});

afterAll(() => {
  delete process.env.TUSSILAGO_QUOTA_NOTIFICATION_CHANNELS;
  resetEnvForTests();
});

async function freshTeam() {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  return { team, write: await createTestToken(team.id, ["write"]), read: await createTestToken(team.id, ["read"]) };
}

const webhook = { kind: "webhook", name: "ops", target: "https://hooks.example.com/x", events: ["deployment.failed"] };
const PATH = "/api/v1/notification-channels";

describe("notification channels API", () => {
  it("creates a webhook channel with its secret once and lists it without", async () => {
    const { write, read } = await freshTeam();
    const created = await call(createRoute, PATH, { method: "POST", token: write, body: webhook });
    expect(created.status).toBe(201);
    const body = createChannelEndpoint.responses[201].schema.parse(await created.json());
    expect(body.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.channel).toMatchObject({ kind: "webhook", target: "https://hooks.example.com/…", enabled: true });
    const listed = await call(listRoute, PATH, { token: read });
    const page = listChannelsEndpoint.responses[200].schema.parse(await listed.json());
    expect(page.items.map((item) => item.id)).toEqual([body.channel.id]);
    expect(JSON.stringify(page)).not.toContain(body.secret ?? "none");
  });

  it("refuses a private URL (422), a read token (403) and another team's channel (404)", async () => {
    const mine = await freshTeam();
    const theirs = await freshTeam();
    const privateUrl = await call(createRoute, PATH, {
      method: "POST",
      token: mine.write,
      body: { ...webhook, target: "https://192.168.1.10/hook" },
    });
    expect(privateUrl.status).toBe(422);
    expect((await errorOf(privateUrl)).details?.[0]?.path).toBe("target");
    const readOnly = await call(createRoute, PATH, { method: "POST", token: mine.read, body: webhook });
    expect(readOnly.status).toBe(403);
    const created = await call(createRoute, PATH, { method: "POST", token: theirs.write, body: webhook });
    const { channel } = createChannelEndpoint.responses[201].schema.parse(await created.json());
    const params = { id: channel.id };
    for (const response of [
      await call(patchRoute, `${PATH}/${channel.id}`, {
        method: "PATCH",
        token: mine.write,
        body: { enabled: false },
        params,
      }),
      await call(deleteRoute, `${PATH}/${channel.id}`, { method: "DELETE", token: mine.write, params }),
      await call(testRoute, `${PATH}/${channel.id}/test`, { method: "POST", token: mine.write, params }),
      await call(deliveriesRoute, `${PATH}/${channel.id}/deliveries`, { token: mine.read, params }),
    ]) {
      expect(response.status).toBe(404);
    }
  });

  it("lets a member's token switch events but not retarget", async () => {
    const { team, write } = await freshTeam();
    const created = await call(createRoute, PATH, { method: "POST", token: write, body: webhook });
    const { channel } = createChannelEndpoint.responses[201].schema.parse(await created.json());
    const member = await createTestUser();
    await addMember(team.id, member.id, "member");
    // A write token created by a member acts as a member (its creator's role caps it).
    const memberToken = await createTestToken(team.id, ["write"], { name: "member-token" });
    await getDb().apiToken.updateMany({
      where: { teamId: team.id, name: "member-token" },
      data: { createdBy: member.id },
    });
    const params = { id: channel.id };
    const toggled = await call(patchRoute, `${PATH}/${channel.id}`, {
      method: "PATCH",
      token: memberToken,
      body: { events: ["app.crashed", "deployment.failed"] },
      params,
    });
    expect(toggled.status).toBe(200);
    expect((await toggled.json()).channel.events).toEqual(["app.crashed", "deployment.failed"]);
    const retarget = await call(patchRoute, `${PATH}/${channel.id}`, {
      method: "PATCH",
      token: memberToken,
      body: { target: "https://other.example.com/" },
      params,
    });
    expect(retarget.status).toBe(403);
    const empty = await call(patchRoute, `${PATH}/${channel.id}`, { method: "PATCH", token: write, body: {}, params });
    expect(empty.status).toBe(422);
  });

  it("queues a test delivery (202) and lists deliveries in constant queries", async () => {
    const { write, read } = await freshTeam();
    const created = await call(createRoute, PATH, { method: "POST", token: write, body: webhook });
    const { channel } = createChannelEndpoint.responses[201].schema.parse(await created.json());
    const params = { id: channel.id };
    const tested = await call(testRoute, `${PATH}/${channel.id}/test`, { method: "POST", token: write, params });
    expect(tested.status).toBe(202);
    const { delivery } = testChannelEndpoint.responses[202].schema.parse(await tested.json());
    expect(delivery).toMatchObject({ event: "channel.test", status: "pending", attempts: 0 });
    expect((await pendingJobs("notification__deliver")).map((job) => job.payload)).toContainEqual({
      deliveryId: delivery.id,
    });
    const list = () => call(deliveriesRoute, `${PATH}/${channel.id}/deliveries`, { token: read, params });
    await list(); // the token's first use records it once; count the steady state
    const one = await countQueries(list);
    for (let i = 0; i < 3; i++)
      await call(testRoute, `${PATH}/${channel.id}/test`, { method: "POST", token: write, params });
    const four = await countQueries(list);
    const page = listDeliveriesEndpoint.responses[200].schema.parse(await four.result.json());
    expect(page.items).toHaveLength(4);
    expect(four.count).toBe(one.count);
  });

  it("refuses past the quota (409) and tells the team's channels once (quota.reached)", async () => {
    const { team, write } = await freshTeam();
    await call(createRoute, PATH, { method: "POST", token: write, body: { ...webhook, events: ["quota.reached"] } });
    await call(createRoute, PATH, { method: "POST", token: write, body: webhook });
    await call(createRoute, PATH, { method: "POST", token: write, body: webhook });
    const refused = await call(createRoute, PATH, { method: "POST", token: write, body: webhook });
    expect(refused.status).toBe(409);
    expect((await errorOf(refused)).code).toBe("quota_exceeded");
    await call(createRoute, PATH, { method: "POST", token: write, body: webhook });
    const events = await getDb().notificationEvent.findMany({ where: { teamId: team.id } });
    expect(events).toMatchObject([{ event: "quota.reached" }]);
    expect(await getDb().notificationDelivery.count({ where: { eventId: events[0]?.id } })).toBe(1);
  });
});
