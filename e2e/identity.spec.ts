import { randomUUID } from "node:crypto";
import { type Browser, expect, type Page, test } from "@playwright/test";
import { invite, PASSWORD, signUpWithTeam, submitSignUp, unique, uniqueEmail } from "./fixtures/identity";

/** Opens the invitation in a fresh browser (no session), signs up with the prefilled email and accepts. */
async function acceptAsNewAccount(browser: Browser, baseURL: string | undefined, invitePath: string, name: string) {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await page.goto(invitePath);
  await page.getByRole("link", { name: "Sign up" }).click();
  await submitSignUp(page, { name });
  // Back on the invitation, now signed in with the invited address.
  await expect(page).toHaveURL((url) => url.pathname === invitePath);
  await page.getByRole("button", { name: "Accept" }).click();
  return { context, page };
}

function teamNav(page: Page) {
  return page.getByRole("navigation", { name: "Team" });
}

test("an owner invites a member, who signs up from the link, accepts and joins the team", async ({
  page,
  browser,
  baseURL,
}) => {
  const ownerEmail = uniqueEmail("owner");
  const memberEmail = uniqueEmail("member");
  const teamName = `Team ${unique("acme")}`;
  const teamId = await signUpWithTeam(page, { name: "Olivia Owner", email: ownerEmail, team: teamName });

  const invitePath = await invite(page, teamId, memberEmail, "member");
  await expect(page.getByRole("list", { name: "Invitations" }).getByText(memberEmail)).toBeVisible();

  const context = await browser.newContext({ baseURL });
  const guest = await context.newPage();
  await guest.goto(invitePath);
  await expect(guest.getByRole("heading", { name: teamName })).toBeVisible();
  await expect(guest.getByText(memberEmail)).toBeVisible();
  await guest.getByRole("link", { name: "Sign up" }).click();
  await expect(guest.getByLabel("Email")).toHaveValue(memberEmail);
  await submitSignUp(guest, { name: "Max Member" });
  await expect(guest).toHaveURL((url) => url.pathname === invitePath);
  await guest.getByRole("button", { name: "Accept" }).click();

  await expect(guest).toHaveURL((url) => url.pathname === `/teams/${teamId}`);
  await expect(guest.getByTestId("team-name")).toHaveText(teamName);
  await expect(guest.getByTestId("team-switcher")).toContainText(teamName);
  await teamNav(guest).getByRole("link", { name: "Members" }).click();
  const members = guest.getByRole("list", { name: "Members" });
  await expect(members.getByText(ownerEmail, { exact: true })).toBeVisible();
  await expect(members.getByText(memberEmail, { exact: true })).toBeVisible();
  await expect(members.getByRole("listitem")).toHaveCount(2);

  // The link was single-use.
  await guest.goto(invitePath);
  await expect(guest.getByText("This invitation was already used.")).toBeVisible();
  await context.close();

  await page.goto(`/teams/${teamId}/members`);
  await expect(page.getByRole("list", { name: "Members" }).getByText(memberEmail, { exact: true })).toBeVisible();
  await page.screenshot({ path: test.info().outputPath("members.png"), fullPage: true });
});

test("a viewer cannot deploy, invite or rename, and other teams answer 404", async ({ page, browser, baseURL }) => {
  const teamName = `Team ${unique("viewers")}`;
  const teamId = await signUpWithTeam(page, { name: "Owen Owner", email: uniqueEmail("owner"), team: teamName });
  // The owner's overview shows the button, so its absence below is the role at work.
  await expect(page.getByTestId("deploy-button")).toBeVisible();
  const viewerEmail = uniqueEmail("viewer");
  const invitePath = await invite(page, teamId, viewerEmail, "viewer");

  // Before accepting, the team is none of this account's business.
  const outsider = await browser.newContext({ baseURL });
  const outsiderPage = await outsider.newPage();
  await outsiderPage.goto("/sign-up");
  await submitSignUp(outsiderPage, { name: "Oscar Outsider", email: uniqueEmail("outsider") });
  await expect(outsiderPage).toHaveURL(/\/teams\/new$/);
  expect((await outsiderPage.goto(`/teams/${teamId}`))?.status()).toBe(404);
  expect((await outsiderPage.goto(`/teams/${teamId}/settings`))?.status()).toBe(404);
  expect((await outsiderPage.goto(`/teams/${randomUUID()}/members`))?.status()).toBe(404);
  expect((await outsiderPage.goto("/teams/not-a-uuid"))?.status()).toBe(404);
  await outsider.close();

  const { context, page: viewer } = await acceptAsNewAccount(browser, baseURL, invitePath, "Vera Viewer");
  await expect(viewer).toHaveURL((url) => url.pathname === `/teams/${teamId}`);
  await expect(viewer.getByTestId("team-name")).toHaveText(teamName);
  await expect(viewer.getByText("No apps yet")).toBeVisible();
  await expect(viewer.getByTestId("deploy-button")).toHaveCount(0);
  await expect(teamNav(viewer).getByRole("link", { name: "Members" })).toBeVisible();
  await expect(teamNav(viewer).getByRole("link", { name: "Invitations" })).toHaveCount(0);
  await expect(teamNav(viewer).getByRole("link", { name: "Settings" })).toHaveCount(0);

  // Typing the addresses in anyway: the pages answer with an explanation and no forms.
  await viewer.goto(`/teams/${teamId}/invitations`);
  await expect(viewer.getByText("Only admins and owners can see and send invitations.")).toBeVisible();
  await expect(viewer.getByRole("button", { name: "Send invitation" })).toHaveCount(0);
  await expect(viewer.getByLabel("Email")).toHaveCount(0);

  await viewer.goto(`/teams/${teamId}/settings`);
  await expect(viewer.getByText("Only admins and owners can change the team's settings.")).toBeVisible();
  await expect(viewer.getByLabel("Team name")).toHaveCount(0);
  await expect(viewer.getByRole("button", { name: "Rename team" })).toHaveCount(0);
  await expect(viewer.getByRole("button", { name: "Delete team" })).toHaveCount(0);
  await context.close();
});

