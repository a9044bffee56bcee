// Deployments that explain themselves (#18), end to end against the fake podman (e2e/global-setup.ts): a new app's
// page puts the deploy card first and takes a dropped tarball; a base image the host cannot fetch is the operator's,
// with the readiness page; a failing build step links to the highlighted line of the log, which is shown once; Retry
// and the Deployments list (reason, duration, trigger, who) with the deployment page's link back to it. Screenshots
// of each page are attached to the test results.
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect, type Page, type TestInfo, test } from "@playwright/test";
import { signUpWithTeam, unique, uniqueEmail } from "./fixtures/identity";

const run = promisify(execFile);
const UUID = "[0-9a-f-]{36}";

let scratch: string;

test.beforeAll(async () => {
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-e2e-deployments-"));
});

test.afterAll(async () => {
  await fs.rm(scratch, { recursive: true, force: true });
});

async function tarball(dir: string, name: string): Promise<string> {
  const file = path.join(scratch, `${name}.tar.gz`);
  await run("tar", ["-czf", file, "-C", dir, "--", "."]);
  return file;
}

/** examples/wsgi-stdlib pinned to `python` (.python-version), so its base image is one no other spec fetched. */
async function pinnedSource(python: string): Promise<string> {
  const dir = path.join(scratch, `wsgi-${python}-${unique("src")}`);
  await fs.cp(path.resolve("examples/wsgi-stdlib"), dir, { recursive: true });
  await fs.writeFile(path.join(dir, ".python-version"), `${python}\n`);
  return await tarball(dir, path.basename(dir));
}

