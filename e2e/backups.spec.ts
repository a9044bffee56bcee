// Backups in the portal, end to end against the real embedded tenant PostgreSQL and the platform's worker: create a
// database, back it up now and watch the backup become verified (dumped, stored encrypted, restored once into a
// scratch database and counted), restore it into a new database that then appears in the list, and download it as
// the admin through the page's link (a pg_dump custom-format archive starts with PGDMP).
import { expect, test } from "@playwright/test";
import { signUpWithTeam, unique, uniqueEmail } from "./fixtures/identity";

const UUID = "[0-9a-f-]{36}";

test("an owner backs up a database, sees it verified, restores it into a new one and downloads it", async ({
  page,
}) => {
  test.setTimeout(240_000);
  const teamId = await signUpWithTeam(page, {
    name: "Bea Backup",
    email: uniqueEmail("backupowner"),
    team: `Team ${unique("bk")}`,
  });
  await page.goto(`/teams/${teamId}/databases/new`);
  const name = unique("orders");
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Create database" }).click();
  await expect(page).toHaveURL(new RegExp(`/teams/${teamId}/databases/${UUID}$`));
  await expect(page.getByTestId("service-status")).toHaveAttribute("data-status", "ready", { timeout: 60_000 });
  await expect(page.getByText("No backups yet")).toBeVisible();

  await page.getByRole("button", { name: "Back up now" }).click();
  const backups = page.getByRole("list", { name: "Backups" });
  // The section polls while the backup is running and verifying.
  await expect(backups.getByText("verified", { exact: true })).toBeVisible({ timeout: 120_000 });
  await expect(backups.getByText(/^Restored and checked: \d+ tables, \d+ rows match\.$/)).toBeVisible();

  const download = backups.getByRole("link", { name: "Download" });
  const href = await download.getAttribute("href");
  expect(href).toMatch(new RegExp(`^/teams/${teamId}/backups/${UUID}/download$`));
  const response = await page.request.get(href ?? "");
  expect(response.status()).toBe(200);
  expect(response.headers()["content-disposition"]).toMatch(
    new RegExp(`^attachment; filename="${name}-\\d{12}\\.dump"$`),
  );
  expect((await response.body()).subarray(0, 5).toString("latin1")).toBe("PGDMP");

  await backups.getByText("Restore", { exact: true }).click();
  const restored = unique("restored");
  await page.getByLabel("Restore into a new database named").fill(restored);
  await page.getByRole("button", { name: "Restore into a new database" }).click();
  await expect(page.getByText(/^Restoring into a new database/)).toBeVisible();

  await page.goto(`/teams/${teamId}/databases`);
  await expect(page.getByRole("link", { name: restored })).toBeVisible({ timeout: 60_000 });
});
