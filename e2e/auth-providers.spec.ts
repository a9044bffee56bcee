// Sign-in by email link, password reset by email, emailed invitations and OIDC single sign-on, on the second
// platform instance of e2e/global-setup.ts: SMTP_URL points at a fake SMTP server whose inbox the specs read over
// HTTP, OIDC_* at a fake issuer that consents at once for the user a spec picks.
import { type BrowserContext, expect, type Page, test } from "@playwright/test";
import { type OidcUser, setRemoteOidcUser } from "../test/fake-oidc";
import { type CaughtMessage, fetchInbox, firstUrl } from "../test/fake-smtp";
import { PASSWORD, submitSignUp, unique, uniqueEmail } from "./fixtures/identity";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`e2e/global-setup.ts did not set ${name}`);
  return value;
}

const BASE_URL = required("E2E_AUTH_BASE_URL");
const INBOX_URL = required("E2E_SMTP_INBOX_URL");
const ISSUER = required("E2E_OIDC_ISSUER");
const OIDC_BUTTON = `Sign in with ${required("E2E_OIDC_NAME")}`;

test.use({ baseURL: BASE_URL });

async function mailsTo(address: string, subject: string): Promise<CaughtMessage[]> {
  return (await fetchInbox(INBOX_URL)).filter(
    (message) => message.rcptTo.includes(address) && message.subject === subject,
  );
}

/** Waits until the worker has delivered `count` messages with this subject to the address; returns the last one. */
async function mailTo(address: string, subject: string, count = 1): Promise<CaughtMessage> {
  await expect.poll(async () => (await mailsTo(address, subject)).length, { timeout: 30_000 }).toBe(count);
  const messages = await mailsTo(address, subject);
  const last = messages.at(-1);
  if (!last) throw new Error(`no mail "${subject}" to ${address}`);
  return last;
}

function linkIn(message: CaughtMessage): URL {
  const link = firstUrl(message.text);
  if (!link) throw new Error(`no link in the mail "${message.subject}":\n${message.text}`);
  return new URL(link);
}

async function signUp(page: Page, name: string, email: string): Promise<void> {
  await page.goto("/sign-up");
  await submitSignUp(page, { name, email });
  await expect(page).toHaveURL((url) => url.pathname === "/teams/new");
}

async function expectSignedInAs(page: Page, email: string): Promise<void> {
  await expect(page.getByTestId("user-menu")).toContainText(email);
}

async function signOut(page: Page): Promise<void> {
  await page.getByTestId("user-menu").click();
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await expect(page).toHaveURL((url) => url.pathname === "/sign-in");
}

async function requestSignInLink(page: Page, email: string): Promise<void> {
  await page.goto("/sign-in");
  await page.getByLabel("Email for a sign-in link").fill(email);
  await page.getByRole("button", { name: "Email me a link" }).click();
  await expect(page).toHaveURL((url) => url.pathname === "/sign-in/check-email");
  await expect(page.getByRole("heading", { name: "Check your email" })).toBeVisible();
}

async function freshPage(context: BrowserContext): Promise<Page> {
  await context.clearCookies();
  return await context.newPage();
}

test.describe("sign-in by email link", () => {
  test("the worker mails a link that signs the account in once; a used link is refused", async ({ page, browser }) => {
    const email = uniqueEmail("linked");
    await signUp(page, "Lina Link", email);
    await signOut(page);

    await requestSignInLink(page, email);
    const message = await mailTo(email, "Sign in to Tussilago");
    expect(message.from).toBe("Tussilago E2E <no-reply@tussilago.test>");
    expect(message.text).toContain("valid for 15 minutes");
    const link = linkIn(message);
    expect(link.origin).toBe(BASE_URL);
    expect(link.pathname).toBe("/api/auth/callback/email");

    // Opened where the mail is read: another browser without this one's cookies.
    const reader = await browser.newContext({ baseURL: BASE_URL });
    const readerPage = await reader.newPage();
    await readerPage.goto(link.toString());
    await expect(readerPage).toHaveURL((url) => url.pathname === "/teams/new");
    await expectSignedInAs(readerPage, email);
    await reader.close();

    const again = await browser.newContext({ baseURL: BASE_URL });
    const againPage = await again.newPage();
    await againPage.goto(link.toString());
    await expect(againPage).toHaveURL((url) => url.pathname === "/sign-in");
    await expect(againPage.getByText("This sign-in link is invalid or has expired. Ask for a new one.")).toBeVisible();
    await againPage.goto("/teams");
    await expect(againPage).toHaveURL((url) => url.pathname === "/sign-in");
    await again.close();
  });

  test("an address without an account gets the same answer, and its link opens a new account", async ({
    page,
    context,
  }) => {
    const email = uniqueEmail("newcomer");
    await requestSignInLink(page, email);
    const link = linkIn(await mailTo(email, "Sign in to Tussilago"));
    const reader = await freshPage(context);
    await reader.goto(link.toString());
    await expect(reader).toHaveURL((url) => url.pathname === "/teams/new");
    await expectSignedInAs(reader, email);
  });

  test("the link points at the public URL even when the request names another host", async ({ page, request }) => {
    const email = uniqueEmail("forged");
    await signUp(page, "Hugo Host", email);
    await signOut(page);
    await page.goto("/sign-in");
    // The browser's request for a link is held back and sent again the way an attacker can: with another host in
    // X-Forwarded-Host and a matching Origin, which Next's server action origin check accepts.
    let resolveForged: (status: number) => void = () => {};
    const forged = new Promise<number>((resolve) => {
      resolveForged = resolve;
    });
    await page.route(`${BASE_URL}/sign-in`, async (route) => {
      const original = route.request();
      if (original.method() !== "POST") return await route.continue();
      const headers = Object.fromEntries(
        Object.entries(await original.allHeaders()).filter(
          ([name]) => !["host", "content-length", "cookie", "connection"].includes(name),
        ),
      );
      await route.abort();
      const response = await request.fetch(original.url(), {
        method: "POST",
        headers: { ...headers, origin: "http://evil.example", "x-forwarded-host": "evil.example" },
        data: original.postDataBuffer() ?? undefined,
        maxRedirects: 0,
      });
      resolveForged(response.status());
    });
    await page.getByLabel("Email for a sign-in link").fill(email);
    await page.getByRole("button", { name: "Email me a link" }).click();
    expect(await forged).toBeLessThan(400);
    const link = linkIn(await mailTo(email, "Sign in to Tussilago"));
    expect(link.origin).toBe(BASE_URL);
    expect(link.toString()).not.toContain("evil.example");
  });
});

