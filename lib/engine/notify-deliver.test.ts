// Notification delivery (#17) to real local listeners: the signature checked with the test's own HMAC, retries on a
// 5xx then success, a 4xx final, a redirect not followed, private addresses refused without the flag (also when a
// public-looking name resolves to loopback), and email through the fake SMTP server.
import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskContext } from "@/jobs/define";
import { tasks } from "@/jobs/tasks";
import { getDb } from "@/lib/db";
import { createChannel } from "@/lib/domain/notification-channels";
import { type NotificationEventName, notifyTeam } from "@/lib/domain/notifications";
import { type DeliverDeps, deliverNotification } from "@/lib/engine/notify-deliver";
import { resetEnvForTests } from "@/lib/env";
import { createTestTeam, createTestUser, userCtx } from "@/test/factories";
import { type FakeSmtp, startFakeSmtp } from "@/test/fake-smtp";
import { pendingJobs } from "@/test/helpers";
import { silentLog } from "@/test/release-helpers";

type Received = { headers: IncomingMessage["headers"]; body: string; path: string };

let server: Server;
let base: string;
const received: Received[] = [];
/** Status codes the listener answers, in order; 200 once they run out. */
let script: number[] = [];
let smtp: FakeSmtp;

beforeAll(async () => {
  process.env.TUSSILAGO_WEBHOOK_ALLOW_PRIVATE_HOSTS = "1";
  smtp = await startFakeSmtp();
  process.env.SMTP_URL = smtp.url;
  resetEnvForTests();
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        path: request.url ?? "",
      });
      if (request.url === "/redirect") {
        response.writeHead(307, { location: `${base}/elsewhere` }).end();
        return;
      }
      response.writeHead(script.shift() ?? 200).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await smtp.stop();
  delete process.env.TUSSILAGO_WEBHOOK_ALLOW_PRIVATE_HOSTS;
  delete process.env.SMTP_URL;
  resetEnvForTests();
});

async function channelAndDelivery(
  kind: "webhook" | "slack" | "email",
  target: string,
  event: NotificationEventName = "deployment.failed",
) {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const ctx = await userCtx(owner.id, team.id);
  const { channel, secret } = await createChannel(getDb(), ctx, { kind, name: "ops", target, events: [event] });
  await getDb().$transaction(async (tx) => {
    await notifyTeam(tx, { teamId: team.id, event, subject: {}, summary: "Deployment of shop failed: boom" });
  });
  const delivery = await getDb().notificationDelivery.findFirstOrThrow({ where: { channelId: channel.id } });
  return { team, channel, secret, deliveryId: delivery.id };
}

function deps(attempt: number, overrides: Partial<DeliverDeps> = {}): DeliverDeps {
  return {
    db: getDb(),
    log: silentLog,
    attempt,
    maxAttempts: 8,
    allowPrivateHosts: true,
    publicUrl: "https://paas.example",
    ...overrides,
  };
}

