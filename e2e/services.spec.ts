// Tenant data services in the portal, end to end against the real tenant servers the platform starts (the embedded
// tenant PostgreSQL and, where redis-server is installed, the tenant Redis: scripts/start.ts): create a database
// and watch it become ready, reveal its credentials, attach it to an app, change its limits, delete it with the
// typed confirmation; the same journey, shorter, for Redis; a viewer sees it all without a single control.
import { expect, type Page, test } from "@playwright/test";
import { invite, signUpWithTeam, submitSignUp, unique, uniqueEmail } from "./fixtures/identity";

const UUID = "[0-9a-f-]{36}";

async function createApp(page: Page, teamId: string, name: string): Promise<void> {
  await page.goto(`/teams/${teamId}/apps/new`);
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Create app" }).click();
  await expect(page).toHaveURL(new RegExp(`/teams/${teamId}/apps/${UUID}$`));
}

test("an owner creates a database, sees it ready, reveals it, attaches it, changes limits and deletes it", async ({
  page,
}) => {
  test.setTimeout(120_000);
  const teamId = await signUpWithTeam(page, {
    name: "Pat Postgres",
    email: uniqueEmail("dbowner"),
    team: `Team ${unique("db")}`,
  });
  const appName = unique("web");
  await createApp(page, teamId, appName);

  await page.getByRole("navigation", { name: "Team" }).getByRole("link", { name: "Databases" }).click();
  await expect(page).toHaveURL((url) => url.pathname === `/teams/${teamId}/databases`);
  await expect(page.getByText("No databases yet")).toBeVisible();
  await page.getByRole("link", { name: "New database" }).click();

  const name = unique("main");
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Connections").fill("5");
  await page.getByRole("button", { name: "Create database" }).click();
  await expect(page).toHaveURL(new RegExp(`/teams/${teamId}/databases/${UUID}$`));
  await expect(page.getByRole("heading", { name })).toBeVisible();
  // Provisioning on the real tenant server; the page polls and refreshes itself.
  await expect(page.getByTestId("service-status")).toHaveAttribute("data-status", "ready", { timeout: 60_000 });
  await expect(page.getByTestId("limit-connections")).toHaveText("5");

  await page.getByRole("button", { name: "Reveal credentials" }).click();
  await expect(page.getByTestId("credentials")).toBeVisible();
  await expect(page.getByTestId("credential-user")).toHaveText(/^t_[0-9a-f]{32}$/);
  await expect(page.getByTestId("credential-password")).toHaveText(/^[A-Za-z0-9_-]{43}$/);
  expect(page.url()).not.toContain("password");
  await expect(page.getByLabel("Connection URL")).toHaveValue(/^postgresql:\/\/t_[0-9a-f]{32}:/);

  await page.getByLabel("Attached app").selectOption({ label: appName });
  await page.getByRole("button", { name: "Save attachment" }).click();
  await expect(page.getByText(/^Attached\./)).toBeVisible();
  await expect(page.getByTestId("attached-app")).toHaveText(appName);

  await page.getByLabel("Connections").fill("3");
  await page.getByRole("button", { name: "Change limits" }).click();
  await expect(page.getByTestId("limit-connections")).toHaveText("3");
  // The job applies them; the page shows the database idle again once it has.
  await expect(page.getByText("Applying the new limits…")).toHaveCount(0, { timeout: 60_000 });
  await expect(page.getByTestId("service-status")).toHaveAttribute("data-status", "ready");

  await page.getByLabel(`Type “${name}” to confirm`).fill("something else");
  await page.getByRole("button", { name: "Delete database" }).click();
  await expect(page.getByText("does not match the database's name")).toBeVisible();
  await page.getByLabel(`Type “${name}” to confirm`).fill(name);
  await page.getByRole("button", { name: "Delete database" }).click();
  await expect(page).toHaveURL((url) => url.pathname === `/teams/${teamId}/databases`);
  // Deleting on the server, then gone: the list polls until it is.
  await expect(page.getByText("No databases yet")).toBeVisible({ timeout: 60_000 });
});

test("an owner creates a Redis instance and reveals its key prefix", async ({ page }) => {
  test.setTimeout(90_000);
  const teamId = await signUpWithTeam(page, {
    name: "Rita Redis",
    email: uniqueEmail("redisowner"),
    team: `Team ${unique("redis")}`,
  });
  await page.goto(`/teams/${teamId}/redis/new`);
  test.skip(
    await page.getByText("Redis is not available on this installation").isVisible(),
    "redis-server is not installed on this machine",
  );
  const name = unique("cache");
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Create Redis instance" }).click();
  await expect(page).toHaveURL(new RegExp(`/teams/${teamId}/redis/${UUID}$`));
  await expect(page.getByTestId("service-status")).toHaveAttribute("data-status", "ready", { timeout: 60_000 });
  await page.getByRole("button", { name: "Reveal credentials" }).click();
  await expect(page.getByTestId("credential-keyPrefix")).toHaveText(/^t_[0-9a-f]{32}$/);
  await page.getByLabel(`Type “${name}” to confirm`).fill(name);
  await page.getByRole("button", { name: "Delete Redis instance" }).click();
  await expect(page).toHaveURL((url) => url.pathname === `/teams/${teamId}/redis`);
  await expect(page.getByText("No Redis instances yet")).toBeVisible({ timeout: 60_000 });
});

test("a viewer sees the team's databases without controls or credentials", async ({ page, browser, baseURL }) => {
  test.setTimeout(120_000);
  const teamId = await signUpWithTeam(page, {
    name: "Olga Owner",
    email: uniqueEmail("dbviewerowner"),
    team: `Team ${unique("dbview")}`,
  });
  const name = unique("shared");
  await page.goto(`/teams/${teamId}/databases/new`);
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Create database" }).click();
  await expect(page).toHaveURL(new RegExp(`/teams/${teamId}/databases/${UUID}$`));
  const databasePath = new URL(page.url()).pathname;
  await expect(page.getByTestId("service-status")).toHaveAttribute("data-status", "ready", { timeout: 60_000 });

  const invitePath = await invite(page, teamId, uniqueEmail("dbviewer"), "viewer");
  const context = await browser.newContext({ baseURL });
  const viewer = await context.newPage();
  await viewer.goto(invitePath);
  await viewer.getByRole("link", { name: "Sign up" }).click();
  await submitSignUp(viewer, { name: "Vera Viewer" });
  await viewer.getByRole("button", { name: "Accept" }).click();
  await expect(viewer).toHaveURL((url) => url.pathname === `/teams/${teamId}`);

  await viewer.getByRole("navigation", { name: "Team" }).getByRole("link", { name: "Databases" }).click();
  await expect(viewer.getByRole("table", { name: "databases" })).toContainText(name);
  await expect(viewer.getByRole("link", { name: "New database" })).toHaveCount(0);
  await viewer.getByRole("link", { name }).click();
  await expect(viewer).toHaveURL((url) => url.pathname === databasePath);
  await expect(viewer.getByTestId("service-status")).toHaveAttribute("data-status", "ready");
  await expect(viewer.getByText("Your role can view this database; admins and owners manage it.")).toBeVisible();
  for (const control of [
    "Reveal credentials",
    "Save attachment",
    "Change limits",
    "Rotate password",
    "Delete database",
  ]) {
    await expect(viewer.getByRole("button", { name: control })).toHaveCount(0);
  }
  expect((await viewer.goto(`/teams/${teamId}/databases/new`))?.status()).toBe(404);
  await context.close();
});
