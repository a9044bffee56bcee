// Apps in the portal, end to end: create an app, upload a tarball of examples/wsgi-stdlib and watch the build on
// the deployment page until the image is built; a source the platform cannot plan and a failing image build show
// their error; a build is cancelled mid-way; a viewer sees the same pages without forms. Builds run against the fake
// podman wired in e2e/global-setup.ts.
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect, type Page, test } from "@playwright/test";
import { invite, signUpWithTeam, submitSignUp, unique, uniqueEmail } from "./fixtures/identity";

const run = promisify(execFile);
const UUID = "[0-9a-f-]{36}";
const BUILD_PHASES = ["queued", "fetching", "planning", "building"];

let scratch: string;

test.beforeAll(async () => {
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-e2e-apps-"));
});

test.afterAll(async () => {
  await fs.rm(scratch, { recursive: true, force: true });
});

/** A .tar.gz of `dir`'s contents, made by tar(1) the way the upload hint tells users to. */
async function tarball(dir: string, name: string): Promise<string> {
  const file = path.join(scratch, `${name}.tar.gz`);
  await run("tar", ["-czf", file, "-C", dir, "--", "."]);
  return file;
}

/**
 * Runs `body` with one of the fake podman's switches on (e2e/global-setup.ts): "fail-build" makes image builds fail,
 * "hang-build" makes them hang until cancelled. Specs run one at a time, so a switch affects only this spec's builds.
 */
async function withFakePodman<T>(fakeSwitch: "fail-build" | "hang-build", body: () => Promise<T>): Promise<T> {
  const dir = process.env.E2E_FAKE_PODMAN_DIR;
  if (!dir) throw new Error("e2e/global-setup.ts did not set E2E_FAKE_PODMAN_DIR");
  const file = path.join(dir, fakeSwitch);
  await fs.writeFile(file, "");
  try {
    return await body();
  } finally {
    await fs.rm(file, { force: true });
  }
}

/** From the team overview's "New app" button to the new app's page; returns the app's path. */
async function createApp(page: Page, teamId: string, name: string): Promise<string> {
  await page.goto(`/teams/${teamId}`);
  await page.getByTestId("deploy-button").click();
  await expect(page).toHaveURL((url) => url.pathname === `/teams/${teamId}/apps/new`);
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Create app" }).click();
  await expect(page).toHaveURL(new RegExp(`/teams/${teamId}/apps/${UUID}$`));
  await expect(page.getByTestId("app-name")).toHaveText(name);
  return new URL(page.url()).pathname;
}

/** Uploads the tarball from the app page's Deploy panel and lands on the new deployment's page. */
async function deploy(page: Page, file: string): Promise<void> {
  await page.getByLabel("Source tarball (.tar.gz)").setInputFiles(file);
  await page.getByRole("button", { name: "Upload and deploy" }).click();
  await expect(page).toHaveURL(new RegExp(`/deployments/${UUID}$`));
  await expect(page.getByRole("heading", { name: "Deployment #1" })).toBeVisible();
}

