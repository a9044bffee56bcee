import { expect, test } from "@playwright/test";

test("the home page shows the platform and its live status", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveTitle(/Tussilago/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Your own platform for Python apps");
  const status = page.getByRole("region", { name: "System status" });
  for (const part of ["web", "database", "worker"]) {
    await expect(status.getByTestId(`status-${part}`).locator("[data-status]")).toHaveAttribute("data-status", "ok");
  }
  await expect(status.getByTestId("status-worker")).toContainText("last heartbeat");
});

test("GET /api/health reports web, database and worker healthy", async ({ request }) => {
  const response = await request.get("/api/health");
  expect(response.status()).toBe(200);
  expect(response.headers()["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  const body = await response.json();
  expect(body.status).toBe("ok");
  expect(body.checks.web.status).toBe("ok");
  expect(body.checks.database.status).toBe("ok");
  expect(body.checks.worker.status).toBe("ok");
  expect(body.checks.worker.heartbeatAgeSeconds).toBeLessThan(30);
});

test("the OpenAPI document describes the API", async ({ request }) => {
  const response = await request.get("/api/v1/openapi.json");
  expect(response.status()).toBe(200);
  const document = await response.json();
  expect(document.openapi).toBe("3.1.0");
  expect(Object.keys(document.paths)).toContain("/api/health");
});

test("unknown API routes answer 404 without internals", async ({ request }) => {
  const response = await request.get("/api/v1/does-not-exist");
  expect(response.status()).toBe(404);
  expect(await response.text()).not.toMatch(/at .*\.ts|node_modules/);
});

test("pages answer with a nonce-based CSP, their scripts carry the nonce, and they still work", async ({ page }) => {
  const violations: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  const response = await page.goto("/sign-in");
  const csp = response?.headers()["content-security-policy"] ?? "";
  const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
  expect(nonce).toBeTruthy();
  expect(csp).toContain("'strict-dynamic'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("form-action 'self'");
  expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
  expect(response?.headers()["x-content-type-options"]).toBe("nosniff");
  // A new nonce on every response.
  const again = await page.request.get("/sign-in");
  expect(again.headers()["content-security-policy"]).not.toContain(`'nonce-${nonce}'`);
  // The page still works under the policy: a wrong password is answered on the page, and nothing was refused.
  await page.getByLabel("Email", { exact: true }).fill("nobody-csp@example.test");
  await page.getByLabel("Password", { exact: true }).fill("not the password");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByText("The email or password is incorrect.")).toBeVisible();
  await expect(page).toHaveURL((url) => url.pathname === "/sign-in");
  expect(violations).toEqual([]);
});