test.describe("password reset by email", () => {
  test("the reset link is mailed, sets a new password once and ends sessions; unknown addresses read the same", async ({
    page,
    browser,
  }) => {
    const email = uniqueEmail("forgetful");
    const unknown = uniqueEmail("nobody");
    await signUp(page, "Fiona Forgetful", email);
    await signOut(page);

    await expect(page.getByRole("link", { name: "Forgot password?" })).toBeVisible();
    await page.getByRole("link", { name: "Forgot password?" }).click();
    await expect(page).toHaveURL((url) => url.pathname === "/forgot-password");
    const answer =
      "If an account exists for that address, we sent it a link to set a new password. It works for one hour.";
    await page.getByLabel("Email").fill(unknown);
    await page.getByRole("button", { name: "Send a reset link" }).click();
    await expect(page.getByText(answer)).toBeVisible();

    await page.goto("/forgot-password");
    await page.getByLabel("Email").fill(email);
    await page.getByRole("button", { name: "Send a reset link" }).click();
    await expect(page.getByText(answer)).toBeVisible();
    const link = linkIn(await mailTo(email, "Reset your Tussilago password"));
    expect(link.origin).toBe(BASE_URL);
    expect(link.pathname).toMatch(/^\/reset-password\/[A-Za-z0-9_-]+$/);
    // The unknown address was asked for first, and gets nothing.
    expect(
      (await fetchInbox(INBOX_URL)).filter((message) => message.rcptTo.includes(unknown)).map((m) => m.subject),
    ).toEqual([]);

    const newPassword = `${PASSWORD} reset`;
    const reader = await browser.newContext({ baseURL: BASE_URL });
    const readerPage = await reader.newPage();
    await readerPage.goto(link.toString());
    await readerPage.getByLabel("New password", { exact: true }).fill(newPassword);
    await readerPage.getByLabel("Confirm the new password").fill(newPassword);
    await readerPage.getByRole("button", { name: "Set the new password" }).click();
    await expect(readerPage).toHaveURL((url) => url.pathname === "/sign-in");
    await expect(readerPage.getByText("Your password was changed. Sign in with the new one.")).toBeVisible();

    const signIn = async (target: Page, password: string) => {
      await target.getByLabel("Email", { exact: true }).fill(email);
      await target.getByLabel("Password", { exact: true }).fill(password);
      await target.getByRole("button", { name: "Sign in", exact: true }).click();
    };
    await signIn(readerPage, PASSWORD);
    await expect(readerPage.getByText("The email or password is incorrect.")).toBeVisible();
    await signIn(readerPage, newPassword);
    await expect(readerPage).toHaveURL((url) => url.pathname === "/teams/new");
    await expectSignedInAs(readerPage, email);

    // Single use.
    await readerPage.goto(link.toString());
    await readerPage.getByLabel("New password", { exact: true }).fill(`${newPassword} twice`);
    await readerPage.getByLabel("Confirm the new password").fill(`${newPassword} twice`);
    await readerPage.getByRole("button", { name: "Set the new password" }).click();
    await expect(readerPage.getByText("This reset link is invalid or has expired. Ask for a new one.")).toBeVisible();
    await reader.close();
  });
});