test("a member creates an app, uploads a tarball and watches it build", async ({ page }) => {
  test.setTimeout(150_000);
  const teamId = await signUpWithTeam(page, {
    name: "Dana Deployer",
    email: uniqueEmail("deployer"),
    team: `Team ${unique("apps")}`,
  });
  await expect(page.getByText("No apps yet")).toBeVisible();
  const name = unique("wsgi");
  const appPath = await createApp(page, teamId, name);
  await expect(page.getByText("No deployments yet")).toBeVisible();

  await deploy(page, await tarball(path.resolve("examples/wsgi-stdlib"), "wsgi-stdlib"));
  // The app's header came along with the redirect, not left as it was on the app page.
  await expect(page.getByTestId("app-status")).toHaveAttribute("data-status", "deploying");
  const deploymentId = new URL(page.url()).pathname.split("/").at(-1);
  // Built: every build phase done. The release then takes over (its outcome is not this test's subject: the e2e
  // platform has no real containers to health-check), so the status has moved on from building, not failed.
  await expect(page.getByTestId("phase-building")).toHaveAttribute("data-status", "succeeded", { timeout: 90_000 });
  for (const phase of BUILD_PHASES) {
    await expect(page.getByTestId(`phase-${phase}`)).toHaveAttribute("data-status", "succeeded");
  }
  await expect(page.getByTestId("deployment-status")).toHaveAttribute("data-status", /^(built|releasing|running)$/);
  const plan = page.getByTestId("build-plan");
  await expect(plan).toContainText("python");
  await expect(plan).toContainText("python3 server.py");
  await expect(plan).toContainText("Procfile");
  const log = page.getByTestId("build-log");
  await expect(log).toContainText("==> Unpacking the uploaded tarball");
  await expect(log).toContainText("==> Built");
  await expect(page.getByRole("button", { name: "Cancel deployment" })).toHaveCount(0);
  await page.screenshot({ path: test.info().outputPath("deployment.png"), fullPage: true });

  // The Deployments list shows the deployment (#18: the link went to the overview); the team's apps list shows the
  // app with it.
  await page.getByRole("link", { name: `All deployments of ${name}` }).click();
  await expect(page).toHaveURL((url) => url.pathname === `${appPath}/deployments`);
  const deployments = page.getByRole("table", { name: "Deployments" });
  await expect(deployments.getByRole("link", { name: "#1" })).toBeVisible();
  await expect(deployments.locator("[data-status]")).toHaveAttribute("data-status", /^(built|releasing|running)$/);
  await expect(deployments).toContainText("Upload");
  await page.screenshot({ path: test.info().outputPath("app.png"), fullPage: true });

  await page.getByRole("navigation", { name: "Team" }).getByRole("link", { name: "Apps" }).click();
  const apps = page.getByRole("table", { name: "Apps" });
  await expect(apps.getByRole("link", { name, exact: true })).toBeVisible();
  await expect(apps).toContainText("#1");

  // Environment: the value goes in once and is never shown again.
  await page.goto(`${appPath}/env`);
  await expect(page.getByText("No variables yet")).toBeVisible();
  await page.getByLabel("Key").fill("SECRET_KEY");
  await page.getByLabel("Value", { exact: true }).fill("hunter2-do-not-show");
  await page
    .locator("form")
    .filter({ has: page.getByLabel("Key", { exact: true }) })
    .getByRole("button", { name: "Save", exact: true })
    .click();
  await expect(page.getByText("SECRET_KEY saved.")).toBeVisible();
  const variables = page.getByRole("list", { name: "Environment variables" });
  await expect(variables).toContainText("SECRET_KEY");
  await expect(variables).toContainText("••••••••");
  await expect(page.getByLabel("Value", { exact: true })).toHaveValue("");
  await page.reload();
  await expect(page.getByText("hunter2-do-not-show")).toHaveCount(0);
  await page.screenshot({ path: test.info().outputPath("env.png"), fullPage: true });

  // Settings: a rename shows at once in the app's header.
  await page.getByRole("navigation", { name: "App" }).getByRole("link", { name: "Settings" }).click();
  const renamed = unique("renamed");
  await page.getByLabel("Name", { exact: true }).fill(renamed);
  await page.getByRole("button", { name: "Rename app" }).click();
  await expect(page.getByText(`Renamed to ${renamed}`)).toBeVisible();
  await expect(page.getByTestId("app-name")).toHaveText(renamed);
  await page.screenshot({ path: test.info().outputPath("settings.png"), fullPage: true });

  // A phone-sized screen: the deployment page still reads top to bottom.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${appPath}/deployments/${deploymentId}`);
  await expect(page.getByTestId("phase-building")).toHaveAttribute("data-status", "succeeded");
  await page.screenshot({ path: test.info().outputPath("deployment-mobile.png"), fullPage: true });
});

