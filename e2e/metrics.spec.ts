// The Metrics tab end to end (issue #17): a deployed app's containers are sampled by the real worker (its
// metrics__sample cron each minute, with the passes 15 s apart; the fake podman reports default figures for every
// running container, test/fake-podman), so the tab fills in by its own polling: the charts appear, the range picker
// switches range, the deployment is marked on the time axis, and an app that never ran shows the empty state.
// Markers are drawn on the charts' canvas, so the spec looks for the marker's colour in the CPU chart's pixels.
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect, type Page, test } from "@playwright/test";
import { signUpWithTeam, unique, uniqueEmail } from "./fixtures/identity";

const run = promisify(execFile);
const UUID = "[0-9a-f-]{36}";
// A successful deployment's marker colour (components/apps/metrics-uplot.tsx); no CPU series uses it.
const MARKER_RGB = [0x7c, 0x3a, 0xed] as const;

let scratch: string;

test.beforeAll(async () => {
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-e2e-metrics-"));
});

test.afterAll(async () => {
  await fs.rm(scratch, { recursive: true, force: true });
});

function fakePodmanDir(): string {
  const dir = process.env.E2E_FAKE_PODMAN_DIR;
  if (!dir) throw new Error("e2e/global-setup.ts did not set E2E_FAKE_PODMAN_DIR");
  return dir;
}

async function createApp(page: Page, teamId: string): Promise<string> {
  await page.goto(`/teams/${teamId}`);
  await page.getByTestId("deploy-button").click();
  await page.getByLabel("Name", { exact: true }).fill(unique("metrics"));
  await page.getByRole("button", { name: "Create app" }).click();
  await expect(page).toHaveURL(new RegExp(`/teams/${teamId}/apps/${UUID}$`));
  return new URL(page.url()).pathname;
}

/** Deploys examples/wsgi-stdlib to the app on the current page until its release is running. */
async function deploy(page: Page, appPath: string): Promise<void> {
  const file = path.join(scratch, `${unique("src")}.tar.gz`);
  await run("tar", ["-czf", file, "-C", path.resolve("examples/wsgi-stdlib"), "--", "."]);
  // Containers answer HTTP on their ports while this file exists, so the release passes its health check.
  const serve = path.join(fakePodmanDir(), "state", "serve-http");
  await fs.mkdir(path.dirname(serve), { recursive: true });
  await fs.writeFile(serve, "");
  try {
    await page.goto(appPath);
    await page.getByLabel("Source tarball (.tar.gz)").setInputFiles(file);
    await page.getByRole("button", { name: "Upload and deploy" }).click();
    await expect(page).toHaveURL(new RegExp(`/deployments/${UUID}$`));
    await expect(page.getByTestId("deployment-status")).toHaveAttribute("data-status", "running", {
      timeout: 150_000,
    });
  } finally {
    await fs.rm(serve, { force: true });
  }
}

/** How many pixels of the chart's canvas are the marker's colour (antialiasing aside: a small tolerance). */
async function markerPixels(page: Page, chartLabel: string): Promise<number> {
  const canvas = page.getByRole("img", { name: chartLabel }).locator("canvas").first();
  return await canvas.evaluate((element, rgb) => {
    const c = element as HTMLCanvasElement;
    const ctx = c.getContext("2d");
    if (!ctx) return 0;
    const { data } = ctx.getImageData(0, 0, c.width, c.height);
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      const alpha = data[i + 3] ?? 0;
      // A one-pixel line on a whole-pixel x covers two columns by half: their alpha is about half.
      if (alpha < 64) continue;
      if (
        Math.abs((data[i] ?? 0) - rgb[0]) <= 12 &&
        Math.abs((data[i + 1] ?? 0) - rgb[1]) <= 12 &&
        Math.abs((data[i + 2] ?? 0) - rgb[2]) <= 12
      ) {
        count += 1;
      }
    }
    return count;
  }, MARKER_RGB);
}

test("a deployed app's Metrics tab draws its charts with the deploy marker, switches range; an app without data shows the empty state", async ({
  page,
}, testInfo) => {
  test.setTimeout(420_000);
  const teamId = await signUpWithTeam(page, {
    name: "Mia Metrics",
    email: uniqueEmail("metrics"),
    team: `Team ${unique("metrics")}`,
  });

  // An app that never ran: nothing to chart.
  const idle = await createApp(page, teamId);
  await page.goto(idle);
  await page.getByRole("link", { name: "Metrics", exact: true }).click();
  await expect(page).toHaveURL((url) => url.pathname === `${idle}/metrics`);
  await expect(page.getByText("No metrics yet")).toBeVisible();
  await expect(page.getByRole("img", { name: "CPU chart" })).toHaveCount(0);

  // A deployed one: the worker's sampler passes (at most a minute apart) fill the tab in through its polling.
  const appPath = await createApp(page, teamId);
  await deploy(page, appPath);
  await page.goto(`${appPath}/metrics`);
  await expect(page.getByRole("button", { name: "1h" })).toHaveAttribute("aria-pressed", "true");
  for (const chart of ["CPU chart", "Memory chart", "Requests chart", "Latency chart", "Network chart"]) {
    await expect(page.getByRole("img", { name: chart })).toBeVisible({ timeout: 180_000 });
  }
  await expect(page.getByText("No metrics yet")).toHaveCount(0);
  // The deployment of a minute ago is inside the hour: its marker is drawn on the CPU chart.
  await expect.poll(() => markerPixels(page, "CPU chart")).toBeGreaterThan(0);
  await testInfo.attach("metrics-1h", { body: await page.screenshot({ fullPage: true }), contentType: "image/png" });

  // The range picker: 24h is fetched and drawn, the deployment still marked.
  await page.getByRole("button", { name: "24h" }).click();
  await expect(page.getByRole("button", { name: "24h" })).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByRole("button", { name: "1h" })).toHaveAttribute("aria-pressed", "false");
  await expect(page.getByText("Loading…")).toHaveCount(0, { timeout: 30_000 });
  await expect(page.getByRole("img", { name: "CPU chart" })).toBeVisible();
  await expect.poll(() => markerPixels(page, "CPU chart")).toBeGreaterThan(0);
  await testInfo.attach("metrics-24h", { body: await page.screenshot({ fullPage: true }), contentType: "image/png" });
});
