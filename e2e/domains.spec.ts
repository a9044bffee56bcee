// Custom domains in the portal, end to end: a member adds a hostname on the app's Domains tab (an IP address is
// refused on the field), sees the DNS records to create with copy buttons, checks before and after creating the TXT
// record (the platform's DNS is the fake server e2e/global-setup.ts starts; specs set records through
// E2E_FAKE_DNS_URL), watches a second tab turn verified by itself through polling, changes HSTS and removes the
// domain; a viewer sees the list without any control.
import { randomBytes } from "node:crypto";
import { expect, type Page, test } from "@playwright/test";
import { invite, signUpWithTeam, submitSignUp, unique, uniqueEmail } from "./fixtures/identity";

const UUID = "[0-9a-f-]{36}";

async function setDnsRecord(name: string, type: "TXT" | "A" | "CNAME", values: string[]): Promise<void> {
  const url = process.env.E2E_FAKE_DNS_URL;
  if (!url) throw new Error("e2e/global-setup.ts did not set E2E_FAKE_DNS_URL");
  const response = await fetch(`${url}/records`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, type, values }),
  });
  expect(response.status).toBe(204);
}

/** A new app from the team overview; returns its path. */
async function createApp(page: Page, teamId: string, name: string): Promise<string> {
  await page.goto(`/teams/${teamId}/apps/new`);
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Create app" }).click();
  await expect(page).toHaveURL(new RegExp(`/teams/${teamId}/apps/${UUID}$`));
  return new URL(page.url()).pathname;
}

async function openDomainsTab(page: Page): Promise<void> {
  await page.getByRole("navigation", { name: "App" }).getByRole("link", { name: "Domains" }).click();
  await expect(page.getByRole("heading", { name: "Custom domains" })).toBeVisible();
}

test("a member adds a domain, proves it by DNS, watches it verify live and removes it", async ({ page, context }) => {
  test.setTimeout(120_000);
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const teamId = await signUpWithTeam(page, {
    name: "Dora Domains",
    email: uniqueEmail("domains"),
    team: `Team ${unique("domains")}`,
  });
  const appPath = await createApp(page, teamId, unique("shop"));
  await openDomainsTab(page);
  await expect(page).toHaveURL((url) => url.pathname === `${appPath}/domains`);
  await expect(page.getByText("No custom domains yet")).toBeVisible();

  // An IP address is refused, on the field, and what was typed stays.
  const field = page.getByLabel("Hostname");
  await field.fill("192.0.2.10");
  await page.getByRole("button", { name: "Add domain" }).click();
  await expect(field).toHaveAttribute("aria-invalid", "true");
  await expect(field).toHaveAccessibleDescription(/IP addresses cannot be added as domains: give a DNS name\./);
  await expect(field).toHaveValue("192.0.2.10");
  await expect(page.getByTestId("domain")).toHaveCount(0);

  const hostname = `shop-${randomBytes(4).toString("hex")}.example.com`;
  await field.fill(hostname.toUpperCase());
  await page.getByRole("button", { name: "Add domain" }).click();
  await expect(page.getByText(`${hostname} added.`)).toBeVisible();
  const domain = page.getByTestId("domain").filter({ has: page.getByRole("heading", { name: hostname }) });
  await expect(domain.getByTestId("domain-status")).toHaveAttribute("data-status", "pending");
  await expect(domain.getByTestId("domain-status")).toContainText("pending verification");

  // The TXT record to create, with copy buttons that put its name and value on the clipboard.
  const txt = domain.getByTestId("dns-record").filter({ hasText: "TXT" });
  await expect(txt).toContainText(`_tussilago.${hostname}`);
  const value = (await txt.locator("code").nth(1).textContent()) ?? "";
  expect(value).toMatch(/^tussilago-verify-[0-9a-f]{40}$/);
  const copyValue = txt.getByRole("button", { name: "Copy the value of the TXT record" });
  await copyValue.focus();
  await page.keyboard.press("Enter");
  await expect(copyValue).toHaveText("Copied");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(value);
  await expect(domain.getByRole("button", { name: "Copy the value of the CNAME record" })).toBeVisible();

  // Checked before the record exists: not proven, and why.
  await domain.getByRole("button", { name: "Check now" }).click();
  await expect(domain.getByText(`${hostname} is not proven yet:`)).toBeVisible();
  await expect(domain.getByTestId("check-error")).toBeVisible();
  await expect(domain.getByTestId("domain-status")).toHaveAttribute("data-status", "pending");

  // A second tab on the same page: it has to learn of the verification by polling.
  const watcher = await context.newPage();
  await watcher.goto(`${appPath}/domains`);
  const watched = watcher.getByTestId("domain").filter({ has: watcher.getByRole("heading", { name: hostname }) });
  await expect(watched.getByTestId("domain-status")).toHaveAttribute("data-status", "pending");

  await setDnsRecord(`_tussilago.${hostname}`, "TXT", [value]);
  await page.bringToFront();
  await domain.getByRole("button", { name: "Check now" }).click();
  await expect(domain.getByText(`${hostname} is verified.`)).toBeVisible();
  await expect(domain.getByTestId("domain-status")).toHaveAttribute("data-status", "verified");
  await expect(domain.getByTestId("dns-records")).toHaveCount(0);
  // The e2e platform's apps domain is localhost, where HTTPS stays off.
  await expect(domain.getByTestId("certificate-status")).toContainText("HTTPS is off on this installation");

  await watcher.bringToFront();
  await expect(watched.getByTestId("domain-status")).toHaveAttribute("data-status", "verified");
  await expect(watched.getByTestId("domain-status")).toContainText("verified");
  await watcher.close();

  // HSTS is a switch; off by default.
  await page.bringToFront();
  const hsts = domain.getByRole("switch", { name: "HSTS" });
  await expect(hsts).toHaveAttribute("aria-checked", "false");
  await hsts.click();
  await expect(hsts).toHaveAttribute("aria-checked", "true");
  await expect(domain.getByRole("switch", { name: "Redirect HTTP to HTTPS" })).toHaveAttribute("aria-checked", "true");

  // Removing asks first.
  await domain.getByRole("button", { name: "Remove" }).click();
  await expect(page.getByText(`Remove ${hostname}?`)).toBeVisible();
  await page.getByRole("button", { name: "Remove", exact: true }).click();
  await expect(page.getByText("No custom domains yet")).toBeVisible();
});

