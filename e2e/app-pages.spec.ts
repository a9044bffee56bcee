// The app's settings, environment and overview pages as a user sees them (#18 points 5, 6 and 7), end to end
// against the fake podman (e2e/global-setup.ts) and the real tenant PostgreSQL: what the build detected next to each
// override and field errors in words; per-row edit, the plain/secret flag, the audited reveal, the variables the
// platform injects shown read-only, a .env paste previewed and saved with "Save and restart"; the overview's address
// link and copy button and the attached database. Each page is also checked at 390 px (no sideways scroll), and
// screenshots are attached to the test results.
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
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-e2e-app-pages-"));
});

test.afterAll(async () => {
  await fs.rm(scratch, { recursive: true, force: true });
});

/** A .tar.gz of examples/wsgi-stdlib (Procfile `web: python3 server.py`), as the upload hint tells users to make. */
async function exampleTarball(): Promise<string> {
  const file = path.join(scratch, `${unique("wsgi")}.tar.gz`);
  await run("tar", ["-czf", file, "-C", path.resolve("examples/wsgi-stdlib"), "--", "."]);
  return file;
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

/** From the app's overview: uploads the example and lands on the deployment's page. */
async function deployExample(page: Page, appPath: string): Promise<void> {
  await page.goto(appPath);
  await page.getByLabel("Source tarball (.tar.gz)").setInputFiles(await exampleTarball());
  await page.getByRole("button", { name: "Upload and deploy" }).click();
  await expect(page).toHaveURL(new RegExp(`/deployments/${UUID}$`));
}

/** A database on the tenant server, ready and attached to the app named `appName`; returns its name. */
async function attachedDatabase(page: Page, teamId: string, appName: string): Promise<string> {
  const name = unique("db");
  await page.goto(`/teams/${teamId}/databases/new`);
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Create database" }).click();
  await expect(page).toHaveURL(new RegExp(`/teams/${teamId}/databases/${UUID}$`));
  await expect(page.getByTestId("service-status")).toHaveAttribute("data-status", "ready", { timeout: 60_000 });
  await page.getByLabel("Attached app").selectOption({ label: appName });
  await page.getByRole("button", { name: "Save attachment" }).click();
  await expect(page.getByTestId("attached-app")).toHaveText(appName);
  return name;
}

/** The fake podman's containers answer HTTP while `body` runs, so releases pass their health check. */
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

/** The page at 390 px: nothing wider than the screen. Leaves the viewport at 390 px. */
async function checkPhone(page: Page, info: TestInfo, label: string, pagePath: string): Promise<void> {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(pagePath);
  await page.waitForLoadState("networkidle");
  const widths = await page.evaluate(() => ({
    scroll: document.scrollingElement?.scrollWidth ?? 0,
    inner: window.innerWidth,
  }));
  expect(widths.scroll, `${label} at 390 px scrolls sideways`).toBeLessThanOrEqual(widths.inner);
  await shot(page, info, `${label}-390.png`);
}

test("settings show what the build detected and field errors once, in words (#18 point 5)", async ({ page }, info) => {
  test.setTimeout(150_000);
  const teamId = await signUpWithTeam(page, {
    name: "Sam Settings",
    email: uniqueEmail("settings"),
    team: `Team ${unique("settings")}`,
  });
  const appPath = await createApp(page, teamId, unique("detect"));

  // Before any build there is nothing to show.
  await page.goto(`${appPath}/settings`);
  await expect(page.getByTestId("detected-webCommand")).toContainText("Nothing detected yet");

  await deployExample(page, appPath);
  await expect(page.getByTestId("phase-planning")).toHaveAttribute("data-status", "succeeded", { timeout: 90_000 });

  await page.goto(`${appPath}/settings`);
  await expect(page.getByTestId("detected-webCommand")).toHaveText(/Detected: python3 server\.py \(build #1\)/);
  await expect(page.getByTestId("detected-pythonVersion")).toHaveText(/Detected: 3\.[\d.]+ \(build #1\)/);
  await expect(page.getByLabel("Subdirectory")).toHaveAccessibleDescription(
    /every uploaded tarball.*The latest build \(#1\) came from an upload and started at its root\./,
  );
  await shot(page, info, "settings-detected.png");

  // An out-of-range memory value: one error, in words, under the Memory field; nothing saved.
  const memory = page.getByLabel("Memory (MiB)");
  await memory.fill("64");
  await page.getByRole("button", { name: "Save resources" }).click();
  await expect(memory).toHaveAttribute("aria-invalid", "true");
  await expect(memory).toHaveAccessibleDescription(/Use a number of at least 128\./);
  await expect(page.getByText("Use a number of at least 128.")).toHaveCount(1);
  await expect(page.getByText(/Too small|expected number/)).toHaveCount(0);
  await shot(page, info, "settings-memory-error.png");

  // An override: the line says so and names what the latest build used.
  await page.getByLabel("Web command").fill("gunicorn wsgi:application");
  await page.getByRole("button", { name: "Save build settings" }).click();
  await expect(page.getByText("Saved. The changes apply from the next deployment.")).toBeVisible();
  await expect(page.getByTestId("detected-webCommand")).toContainText(
    "Overridden. The latest build (build #1) used python3 server.py",
  );

  await checkPhone(page, info, "settings", `${appPath}/settings`);
});

test("env vars: per-row edit, secret flag, audited reveal, injected rows, .env paste, save and restart (#18 point 6)", async ({
  page,
}, info) => {
  test.setTimeout(300_000);
  const teamId = await signUpWithTeam(page, {
    name: "Eve Env",
    email: uniqueEmail("env"),
    team: `Team ${unique("env")}`,
  });
  const appName = unique("envapp");
  const appPath = await createApp(page, teamId, appName);
  const database = await attachedDatabase(page, teamId, appName);

  await withServingContainers(async () => {
    // "Save and restart" restarts a running app: get it running first.
    await deployExample(page, appPath);
    await expect(page.getByTestId("deployment-status")).toHaveAttribute("data-status", "running", {
      timeout: 150_000,
    });

    await page.goto(`${appPath}/env`);
    // What the platform sets: listed with where it comes from, with no control to change it.
    const injected = page.getByRole("list", { name: "Variables set by the platform" });
    // A row by its exact key (PORT is in PGPORT's text too).
    const keyed = (testId: string, key: string) =>
      page.getByTestId(testId).filter({ has: page.locator("code", { hasText: new RegExp(`^${key}$`) }) });
    await expect(keyed("env-injected", "PORT")).toContainText("from the platform");
    await expect(keyed("env-injected", "DATABASE_URL")).toContainText(`from attached database ${database}`);
    await expect(keyed("env-injected", "DATABASE_URL").getByRole("link", { name: database })).toHaveAttribute(
      "href",
      new RegExp(`/teams/${teamId}/databases/${UUID}$`),
    );
    await expect(injected.getByRole("textbox")).toHaveCount(0);
    await expect(injected.getByRole("button")).toHaveCount(0);

    // A secret variable: masked in the list, its value nowhere on the page until Reveal.
    const setForm = page.locator("form").filter({ has: page.getByLabel("Key", { exact: true }) });
    const secret = `s3cret-${unique("v")}`;
    await setForm.getByLabel("Key").fill("SECRET_TOKEN");
    await setForm.getByLabel("Value", { exact: true }).fill(secret);
    await setForm.getByRole("button", { name: "Save", exact: true }).click();
    await expect(page.getByText("SECRET_TOKEN saved.")).toBeVisible();
    const secretRow = keyed("env-row", "SECRET_TOKEN");
    await expect(secretRow).toContainText("••••••••");
    await expect(secretRow).toContainText("secret");
    await expect(page.getByText(secret)).toHaveCount(0);
    await secretRow.getByRole("button", { name: "Reveal SECRET_TOKEN" }).click();
    await expect(page.getByTestId("env-revealed-SECRET_TOKEN")).toHaveText(secret);

    // A plain variable, shown as it is, then changed with its row's own edit form.
    await setForm.getByLabel("Key").fill("FEATURE_MODE");
    await setForm.getByLabel("Value", { exact: true }).fill("alpha");
    await setForm.getByLabel("Plain (not secret)").check();
    await setForm.getByRole("button", { name: "Save", exact: true }).click();
    await expect(page.getByText("FEATURE_MODE saved.")).toBeVisible();
    const plainRow = keyed("env-row", "FEATURE_MODE");
    await expect(plainRow).toContainText("alpha");
    await expect(plainRow).toContainText("plain");
    await plainRow.locator("summary").click();
    await plainRow.getByLabel("New value of FEATURE_MODE").fill("beta");
    await plainRow.getByRole("button", { name: "Save", exact: true }).click();
    await expect(plainRow.locator("code").nth(1)).toHaveText("beta");

    // A .env paste read the way .env files are: comments skipped, export dropped, quotes removed, \n expanded,
    // an unquoted value's trailing comment dropped. The preview lists keys and lengths; nothing is saved yet.
    const bulk = page.locator("form").filter({ has: page.getByLabel("Variables", { exact: true }) });
    await bulk
      .getByLabel("Variables", { exact: true })
      .fill(
        [
          "# settings pasted from a .env file",
          'export API_URL="https://api.example.com/v1"',
          "GREETING='hello # not a comment'",
          'MULTI="line one\\nline two"',
          "BARE=bare value # a trailing comment",
          "EMPTY=",
          "FEATURE_MODE=gamma",
        ].join("\n"),
      );
    await bulk.getByRole("button", { name: "Preview" }).click();
    const preview = bulk.getByRole("table", { name: "Preview" });
    const expected = [
      ["API_URL", "new", "26 characters"],
      ["GREETING", "new", "21 characters"],
      ["MULTI", "new", "17 characters"],
      ["BARE", "new", "10 characters"],
      ["EMPTY", "new", "0 characters"],
      ["FEATURE_MODE", "replaces the current value", "5 characters"],
    ];
    await expect(preview.getByTestId("env-preview-row")).toHaveCount(expected.length);
    for (const [index, cells] of expected.entries()) {
      await expect(preview.getByTestId("env-preview-row").nth(index).locator("td")).toHaveText(cells);
    }
    await expect(keyed("env-row", "API_URL")).toHaveCount(0);
    await shot(page, info, "env-preview.png");

    // Saved as plain with "Save and restart": the values as the paste meant them, and the app restarts.
    await bulk.getByLabel("Plain (not secret)").check();
    await bulk.getByRole("button", { name: "Save and restart" }).click();
    await expect(page.getByText(/Saved 6 variables: .*The app restarts with them/)).toBeVisible();
    const value = (key: string) => keyed("env-row", key).locator("code").nth(1);
    await expect(value("API_URL")).toHaveText("https://api.example.com/v1");
    await expect(value("GREETING")).toHaveText("hello # not a comment");
    await expect(value("BARE")).toHaveText("bare value");
    await expect(value("EMPTY")).toHaveText('""');
    await expect(value("FEATURE_MODE")).toHaveText("gamma");
    expect(await value("MULTI").textContent()).toBe("line one\nline two");
    // Injected keys are not among the team's own variables.
    await expect(keyed("env-row", "PORT")).toHaveCount(0);
    await expect(keyed("env-row", "DATABASE_URL")).toHaveCount(0);
    await shot(page, info, "env.png");

    // The restart was queued for the env change, and the reveal recorded (key only, never the value).
    await page.goto(`/teams/${teamId}/audit`);
    const events = page.getByRole("table");
    await expect(events.getByRole("row").filter({ hasText: "app.restart_requested" })).toContainText(
      "reason: env_changed",
    );
    await expect(events.getByRole("row").filter({ hasText: "app.env_revealed" })).toContainText("key: SECRET_TOKEN");
    await expect(page.getByText(secret)).toHaveCount(0);
    await shot(page, info, "audit.png");

    // The overview follows the restart to its end: running, nothing pending, a healthy replica.
    await page.goto(appPath);
    await expect(page.getByTestId("pending-operations")).toHaveCount(0, { timeout: 90_000 });
    await expect(page.getByTestId("app-status")).toHaveAttribute("data-status", "running");
    await expect(page.getByTestId("replica").first()).toHaveAttribute("data-status", "healthy");

    await checkPhone(page, info, "env", `${appPath}/env`);
  });
});

test("the overview links and copies the address and shows the attached database (#18 point 7)", async ({
  page,
  baseURL,
}, info) => {
  test.setTimeout(120_000);
  const teamId = await signUpWithTeam(page, {
    name: "Olive Overview",
    email: uniqueEmail("overview"),
    team: `Team ${unique("overview")}`,
  });
  const appName = unique("over");
  const appPath = await createApp(page, teamId, appName);
  const database = await attachedDatabase(page, teamId, appName);

  await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL });
  await page.goto(appPath);
  // Not deployed yet: still a link, marked as not running.
  const address = page.getByRole("link", { name: new RegExp(`^http://${appName}-[a-z0-9-]+\\.localhost`) });
  await expect(address).toContainText("(not running)");
  const href = await address.getAttribute("href");
  expect(href).toMatch(new RegExp(`^http://${appName}-[a-z0-9-]+\\.localhost`));
  await page.getByRole("button", { name: "Copy the app's address" }).click();
  await expect(page.getByRole("button", { name: "Copy the app's address" })).toHaveText("Copied");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(href);

  const services = page.getByRole("region", { name: "Databases and Redis" });
  await expect(services).toContainText(`Database ${database}`);
  await expect(services.getByRole("link", { name: database })).toHaveAttribute(
    "href",
    new RegExp(`/teams/${teamId}/databases/${UUID}$`),
  );
  await expect(services.getByRole("link", { name: "Their variables" })).toHaveAttribute("href", `${appPath}/env`);
  for (const card of ["Processes", "Domains", "Metrics", "Cron"]) {
    await expect(page.getByRole("region", { name: card })).toBeVisible();
  }
  await shot(page, info, "overview.png");

  await checkPhone(page, info, "overview", appPath);
  await expect(page.getByRole("button", { name: "Copy the app's address" })).toBeVisible();
});