/** One of the fake podman's switch files (e2e/global-setup.ts) while `body` runs. */
async function withFakePodman<T>(
  fakeSwitch: "fail-build" | "registry-unreachable",
  body: () => Promise<T>,
): Promise<T> {
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

async function shot(page: Page, info: TestInfo, name: string): Promise<void> {
  await info.attach(name, { body: await page.screenshot({ fullPage: true }), contentType: "image/png" });
}

async function createApp(page: Page, teamId: string, name: string): Promise<string> {
  await page.goto(`/teams/${teamId}/apps/new`);
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Create app" }).click();
  await expect(page).toHaveURL(new RegExp(`/teams/${teamId}/apps/${UUID}$`));
  return new URL(page.url()).pathname;
}

async function uploadAndDeploy(page: Page, file: string): Promise<void> {
  await page.getByLabel("Source tarball (.tar.gz)").setInputFiles(file);
  await page.getByRole("button", { name: "Upload and deploy" }).click();
  await expect(page).toHaveURL(new RegExp(`/deployments/${UUID}$`));
}

test("a new app's page leads with the deploy card and takes a dropped tarball", async ({ page }, info) => {
  test.setTimeout(150_000);
  const teamId = await signUpWithTeam(page, {
    name: "Hero Hanna",
    email: uniqueEmail("hero"),
    team: `Team ${unique("hero")}`,
  });
  await createApp(page, teamId, unique("first"));
  const cards = page.locator("main h2");
  await expect(page.getByRole("heading", { name: "Deploy your app" })).toBeVisible();
  // Nothing to run or scale yet: no Running card, and the deploy card is the first one.
  await expect(page.getByRole("heading", { name: "Running", exact: true })).toHaveCount(0);
  await expect(cards.first()).toHaveText("Deploy your app");
  await shot(page, info, "app-first-deploy");
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(page.getByTestId("upload-dropzone")).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await shot(page, info, "app-first-deploy-mobile");
  await page.setViewportSize({ width: 1280, height: 900 });

  // Drag and drop: the dropped file becomes the form's file.
  const file = await tarball(path.resolve("examples/wsgi-stdlib"), "dropped");
  const bytes = [...(await fs.readFile(file))];
  const transfer = await page.evaluateHandle((data) => {
    const dataTransfer = new DataTransfer();
    dataTransfer.items.add(new File([new Uint8Array(data)], "dropped.tar.gz", { type: "application/gzip" }));
    return dataTransfer;
  }, bytes);
  const zone = page.getByTestId("upload-dropzone");
  await zone.dispatchEvent("dragover", { dataTransfer: transfer });
  await zone.dispatchEvent("drop", { dataTransfer: transfer });
  await expect(zone).toContainText("Ready to deploy dropped.tar.gz");
  await page.getByRole("button", { name: "Upload and deploy" }).click();
  await expect(page).toHaveURL(new RegExp(`/deployments/${UUID}$`));
  await expect(page.getByTestId("log-error-line")).toHaveCount(0);
  await expect(page.getByTestId("phase-building")).toHaveAttribute("data-status", "succeeded", { timeout: 90_000 });
});

test("a base image the server cannot fetch is the operator's to fix, with the readiness page", async ({
  page,
}, info) => {
  test.setTimeout(150_000);
  const teamId = await signUpWithTeam(page, {
    name: "Otto Operator",
    email: uniqueEmail("registry"),
    team: `Team ${unique("registry")}`,
  });
  await createApp(page, teamId, unique("airgap"));
  await withFakePodman("registry-unreachable", async () => {
    await uploadAndDeploy(page, await pinnedSource("3.9"));
    await expect(page.getByTestId("deployment-status")).toHaveAttribute("data-status", "failed", {
      timeout: 90_000,
    });
  });
  await expect(page.getByText("The server could not finish this deployment")).toBeVisible();
  const error = page.getByTestId("deployment-error");
  await expect(error).toHaveAttribute("data-side", "operator");
  await expect(error).toContainText("The server could not fetch the base image");
  await expect(page.getByTestId("operator-note")).toContainText("the server's operator has to fix this");
  await expect(page.getByTestId("readiness-link")).toHaveAttribute("href", "/admin/host");
  // No raw podman DNS error in the banner.
  await expect(error).not.toContainText("no such host");
  await shot(page, info, "deployment-operator-failure");
});

test("a failing build step links to its line in the log, shown once; Retry and the Deployments list", async ({
  page,
}, info) => {
  test.setTimeout(200_000);
  const teamId = await signUpWithTeam(page, {
    name: "Tess Tenant",
    email: uniqueEmail("tenant"),
    team: `Team ${unique("tenant")}`,
  });
  const name = unique("broken");
  const appPath = await createApp(page, teamId, name);
  const source = await tarball(path.resolve("examples/wsgi-stdlib"), "wsgi-failing");
  await withFakePodman("fail-build", async () => {
    await uploadAndDeploy(page, source);
    await expect(page.getByTestId("deployment-status")).toHaveAttribute("data-status", "failed", {
      timeout: 90_000,
    });
  });
  const error = page.getByTestId("deployment-error");
  await expect(error).toHaveAttribute("data-side", "tenant");
  await expect(error).toHaveText("The image build failed. The end of the build log:");
  // The podman error is in the log once, marked, and the banner's link goes to it.
  const log = page.getByTestId("build-log");
  expect(((await log.textContent()) ?? "").split("injected failure").length).toBe(2);
  const marked = page.getByTestId("log-error-line");
  await expect(marked).toContainText("injected failure");
  await page.getByTestId("error-line-link").click();
  await expect(page).toHaveURL(/#log-error-line$/);
  await expect(marked).toBeInViewport();
  await shot(page, info, "deployment-tenant-failure");

  // Retry: the same upload again, now building fine, as deployment #2.
  await page.getByRole("button", { name: "Retry" }).click();
  await expect(page.getByRole("heading", { name: "Deployment #2" })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("phase-building")).toHaveAttribute("data-status", "succeeded", { timeout: 90_000 });

  // "All deployments" is the list, with the reason, duration, trigger and who started each.
  await page.getByRole("link", { name: `All deployments of ${name}` }).click();
  await expect(page).toHaveURL((url) => url.pathname === `${appPath}/deployments`);
  const table = page.getByRole("table", { name: "Deployments" });
  await expect(table.getByRole("link", { name: "#2" })).toBeVisible();
  await expect(page.getByTestId("deployment-reason-1")).toContainText("The image build failed.");
  await expect(page.getByTestId("deployment-duration-1")).toHaveText(/^\d+ (s|min \d+ s)$/);
  await expect(page.getByTestId("deployment-starter-1")).toHaveText("Tess Tenant");
  await expect(page.getByTestId("deployment-starter-2")).toHaveText("Tess Tenant");
  await expect(table.locator('[data-testid="deployment-trigger"][data-trigger="redeploy"]')).toHaveCount(1);
  await expect(page.getByTestId("deployment-actions-1").getByRole("button", { name: "Retry" })).toBeVisible();
  await shot(page, info, "deployments-list");
  // The table scrolls inside its card at 390 px (the page's own sideways scroll there is issue #18's point 8).
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, info, "deployments-list-mobile");
  await page.setViewportSize({ width: 1280, height: 900 });

  // The overview keeps the newest few, with the way to the list.
  await page.goto(appPath);
  await page.getByRole("link", { name: "All deployments", exact: true }).click();
  await expect(page).toHaveURL((url) => url.pathname === `${appPath}/deployments`);
});