test("a viewer sees an app's domains without any control", async ({ page, browser, baseURL }) => {
  test.setTimeout(120_000);
  const teamId = await signUpWithTeam(page, {
    name: "Olga Owner",
    email: uniqueEmail("owner"),
    team: `Team ${unique("domain-readers")}`,
  });
  const appPath = await createApp(page, teamId, unique("shown"));
  await openDomainsTab(page);
  const hostname = `www-${randomBytes(4).toString("hex")}.example.org`;
  await page.getByLabel("Hostname").fill(hostname);
  await page.getByRole("button", { name: "Add domain" }).click();
  await expect(page.getByRole("heading", { name: hostname })).toBeVisible();
  const invitePath = await invite(page, teamId, uniqueEmail("viewer"), "viewer");

  const viewerContext = await browser.newContext({ baseURL });
  const viewer = await viewerContext.newPage();
  await viewer.goto(invitePath);
  await viewer.getByRole("link", { name: "Sign up" }).click();
  await submitSignUp(viewer, { name: "Vic Viewer" });
  await viewer.getByRole("button", { name: "Accept" }).click();
  await expect(viewer).toHaveURL((url) => url.pathname === `/teams/${teamId}`);
  await viewer.goto(`${appPath}/domains`);
  await expect(viewer.getByRole("heading", { name: hostname })).toBeVisible();
  await expect(viewer.getByTestId("domain-status")).toHaveAttribute("data-status", "pending");
  await expect(viewer.getByText("Your role can see the app's domains, but not change them.")).toBeVisible();
  for (const name of ["Check now", "Remove", "Add domain"]) {
    await expect(viewer.getByRole("button", { name })).toHaveCount(0);
  }
  await expect(viewer.getByRole("switch")).toHaveCount(0);
  await viewerContext.close();
});