describe("notification__deliver", () => {
  it("posts the signed JSON body; the signature verifies with the channel's secret", async () => {
    const { team, secret, deliveryId } = await channelAndDelivery("webhook", `${base}/hook`);
    received.length = 0;
    await deliverNotification(deliveryId, deps(1));
    expect(received).toHaveLength(1);
    const [request] = received;
    if (!request || !secret) throw new Error("no request or no secret");
    const expected = `sha256=${createHmac("sha256", secret).update(request.body).digest("hex")}`;
    expect(request.headers["x-tussilago-signature"]).toBe(expected);
    expect(request.headers["x-tussilago-event"]).toBe("deployment.failed");
    expect(request.headers["x-tussilago-delivery"]).toBe(deliveryId);
    const body = JSON.parse(request.body);
    expect(body).toMatchObject({
      event: "deployment.failed",
      team: { id: team.id, name: team.name },
      summary: "Deployment of shop failed: boom",
    });
    expect(Number(request.headers["x-tussilago-timestamp"])).toBe(Math.floor(Date.parse(body.at) / 1000));
    const row = await getDb().notificationDelivery.findUniqueOrThrow({ where: { id: deliveryId } });
    expect(row).toMatchObject({ status: "delivered", attempts: 1, statusCode: 200, error: null });
  });

  it("retries a 500 (the job throws, the attempt is recorded) and then delivers", async () => {
    const { deliveryId } = await channelAndDelivery("webhook", `${base}/hook`);
    script = [500];
    await expect(deliverNotification(deliveryId, deps(1))).rejects.toMatchObject({ retryable: true });
    let row = await getDb().notificationDelivery.findUniqueOrThrow({ where: { id: deliveryId } });
    expect(row).toMatchObject({ status: "pending", attempts: 1, statusCode: 500 });
    await deliverNotification(deliveryId, deps(2));
    row = await getDb().notificationDelivery.findUniqueOrThrow({ where: { id: deliveryId } });
    expect(row).toMatchObject({ status: "delivered", attempts: 2, statusCode: 200, error: null });
    // Delivered: a duplicate run sends nothing more.
    received.length = 0;
    await deliverNotification(deliveryId, deps(3));
    expect(received).toHaveLength(0);
  });

  it("marks a 5xx on the last attempt failed without throwing", async () => {
    const { deliveryId } = await channelAndDelivery("webhook", `${base}/hook`);
    script = [503];
    await deliverNotification(deliveryId, deps(8));
    const row = await getDb().notificationDelivery.findUniqueOrThrow({ where: { id: deliveryId } });
    expect(row.status).toBe("failed");
    expect(row.error).toContain("503");
  });

  it("takes a 4xx as final: failed at once, no retry", async () => {
    const { deliveryId } = await channelAndDelivery("webhook", `${base}/hook`);
    script = [404];
    await deliverNotification(deliveryId, deps(1));
    const row = await getDb().notificationDelivery.findUniqueOrThrow({ where: { id: deliveryId } });
    expect(row).toMatchObject({ status: "failed", attempts: 1, statusCode: 404 });
  });

  it("does not follow a redirect", async () => {
    const { deliveryId } = await channelAndDelivery("webhook", `${base}/redirect`);
    received.length = 0;
    await deliverNotification(deliveryId, deps(1));
    expect(received.map((request) => request.path)).toEqual(["/redirect"]);
    const row = await getDb().notificationDelivery.findUniqueOrThrow({ where: { id: deliveryId } });
    expect(row).toMatchObject({ status: "failed", statusCode: 307 });
    expect(row.error).toContain("redirect");
  });

  it("refuses a private address without the flag, also behind a name that resolves to loopback", async () => {
    const literal = await channelAndDelivery("webhook", `${base}/hook`);
    received.length = 0;
    await deliverNotification(literal.deliveryId, deps(1, { allowPrivateHosts: false }));
    let row = await getDb().notificationDelivery.findUniqueOrThrow({ where: { id: literal.deliveryId } });
    expect(row.status).toBe("failed");
    expect(row.statusCode).toBeNull();

    const port = (server.address() as AddressInfo).port;
    const named = await channelAndDelivery("webhook", `https://hooks.example.com:${port}/hook`);
    const lookup = async () => [{ address: "127.0.0.1", family: 4 }];
    await deliverNotification(named.deliveryId, deps(1, { allowPrivateHosts: false, lookup }));
    row = await getDb().notificationDelivery.findUniqueOrThrow({ where: { id: named.deliveryId } });
    expect(row.status).toBe("failed");
    expect(row.error).toContain("private");
    expect(received).toHaveLength(0);
  });

  it("sends Slack-compatible JSON to a slack channel", async () => {
    const { deliveryId } = await channelAndDelivery("slack", `${base}/slack`);
    received.length = 0;
    await deliverNotification(deliveryId, deps(1));
    const body = JSON.parse(received[0]?.body ?? "{}");
    expect(body.text).toContain("deployment.failed");
    expect(Array.isArray(body.blocks)).toBe(true);
    expect(received[0]?.headers["x-tussilago-signature"]).toBeUndefined();
  });

  it("sends email through the platform's mail path (email__send) to the fake SMTP server", async () => {
    const { deliveryId } = await channelAndDelivery("email", "ops@example.test, oncall@example.test");
    await deliverNotification(deliveryId, deps(1));
    const row = await getDb().notificationDelivery.findUniqueOrThrow({ where: { id: deliveryId } });
    expect(row.status).toBe("delivered");
    const [job] = (await pendingJobs("email__send")).slice(-1);
    const payload = tasks.email__send.payload.parse(job?.payload);
    const ctx = { db: getDb(), log: silentLog, jobId: "1", attempt: 1, maxAttempts: 8, workerId: "w" } as TaskContext;
    await tasks.email__send.run(payload, ctx);
    const message = await smtp.waitForMessage((m) => m.subject.includes("deployment.failed"));
    expect(message.rcptTo).toEqual(["ops@example.test", "oncall@example.test"]);
    expect(message.text).toContain("Deployment of shop failed: boom");
  });
});
