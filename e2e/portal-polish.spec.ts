// The portal's polish and accessibility (#18 points 8 and the axe check): the main pages at desktop and 390 px
// never scroll sideways, have a skip link and no serious or critical axe-core violations; branded 404 page; the
// favicon; "Forgot password?" on sign-in (on the instance without SMTP too). Screenshots of each page at both widths
// are attached to the test's results.
import AxeBuilder from "@axe-core/playwright";
import { expect, type Page, type TestInfo, test } from "@playwright/test";
import { signUpWithTeam, unique, uniqueEmail } from "./fixtures/identity";

const UUID = "[0-9a-f-]{36}";
const VIEWPORTS = [
  { name: "desktop", width: 1280, height: 900 },
  { name: "mobile", width: 390, height: 844 },
] as const;

async function createApp(page: Page, teamId: string, name: string): Promise<string> {
  await page.goto(`/teams/${teamId}/apps/new`);
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Create app" }).click();
  await expect(page).toHaveURL(new RegExp(`/teams/${teamId}/apps/${UUID}$`));
  return new URL(page.url()).pathname;
}

/** Serious and critical violations only, as "rule: target" lines, so a failure names what to fix. */
async function axeProblems(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .flatMap((violation) => violation.nodes.map((node) => `${violation.id}: ${node.target.join(" ")}`));
}

async function checkPage(page: Page, testInfo: TestInfo, label: string, path: string): Promise<void> {
  for (const viewport of VIEWPORTS) {
    await page.setViewportSize({ width: viewport.width, height: viewport.height });
    const response = await page.goto(path);
    expect(response?.status(), `${label} answers`).toBeLessThan(400);
    await page.waitForLoadState("networkidle");
    const widths = await page.evaluate(() => ({
      scroll: document.scrollingElement?.scrollWidth ?? 0,
      inner: window.innerWidth,
    }));
    expect(widths.scroll, `${label} at ${viewport.width} px scrolls sideways`).toBeLessThanOrEqual(widths.inner);
    await testInfo.attach(`${label}-${viewport.name}.png`, {
      body: await page.screenshot({ fullPage: true }),
      contentType: "image/png",
    });
    if (viewport.name === "desktop") {
      expect(await axeProblems(page), `${label}: serious axe-core violations`).toEqual([]);
      // The first Tab lands on the skip link, which moves focus past the header and tabs to <main>.
      await page.keyboard.press("Tab");
      const skip = page.getByRole("link", { name: "Skip to content" });
      await expect(skip).toBeFocused();
      await expect(page.locator("main#main")).toHaveCount(1);
    }
  }
}

test("sign-in, 404 and favicon: branded, forgot password linked, no sideways scroll", async ({ page }, testInfo) => {
  await checkPage(page, testInfo, "sign-in", "/sign-in");
  await expect(page.getByRole("link", { name: "Forgot password?" })).toHaveAttribute("href", "/forgot-password");
  await expect(page.locator('link[rel="icon"]').first()).toHaveAttribute("href", /icon/);
  const icon = await page.request.get((await page.locator('link[rel="icon"]').first().getAttribute("href")) ?? "");
  expect(icon.headers()["content-type"]).toContain("image/svg+xml");

  const missing = await page.goto("/no-such-page-here");
  expect(missing?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Go to your teams" })).toBeVisible();
});

test("the main portal pages: no sideways scroll at 390 px, no serious axe violations", async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  const teamId = await signUpWithTeam(page, {
    name: "Polly Polish",
    email: uniqueEmail("polish"),
    team: unique("Polish team"),
  });
  const appPath = await createApp(page, teamId, unique("polish"));
  await checkPage(page, testInfo, "team", `/teams/${teamId}`);
  await checkPage(page, testInfo, "apps", `/teams/${teamId}/apps`);
  await checkPage(page, testInfo, "app-overview", appPath);
  await checkPage(page, testInfo, "deployments", `${appPath}/deployments`);
  await checkPage(page, testInfo, "env", `${appPath}/env`);
  await checkPage(page, testInfo, "settings", `${appPath}/settings`);
  await checkPage(page, testInfo, "databases", `/teams/${teamId}/databases`);

  // The team's tabs scroll inside their own strip on a phone rather than widening the page.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`/teams/${teamId}`);
  const nav = page.getByRole("navigation", { name: "Team" });
  const overflow = await nav.evaluate((element) => ({
    scroll: element.scrollWidth,
    client: element.clientWidth,
    style: getComputedStyle(element).overflowX,
  }));
  expect(overflow.style).toBe("auto");
  expect(overflow.client).toBeLessThanOrEqual(390);

  // The readiness page is the instance administrator's: the first account of the instance. When other specs ran
  // first this account is not it, and the page is a 404 for it (checked in e2e/apps.spec.ts).
  const host = await page.request.get("/admin/host");
  if (host.status() === 200) await checkPage(page, testInfo, "readiness", "/admin/host");
  else testInfo.annotations.push({ type: "skipped-page", description: "readiness: this account is not the admin" });
});