test("sign-in: one message for wrong passwords, off-site callbacks ignored, protected pages come back; password change", async ({
  page,
  baseURL,
}) => {
  const email = uniqueEmail("returning");
  const signOut = async () => {
    await page.getByTestId("user-menu").click();
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await expect(page).toHaveURL((url) => url.pathname === "/sign-in");
  };
  const signIn = async (password: string) => {
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
  };

  await page.goto("/sign-up");
  await submitSignUp(page, { name: "Rita Returning", email });
  await expect(page).toHaveURL(/\/teams\/new$/);
  await signOut();

  await page.goto(`/sign-in?callbackUrl=${encodeURIComponent("https://evil.example/")}`);
  await signIn("not the password");
  await expect(page.getByText("The email or password is incorrect.")).toBeVisible();
  await expect(page.getByLabel("Email")).toHaveValue(email);
  await page.screenshot({ path: test.info().outputPath("sign-in.png"), fullPage: true });
  await signIn(PASSWORD);
  // Still on this site, at the default destination (no team yet: create one).
  await expect(page).toHaveURL((url) => url.origin === new URL(baseURL ?? "").origin && url.pathname === "/teams/new");

  await signOut();
  await page.goto("/account");
  await expect(page).toHaveURL(
    (url) => url.pathname === "/sign-in" && url.searchParams.get("callbackUrl") === "/account",
  );
  await signIn(PASSWORD);
  await expect(page).toHaveURL((url) => url.pathname === "/account");
  await expect(page.getByRole("heading", { name: "Account" })).toBeVisible();

  // Changing the password ends every session, and this browser is signed straight back in.
  await page.getByLabel("Current password").fill(PASSWORD);
  await page.getByLabel("New password", { exact: true }).fill(`${PASSWORD} again`);
  await page.getByLabel("Confirm the new password").fill(`${PASSWORD} again`);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("Your password was changed and your other sessions were signed out.")).toBeVisible();

  await page.getByRole("button", { name: "Sign out everywhere" }).last().click();
  await page.getByRole("button", { name: "Sign out everywhere" }).last().click();
  await expect(page).toHaveURL((url) => url.pathname === "/sign-in");
  await page.goto("/account");
  await expect(page).toHaveURL((url) => url.pathname === "/sign-in");
});

test("sign-up answers a taken address like a new one and leaves the account alone", async ({ browser, baseURL }) => {
  const email = uniqueEmail("taken");
  const first = await browser.newContext({ baseURL });
  const firstPage = await first.newPage();
  await firstPage.goto("/sign-up");
  await submitSignUp(firstPage, { name: "Tara Taken", email });
  await expect(firstPage).toHaveURL(/\/teams\/new$/);
  await first.close();

  const second = await browser.newContext({ baseURL });
  const page = await second.newPage();
  await page.goto("/sign-up");
  await page.getByLabel("Name").fill("Mallory");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(`${PASSWORD} but mine`);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL((url) => url.pathname === "/sign-in" && url.searchParams.get("created") === "1");
  await expect(page.getByText("If this email address was new here, your account is ready")).toBeVisible();
  await expect(page.getByText("already exists")).toHaveCount(0);
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(`${PASSWORD} but mine`);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByText("The email or password is incorrect.")).toBeVisible();
  await second.close();
});