test("a source without a start command and a failing image build both show their error", async ({ page }) => {
  test.setTimeout(150_000);
  const teamId = await signUpWithTeam(page, {
    name: "Fay Failure",
    email: uniqueEmail("failure"),
    team: `Team ${unique("failures")}`,
  });

  // Nothing to plan: a README only.
  const empty = path.join(scratch, "no-app");
  await fs.mkdir(empty, { recursive: true });
  await fs.writeFile(path.join(empty, "README.md"), "Not an app.\n");
  await createApp(page, teamId, unique("empty"));
  await deploy(page, await tarball(empty, "no-app"));
  await expect(page.getByTestId("deployment-status")).toHaveAttribute("data-status", "failed", { timeout: 90_000 });
  await expect(page.getByText("The deployment failed")).toBeVisible();
  await expect(page.getByTestId("deployment-error")).toContainText("could not find how to start this app");
  await expect(page.getByTestId("phase-planning")).toHaveAttribute("data-status", "failed");
  await expect(page.getByTestId("phase-building")).toContainText("not run");

  // A real source whose image build fails (the fake podman's injected failure, see e2e/global-setup.ts).
  await createApp(page, teamId, unique("broken"));
  await withFakePodman("fail-build", async () => {
    await deploy(page, await tarball(path.resolve("examples/wsgi-stdlib"), "wsgi-broken"));
    await expect(page.getByTestId("deployment-status")).toHaveAttribute("data-status", "failed", {
      timeout: 90_000,
    });
  });
  await expect(page.getByTestId("deployment-error")).toContainText("The image build failed");
  await expect(page.getByTestId("phase-building")).toHaveAttribute("data-status", "failed");
  await expect(page.getByTestId("build-plan")).toContainText("python");
  await expect(page.getByTestId("build-log")).toContainText("==> Failed");
  await page.screenshot({ path: test.info().outputPath("deployment-failed.png"), fullPage: true });
});

test("a member cancels a build while watching it", async ({ page }) => {
  test.setTimeout(150_000);
  const teamId = await signUpWithTeam(page, {
    name: "Cal Canceller",
    email: uniqueEmail("canceller"),
    team: `Team ${unique("cancels")}`,
  });
  await createApp(page, teamId, unique("slow"));
  await withFakePodman("hang-build", async () => {
    await deploy(page, await tarball(path.resolve("examples/wsgi-stdlib"), "wsgi-slow"));
    const status = page.getByTestId("deployment-status");
    await expect(status).toHaveAttribute("data-status", "building", { timeout: 90_000 });
    await expect(page.getByTestId("phase-building")).toHaveAttribute("data-status", "running");
    await expect(page.getByTestId("build-log")).toContainText("==> Building the image");
    await page.screenshot({ path: test.info().outputPath("deployment-building.png"), fullPage: true });

    await page.getByRole("button", { name: "Cancel deployment" }).click();
    await expect(status).toHaveAttribute("data-status", "cancelled", { timeout: 30_000 });
  });
  await expect(page.getByText("This deployment was cancelled.")).toBeVisible();
  await expect(page.getByTestId("phase-building")).toHaveAttribute("data-status", "cancelled");
  await expect(page.getByTestId("build-log")).toContainText("==> Cancelled");
  await expect(page.getByRole("button", { name: "Cancel deployment" })).toHaveCount(0);
});

