// One-off runs and cron jobs in the portal, end to end: on an app with a release, a member runs `echo hello` and the
// run's page shows its output and exit code 0 (the fake podman's run containers print and exit while
// <E2E_FAKE_PODMAN_DIR>/run-output exists, e2e/global-setup.ts); the runs list shows it; a run that keeps going is
// cancelled from its page; on the Cron tab a bad schedule answers under that row's field, and a valid job shows its
// next run once saved; a viewer sees the runs and jobs without controls.
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect, type Page, test } from "@playwright/test";
import { invite, signUpWithTeam, submitSignUp, unique, uniqueEmail } from "./fixtures/identity";

const run = promisify(execFile);
const UUID = "[0-9a-f-]{36}";

let scratch: string;

test.beforeAll(async () => {
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-e2e-runs-"));
});

test.afterAll(async () => {
  await fs.rm(scratch, { recursive: true, force: true });
});

function fakePodmanDir(): string {
  const dir = process.env.E2E_FAKE_PODMAN_DIR;
  if (!dir) throw new Error("e2e/global-setup.ts did not set E2E_FAKE_PODMAN_DIR");
  return dir;
}

/** Runs `body` with a fake podman switch file present (see e2e/global-setup.ts and e2e/apps.spec.ts). */
async function withSwitch<T>(file: string, content: string, body: () => Promise<T>): Promise<T> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, content);
  try {
    return await body();
  } finally {
    await fs.rm(file, { force: true });
  }
}

/** Creates an app and deploys examples/wsgi-stdlib until its release is running; returns the app's path. */
async function deployedApp(page: Page, teamId: string): Promise<string> {
  await page.goto(`/teams/${teamId}`);
  await page.getByTestId("deploy-button").click();
  const name = unique("runs");
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Create app" }).click();
  await expect(page).toHaveURL(new RegExp(`/teams/${teamId}/apps/${UUID}$`));
  const appPath = new URL(page.url()).pathname;
  const file = path.join(scratch, `${name}.tar.gz`);
  await run("tar", ["-czf", file, "-C", path.resolve("examples/wsgi-stdlib"), "--", "."]);
  // Containers answer HTTP on their ports, so the release passes its health check.
  await withSwitch(path.join(fakePodmanDir(), "state", "serve-http"), "", async () => {
    await page.getByLabel("Source tarball (.tar.gz)").setInputFiles(file);
    await page.getByRole("button", { name: "Upload and deploy" }).click();
    await expect(page).toHaveURL(new RegExp(`/deployments/${UUID}$`));
    await expect(page.getByTestId("deployment-status")).toHaveAttribute("data-status", "running", {
      timeout: 150_000,
    });
  });
  return appPath;
}

