// Notifications end to end (#17): an owner adds a webhook channel pointed at a listener this spec runs on 127.0.0.1
// (the e2e platform allows private hosts, e2e/global-setup.ts), copies the signing secret shown once, sends a test,
// and the listener gets a body whose X-Tussilago-Signature verifies with that secret; after a reload the delivery
// shows as delivered. A member of the team sees the event toggles and nothing to create, test or delete.
import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test } from "@playwright/test";
import { invite, signUpWithTeam, submitSignUp, unique, uniqueEmail } from "./fixtures/identity";

type Received = { path: string; headers: http.IncomingHttpHeaders; body: string };

let server: http.Server;
let listenerUrl: string;
const received: Received[] = [];

test.beforeAll(async () => {
  server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({
        path: request.url ?? "",
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  listenerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function verifies(secret: string, body: string, header: string | string[] | undefined): boolean {
  if (typeof header !== "string") return false;
  const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(body).digest("hex")}`);
  const actual = Buffer.from(header);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

test("a webhook channel's test arrives signed with the secret shown once, and a member only toggles", async ({
  page,
  browser,
  baseURL,
}) => {
  const teamName = `Team ${unique("notify")}`;
  const teamId = await signUpWithTeam(page, { name: "Nora Owner", email: uniqueEmail("owner"), team: teamName });
  const hookPath = `/hook-${unique("e2e")}`;
  const channelName = "Ops hook";

  await page.goto(`/teams/${teamId}/notifications`);
  await page.getByLabel("Kind").selectOption("webhook");
  await page.getByLabel("Name", { exact: true }).fill(channelName);
  await page.getByLabel("Target").fill(`${listenerUrl}${hookPath}`);
  await page.getByRole("button", { name: "Create channel" }).click();
  const secretField = page.getByLabel(`Signing secret of “${channelName}”`);
  await expect(secretField).not.toHaveValue("");
  const secret = await secretField.inputValue();

  const channel = page.getByTestId("notification-channel").filter({ hasText: channelName });
  await channel.getByRole("button", { name: "Send a test" }).click();

  await expect.poll(() => received.filter((request) => request.path === hookPath).length).toBe(1);
  const request = received.find((candidate) => candidate.path === hookPath);
  if (!request) throw new Error("the listener got nothing");
  expect(request.headers["content-type"]).toContain("application/json");
  expect(verifies(secret, request.body, request.headers["x-tussilago-signature"])).toBe(true);
  // A signature made with another secret does not verify: the check above is not vacuous.
  expect(verifies(`${secret}x`, request.body, request.headers["x-tussilago-signature"])).toBe(false);
  const body = JSON.parse(request.body) as { summary?: string; team?: { name?: string } };
  expect(body.summary).toContain(channelName);
  expect(body.team?.name).toBe(teamName);

  // The page shows deliveries as of its render: reload until the worker has recorded the answer.
  await expect(async () => {
    await page.reload();
    await expect(
      page.getByTestId("notification-channel").filter({ hasText: channelName }).getByTestId("notification-delivery"),
    ).toContainText("delivered", { timeout: 1_000 });
  }).toPass();
  // The secret was shown once: a reload does not show it again.
  await expect(page.getByLabel(`Signing secret of “${channelName}”`)).toHaveCount(0);

  // A member: the event toggles and the on/off switch, nothing to create, test or delete.
  const memberEmail = uniqueEmail("member");
  const invitePath = await invite(page, teamId, memberEmail, "member");
  const context = await browser.newContext({ baseURL });
  const member = await context.newPage();
  await member.goto(invitePath);
  await member.getByRole("link", { name: "Sign up" }).click();
  await submitSignUp(member, { name: "Milo Member" });
  await expect(member).toHaveURL((url) => url.pathname === invitePath);
  await member.getByRole("button", { name: "Accept" }).click();
  await expect(member).toHaveURL((url) => url.pathname === `/teams/${teamId}`);

  await member.goto(`/teams/${teamId}/notifications`);
  const memberChannel = member.getByTestId("notification-channel").filter({ hasText: channelName });
  await expect(memberChannel).toBeVisible();
  await expect(memberChannel.getByRole("button", { name: /deployment\./ }).first()).toBeVisible();
  await expect(memberChannel.getByRole("button", { name: "Switch off" })).toBeVisible();
  await expect(member.getByRole("button", { name: "Create channel" })).toHaveCount(0);
  await expect(memberChannel.getByRole("button", { name: "Send a test" })).toHaveCount(0);
  await expect(memberChannel.getByRole("button", { name: "Delete" })).toHaveCount(0);
  await context.close();
});