test("a viewer sees apps, deployments, variables and settings without any form", async ({ page, browser, baseURL }) => {
  test.setTimeout(120_000);
  const teamId = await signUpWithTeam(page, {
    name: "Olga Owner",
    email: uniqueEmail("owner"),
    team: `Team ${unique("readers")}`,
  });
  const name = unique("shown");
  const appPath = await createApp(page, teamId, name);
  await page.goto(`${appPath}/env`);
  await page.getByLabel("Key").fill("VISIBLE_KEY");
  await page.getByLabel("Value", { exact: true }).fill("hidden-value");
  await page
    .locator("form")
    .filter({ has: page.getByLabel("Key", { exact: true }) })
    .getByRole("button", { name: "Save", exact: true })
    .click();
  await expect(page.getByText("VISIBLE_KEY saved.")).toBeVisible();
  const invitePath = await invite(page, teamId, uniqueEmail("viewer"), "viewer");

  const context = await browser.newContext({ baseURL });
  const viewer = await context.newPage();
  await viewer.goto(invitePath);
  await viewer.getByRole("link", { name: "Sign up" }).click();
  await submitSignUp(viewer, { name: "Vic Viewer" });
  await viewer.getByRole("button", { name: "Accept" }).click();
  await expect(viewer).toHaveURL((url) => url.pathname === `/teams/${teamId}`);

  await expect(viewer.getByTestId("deploy-button")).toHaveCount(0);
  await viewer.getByRole("table", { name: "Apps" }).getByRole("link", { name, exact: true }).click();
  await expect(viewer).toHaveURL((url) => url.pathname === appPath);
  await expect(viewer.getByRole("button", { name: "Upload and deploy" })).toHaveCount(0);
  await expect(viewer.getByText("Deployments of this app will appear here.")).toBeVisible();

  await viewer.getByRole("navigation", { name: "App" }).getByRole("link", { name: "Environment" }).click();
  await expect(viewer.getByRole("list", { name: "Environment variables" })).toContainText("VISIBLE_KEY");
  await expect(viewer.getByRole("button", { name: "Remove" })).toHaveCount(0);
  await expect(viewer.getByLabel("Key")).toHaveCount(0);
  await expect(viewer.getByText("hidden-value")).toHaveCount(0);

  await viewer.getByRole("navigation", { name: "App" }).getByRole("link", { name: "Settings" }).click();
  await expect(viewer.getByText("Your role can see this app's settings, but not change them.")).toBeVisible();
  await expect(viewer.getByRole("button", { name: "Delete app" })).toHaveCount(0);
  await expect(viewer.getByRole("textbox")).toHaveCount(0);

  await viewer.goto(`/teams/${teamId}/apps/new`);
  await expect(viewer.getByText("Viewers can see apps but not create them.")).toBeVisible();
  await expect(viewer.getByRole("button", { name: "Create app" })).toHaveCount(0);
  await context.close();
});

/**
 * Runs `body` with the fake podman's containers answering HTTP on their published ports (test/fake-podman), so
 * releases pass their health check and the app really reaches "running" through the release engine and fake Caddy.
 */
async function withServingContainers<T>(body: () => Promise<T>): Promise<T> {
  const dir = process.env.E2E_FAKE_PODMAN_DIR;
  if (!dir) throw new Error("e2e/global-setup.ts did not set E2E_FAKE_PODMAN_DIR");
  const file = path.join(dir, "state", "serve-http");
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, "");
  try {
    return await body();
  } finally {
    await fs.rm(file, { force: true });
  }
}