test("with SMTP, invitations are emailed instead of shown", async ({ page, browser }) => {
  const owner = uniqueEmail("mailing-owner");
  const invitee = uniqueEmail("mailed-invitee");
  const teamName = `Team ${unique("mailed")}`;
  await signUp(page, "Otto Owner", owner);
  await page.getByLabel("Team name").fill(teamName);
  await page.getByRole("button", { name: "Create team" }).click();
  await expect(page).toHaveURL(/\/teams\/[0-9a-f-]{36}$/);
  const teamId = new URL(page.url()).pathname.split("/")[2];

  await page.goto(`/teams/${teamId}/invitations`);
  await expect(page.getByText("We email them a link to join.")).toBeVisible();
  await page.getByLabel("Email").fill(invitee);
  await page.getByLabel("Role").selectOption("member");
  await page.getByRole("button", { name: "Send invitation" }).click();
  await expect(page.getByRole("list", { name: "Invitations" }).getByText(invitee)).toBeVisible();
  await expect(page.getByLabel("Invitation link")).toHaveCount(0);

  const message = await mailTo(invitee, `You are invited to ${teamName} on Tussilago`);
  expect(message.text).toContain(teamName);
  const link = linkIn(message);
  expect(link.origin).toBe(BASE_URL);
  expect(link.pathname).toMatch(/^\/invitations\/[A-Za-z0-9_-]+$/);

  const guest = await browser.newContext({ baseURL: BASE_URL });
  const guestPage = await guest.newPage();
  await guestPage.goto(link.toString());
  await expect(guestPage.getByRole("heading", { name: teamName })).toBeVisible();
  await guest.close();
});

test.describe("single sign-on (OIDC)", () => {
  function oidcUser(label: string, overrides: Partial<OidcUser> = {}): Required<OidcUser> {
    return {
      sub: unique(`${label}-sub`),
      email: uniqueEmail(label),
      name: `${label} Person`,
      emailVerified: true,
      ...overrides,
    } as Required<OidcUser>;
  }

  async function signInWithOidc(page: Page): Promise<void> {
    await page.goto("/sign-in");
    await page.getByRole("button", { name: OIDC_BUTTON }).click();
  }

  test("the first sign-in creates the account, later ones find it by the issuer's subject", async ({ page }) => {
    const user = oidcUser("sso");
    await setRemoteOidcUser(ISSUER, user);
    await signInWithOidc(page);
    await expect(page).toHaveURL((url) => url.origin === BASE_URL && url.pathname === "/teams/new");
    await expectSignedInAs(page, user.email);
    await page.getByTestId("user-menu").click();
    await expect(page.getByText(user.name, { exact: true })).toBeVisible();
    await page.keyboard.press("Escape");

    const teamName = `Team ${unique("sso")}`;
    await page.getByLabel("Team name").fill(teamName);
    await page.getByRole("button", { name: "Create team" }).click();
    await expect(page.getByTestId("team-name")).toHaveText(teamName);
    await signOut(page);

    // The issuer now reports another address for the same subject: still the same account.
    await setRemoteOidcUser(ISSUER, { ...user, email: uniqueEmail("renamed") });
    await signInWithOidc(page);
    await expect(page.getByTestId("team-name")).toHaveText(teamName);
    await expectSignedInAs(page, user.email);
  });

  test("an address that already has a password account is not taken over", async ({ page, browser }) => {
    const email = uniqueEmail("owned");
    const holder = await browser.newContext({ baseURL: BASE_URL });
    await signUp(await holder.newPage(), "Paula Password", email);
    await holder.close();

    await setRemoteOidcUser(ISSUER, oidcUser("claimer", { email }));
    await signInWithOidc(page);
    await expect(page).toHaveURL((url) => url.pathname === "/sign-in");
    await expect(
      page.getByText("This email already has an account that signs in another way. Sign in that way first."),
    ).toBeVisible();
    await page.goto("/teams");
    await expect(page).toHaveURL((url) => url.pathname === "/sign-in");
  });

  test("an address the issuer has not verified, or no address, is refused", async ({ page }) => {
    const unverified = oidcUser("unverified", { emailVerified: false });
    await setRemoteOidcUser(ISSUER, unverified);
    await signInWithOidc(page);
    await expect(page).toHaveURL((url) => url.pathname === "/sign-in");
    await expect(page.getByText("Access was denied.")).toBeVisible();

    await setRemoteOidcUser(ISSUER, { sub: unique("anonymous") });
    await signInWithOidc(page);
    await expect(page).toHaveURL((url) => url.pathname === "/sign-in");
    await expect(page.getByText("Access was denied.")).toBeVisible();
    await page.goto("/teams");
    await expect(page).toHaveURL((url) => url.pathname === "/sign-in");
  });

  test("declining at the issuer brings the person back to sign in", async ({ page }) => {
    await setRemoteOidcUser(ISSUER, null);
    await signInWithOidc(page);
    await expect(page).toHaveURL((url) => url.pathname === "/sign-in");
    await expect(page.getByText("Signing in did not work. Try again.")).toBeVisible();
  });
});