test("a member runs a command and sees its output, cancels a run, then adds a cron job", async ({
  page,
  browser,
  baseURL,
}) => {
  test.setTimeout(300_000);
  const teamId = await signUpWithTeam(page, {
    name: "Ola Oneoff",
    email: uniqueEmail("runner"),
    team: `Team ${unique("runs")}`,
  });
  const appPath = await deployedApp(page, teamId);

  // Runs tab: run `echo hello`, land on the run's page, and follow it to its end.
  await withSwitch(path.join(fakePodmanDir(), "run-output"), "hello", async () => {
    await page.goto(appPath);
    await page.getByRole("link", { name: "Runs", exact: true }).click();
    await expect(page).toHaveURL((url) => url.pathname === `${appPath}/runs`);
    await expect(page.getByText("No runs yet")).toBeVisible();
    await page.getByLabel("Command").fill("echo hello");
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`${appPath}/runs/${UUID}$`));
    await expect(page.getByTestId("run-command")).toHaveText("echo hello");
    await expect(page.getByTestId("run-output")).toHaveAttribute("data-complete", "true", { timeout: 60_000 });
    await expect(page.getByTestId("run-output")).toContainText("hello");
    await expect(page.getByTestId("run-status")).toHaveAttribute("data-status", "succeeded");
    await expect(page.getByTestId("run-exit-code")).toHaveText("0");
    await expect(page.getByRole("button", { name: "Cancel run" })).toHaveCount(0);
  });
  await page.getByRole("link", { name: "← All runs" }).click();
  const row = page.getByTestId("run-row");
  await expect(row).toHaveCount(1);
  await expect(row).toContainText("echo hello");
  await expect(row.getByTestId("run-status")).toHaveAttribute("data-status", "succeeded");
  await expect(row.getByTestId("run-exit-code")).toHaveText("0");
  await expect(row).toContainText("Ola Oneoff");

  // A run that keeps going (no run-output switch: the fake's container stays up) is cancelled from its page.
  await page.getByLabel("Command").fill("sleep 600");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`${appPath}/runs/${UUID}$`));
  await expect(page.getByTestId("run-status")).toHaveAttribute("data-status", /^(queued|running)$/);
  await page.getByRole("button", { name: "Cancel run" }).click();
  await expect(page.getByText("Stop this run?")).toBeVisible();
  await page.getByRole("button", { name: "Cancel run" }).click();
  await expect(page.getByTestId("run-status")).toHaveAttribute("data-status", "cancelled", { timeout: 60_000 });
  await expect(page.getByTestId("run-output")).toHaveAttribute("data-complete", "true");
  await expect(page.getByRole("button", { name: "Cancel run" })).toHaveCount(0);
  await page.getByRole("link", { name: "← All runs" }).click();
  await expect(page.getByTestId("run-row")).toHaveCount(2);
  await expect(page.getByTestId("run-row").first()).toContainText("sleep 600");

  // Cron tab: a bad schedule answers under that field; a valid one is saved and shows its next run.
  await page.getByRole("link", { name: "Cron", exact: true }).click();
  await expect(page).toHaveURL((url) => url.pathname === `${appPath}/cron`);
  await page.getByRole("button", { name: "Add a job" }).click();
  const job = page.getByTestId("cron-job-row");
  await job.getByLabel("Name").fill("nightly");
  await job.getByLabel("Schedule").fill("every night");
  await job.getByLabel("Command").fill("python manage.py clearsessions");
  await page.getByRole("button", { name: "Save cron jobs" }).click();
  const schedule = job.getByLabel("Schedule");
  await expect(schedule).toHaveAttribute("aria-invalid", "true");
  await expect(job.getByText(/"every night" is not a cron schedule/)).toBeVisible();
  await expect(job.getByTestId("cron-next-run")).toHaveText("Not saved yet");

  await schedule.fill("0 3 * * *");
  await job.getByLabel("Time zone").fill("europe/stockholm");
  await page.getByRole("button", { name: "Save cron jobs" }).click();
  await expect(page.getByText("Saved 1 cron job(s).")).toBeVisible();
  await expect(job.getByLabel("Time zone")).toHaveValue("Europe/Stockholm");
  await expect(job.getByTestId("cron-next-run")).toContainText(/Next run: \d{1,2} \w{3} \d{4}, \d{2}:\d{2} UTC/);
  await expect(page.getByTestId("cron-job-runs")).toContainText("No runs yet.");
  await page.screenshot({ path: test.info().outputPath("cron-tab.png"), fullPage: true });

  // The job is stored: a reload shows it.
  await page.reload();
  await expect(page.getByTestId("cron-job-row").getByLabel("Schedule")).toHaveValue("0 3 * * *");

  // A viewer sees the runs and the cron jobs, without the controls.
  const invitePath = await invite(page, teamId, uniqueEmail("viewer"), "viewer");
  const context = await browser.newContext({ baseURL });
  const viewer = await context.newPage();
  await viewer.goto(invitePath);
  await viewer.getByRole("link", { name: "Sign up" }).click();
  await submitSignUp(viewer, { name: "Vera Viewer" });
  await viewer.getByRole("button", { name: "Accept" }).click();
  await expect(viewer).toHaveURL((url) => url.pathname === `/teams/${teamId}`);
  await viewer.goto(`${appPath}/runs`);
  await expect(viewer.getByTestId("run-row")).toHaveCount(2);
  await expect(viewer.getByText("Your role can see the app's runs, but not start or cancel them.")).toBeVisible();
  await expect(viewer.getByRole("button", { name: "Run", exact: true })).toHaveCount(0);
  await viewer.getByRole("link", { name: "echo hello" }).click();
  await expect(viewer.getByTestId("run-output")).toContainText("hello");
  await viewer.goto(`${appPath}/cron`);
  const viewed = viewer.getByTestId("cron-job-row");
  await expect(viewed).toContainText("0 3 * * *");
  await expect(viewed).toContainText("Europe/Stockholm");
  await expect(viewed.getByTestId("cron-next-run")).toContainText("UTC");
  await expect(viewer.getByRole("button", { name: "Save cron jobs" })).toHaveCount(0);
  await expect(viewer.getByRole("button", { name: "Add a job" })).toHaveCount(0);
  await context.close();
});