test("an app reaches running, shows its address, restarts, scales, shows its logs and stops", async ({ page }) => {
  test.setTimeout(300_000);
  const teamId = await signUpWithTeam(page, {
    name: "Rita Runner",
    email: uniqueEmail("runner"),
    team: `Team ${unique("running")}`,
  });
  const name = unique("live");
  const appPath = await createApp(page, teamId, name);
  await withServingContainers(async () => {
    await deploy(page, await tarball(path.resolve("examples/wsgi-stdlib"), "wsgi-live"));
    await expect(page.getByTestId("deployment-status")).toHaveAttribute("data-status", "running", {
      timeout: 150_000,
    });
    await expect(page.getByText("Released: this deployment is serving the app.")).toBeVisible();

    // The app page: running, its address as a link, one healthy replica, the lifecycle controls.
    await page.goto(appPath);
    await expect(page.getByTestId("app-status")).toHaveAttribute("data-status", "running");
    await expect(page.getByTestId("runtime-status")).toHaveAttribute("data-status", "running");
    const address = page.getByRole("link", { name: new RegExp(`^http://${name}-[a-z0-9-]+\\.localhost`) });
    await expect(address).toBeVisible();
    const replicas = page.getByTestId("replica");
    await expect(replicas).toHaveCount(1);
    await expect(replicas.first()).toHaveAttribute("data-status", "healthy");
    await expect(page.locator("body")).not.toContainText("127.0.0.1");
    await page.screenshot({ path: test.info().outputPath("app-running.png"), fullPage: true });

    // Restart: new containers, then the old ones go; the page follows the operation until it is done.
    await page.getByRole("button", { name: "Restart" }).click();
    await expect(page.getByText("Restarting with fresh containers, without downtime.")).toBeVisible();
    await expect(page.getByTestId("pending-operations")).toHaveCount(0, { timeout: 90_000 });
    await expect(replicas).toHaveCount(1);
    await expect(replicas.first()).toHaveAttribute("data-status", "healthy");

    // Scale to two replicas from the page.
    await page.getByTestId("scale-replicas").fill("2");
    await page.getByRole("button", { name: "Scale" }).click();
    await expect(page.getByText("Scaling to 2 replicas.")).toBeVisible();
    await expect(page.getByTestId("pending-operations")).toHaveCount(0, { timeout: 90_000 });
    await expect(replicas).toHaveCount(2, { timeout: 30_000 });
    await expect(page.locator('[data-testid="replica"][data-status="healthy"]')).toHaveCount(2);

    // The Logs tab: what the (fake) containers printed, collected by the worker and followed by polling.
    await page.getByRole("navigation", { name: "App" }).getByRole("link", { name: "Logs" }).click();
    await expect(page).toHaveURL((url) => url.pathname === `${appPath}/logs`);
    await expect(page.getByTestId("app-logs")).toContainText("fake-podman: started", { timeout: 60_000 });
    await expect(page.getByTestId("logs-follow")).toHaveAttribute("aria-pressed", "true");
    await page.screenshot({ path: test.info().outputPath("app-logs.png"), fullPage: true });

    // Stop asks first, then the app is stopped and its containers are gone.
    await page.getByRole("navigation", { name: "App" }).getByRole("link", { name: "Overview" }).click();
    await page.getByRole("button", { name: "Stop" }).click();
    await expect(page.getByText("Stop the app? Its address answers 503 until it is started again.")).toBeVisible();
    await page.getByRole("button", { name: "Stop" }).click();
    await expect(page.getByTestId("runtime-status")).toHaveAttribute("data-status", "stopped", { timeout: 90_000 });
    await expect(page.getByTestId("replica")).toHaveCount(0, { timeout: 30_000 });
    await expect(page.getByRole("button", { name: "Start", exact: true })).toBeVisible();
  });
});

test("a viewer sees a running app's state but no lifecycle controls", async ({ page, browser, baseURL }) => {
  test.setTimeout(120_000);
  const teamId = await signUpWithTeam(page, {
    name: "Otto Owner",
    email: uniqueEmail("owner"),
    team: `Team ${unique("watchers")}`,
  });
  const appPath = await createApp(page, teamId, unique("watched"));
  // No release yet: the deploy card leads, and there is nothing to start or scale (#18).
  await expect(page.getByRole("heading", { name: "Deploy your app" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Scale" })).toHaveCount(0);
  const invitePath = await invite(page, teamId, uniqueEmail("viewer"), "viewer");
  const context = await browser.newContext({ baseURL });
  const viewer = await context.newPage();
  await viewer.goto(invitePath);
  await viewer.getByRole("link", { name: "Sign up" }).click();
  await submitSignUp(viewer, { name: "Val Viewer" });
  await viewer.getByRole("button", { name: "Accept" }).click();
  // Membership exists once the acceptance has landed on the team page; going on earlier races it (a 404).
  await expect(viewer).toHaveURL((url) => url.pathname === `/teams/${teamId}`);
  await viewer.goto(appPath);
  // Before a release there is no Running card (#18): the app's status is in its header.
  await expect(viewer.getByTestId("app-status")).toHaveAttribute("data-status", "created");
  for (const label of ["Start", "Stop", "Restart", "Scale", "Roll back"]) {
    await expect(viewer.getByRole("button", { name: label, exact: true })).toHaveCount(0);
  }
  await viewer.getByRole("navigation", { name: "App" }).getByRole("link", { name: "Logs" }).click();
  await expect(viewer.getByTestId("app-logs")).toContainText("No output yet.");
  // The host readiness page exists for instance administrators only; this account is not one (nor in its menu).
  expect((await viewer.goto("/admin/host"))?.status()).toBe(404);
  await viewer.goto(appPath);
  await viewer.getByTestId("user-menu").click();
  await expect(viewer.getByTestId("admin-host-link")).toHaveCount(0);
  await context.close();
});
