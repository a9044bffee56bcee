// The API reference (#18b): the portal serves the OpenAPI document rendered by Redoc at /docs/api, under the
// platform's CSP (no violation), linked from the user menu and the tokens page, and a new token comes with a curl
// command that works as shown.
import { expect, test } from "@playwright/test";
import { signUpWithTeam, unique, uniqueEmail } from "@/e2e/fixtures/identity";

test("a new token shows a working curl example, and the API reference renders operations with their examples", async ({
  page,
}) => {
  test.setTimeout(240_000);
  const violations: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  const teamId = await signUpWithTeam(page, {
    name: "Api Reader",
    email: uniqueEmail("api-docs"),
    team: unique("Docs"),
  });

  // The user menu links the reference.
  await page.getByTestId("user-menu").click();
  await expect(page.getByTestId("api-docs-link")).toHaveAttribute("href", "/docs/api");

  // A token, shown once with a ready-to-paste curl command against this instance.
  await page.goto(`/teams/${teamId}/tokens`);
  await page.getByLabel("Name").fill("curl check");
  await page.getByRole("button", { name: "Create token" }).click();
  const token = await page.getByLabel("API token “curl check”").inputValue();
  expect(token).toMatch(/^tsl_/);
  const curl = (await page.getByTestId("token-curl").textContent()) ?? "";
  const [, header, url] = /^curl -H "(Authorization: Bearer [^"]+)" (\S+)$/.exec(curl.trim()) ?? [];
  expect(header).toBe(`Authorization: Bearer ${token}`);
  expect(url).toMatch(/\/api\/v1\/apps$/);
  // What the command does, done here: the instance's own URL (the public URL) with the new token lists the apps.
  const listed = await page.request.get(new URL("/api/v1/apps", page.url()).toString(), {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(listed.status()).toBe(200);
  expect(await listed.json()).toEqual({ items: [], nextCursor: null });

  // The tokens page links the reference too; it renders the document's operations and examples.
  await page.getByRole("link", { name: "API reference" }).click();
  await expect(page).toHaveURL((target) => target.pathname === "/docs/api");
  const reference = page.getByTestId("api-reference");
  await expect(reference.getByRole("heading", { name: "The team's apps, newest first" })).toBeVisible({
    // Redoc lays out the whole document (every operation with its schemas and examples) before showing any of it.
    timeout: 120_000,
  });
  await expect(reference.getByRole("heading", { name: /Create an app \(a git source is optional/ })).toBeVisible();
  // An example from the endpoint declarations (lib/api/endpoints/examples.ts), not one Redoc made up.
  await expect(reference.getByText("https://shop.apps.example.org").first()).toBeVisible();
  // The curl sample of an operation, with its example body.
  await expect(reference.getByText(/Authorization: Bearer \$TUSSILAGO_TOKEN/).first()).toBeAttached();
  expect(violations).toEqual([]);
});
