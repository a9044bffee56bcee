// Deploy on push in the portal, end to end: a member opens the app's Git tab, turns deploy on push on, creates the
// webhook and sees its secret exactly once, sends a signed delivery to the platform's hook URL as a forge would (the
// generic X-Tussilago-Signature form, a push to another branch) and watches it appear as "ignored" through polling,
// then creates a deploy key and copies its public half.
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { expect, test } from "@playwright/test";
import { signUpWithTeam, unique, uniqueEmail } from "./fixtures/identity";

const UUID = "[0-9a-f-]{36}";

test("a member creates the webhook, sees a signed delivery ignored, and copies a deploy key", async ({
  page,
  context,
}) => {
  test.setTimeout(120_000);
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const teamId = await signUpWithTeam(page, {
    name: "Gita Git",
    email: uniqueEmail("git"),
    team: `Team ${unique("git")}`,
  });
  await page.goto(`/teams/${teamId}/apps/new`);
  await page.getByLabel("Name", { exact: true }).fill(unique("shop"));
  await page.getByLabel("Repository URL").fill("https://github.com/acme/shop.git");
  await page.getByLabel("Branch or tag").fill("main");
  await page.getByRole("button", { name: "Create app" }).click();
  await expect(page).toHaveURL(new RegExp(`/teams/${teamId}/apps/${UUID}$`));

  await page.getByRole("navigation", { name: "App" }).getByRole("link", { name: "Git" }).click();
  await expect(page.getByRole("heading", { name: "Webhook" })).toBeVisible();
  const autoDeploy = page.getByRole("switch", { name: "Deploy on push" });
  await expect(autoDeploy).toHaveAttribute("aria-checked", "false");
  await autoDeploy.click();
  await expect(autoDeploy).toHaveAttribute("aria-checked", "true");

  // The secret is shown once, in the action's answer.
  await page.getByRole("button", { name: "Create the webhook" }).click();
  const secretField = page.getByLabel("Webhook secret");
  await expect(secretField).toBeVisible();
  const secret = await secretField.inputValue();
  expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  const url = (await page.getByTestId("webhook-url").textContent()) ?? "";
  expect(url).toMatch(/\/api\/v1\/hooks\/[A-Za-z0-9_-]{43}$/);
  await expect(page.getByText("GitHub", { exact: true })).toBeVisible();
  await page.reload();
  await expect(page.getByTestId("webhook-url")).toHaveText(url);
  await expect(page.getByLabel("Webhook secret")).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Make a new secret" })).toBeVisible();

  // A signed push to another branch, sent as a forge sends it: answered 202 ignored, and listed live.
  const body = JSON.stringify({ ref: "refs/heads/feature", after: randomBytes(20).toString("hex") });
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-tussilago-event": "push",
      "x-tussilago-delivery": randomUUID(),
      "x-tussilago-signature": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
    },
    body,
  });
  expect(response.status).toBe(202);
  expect(await response.json()).toEqual({ ignored: "A push to feature; this app deploys main." });
  const delivery = page.getByTestId("delivery");
  await expect(delivery).toHaveCount(1);
  await expect(delivery).toHaveAttribute("data-outcome", "ignored");
  await expect(delivery).toContainText("A push to feature; this app deploys main.");

  // The deploy key: created, shown with its fingerprint, copied.
  await page.getByRole("button", { name: "Create a deploy key" }).click();
  const key = page.getByTestId("deploy-key");
  await expect(key).toContainText(/^ssh-ed25519 AAAA\S+ tussilago-/);
  await expect(page.getByTestId("deploy-key-fingerprint")).toHaveText(/^SHA256:[A-Za-z0-9+/]{43}$/);
  const copy = page.getByRole("button", { name: "Copy the public key" });
  await copy.click();
  await expect(copy).toHaveText("Copied");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(await key.textContent());
});
