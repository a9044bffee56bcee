// Accounts: the first administrator, password storage and sign-in with its rate limits, sessions, resets.
import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { randomToken, sha256 } from "@/lib/auth/tokens";
import { decryptSecret } from "@/lib/crypto";
import { getDb } from "@/lib/db";
import { EMAIL_REQUESTS_PER_IP, SIGN_IN_PER_ACCOUNT, SIGN_IN_PER_IP } from "@/lib/domain/rate-limit";
import {
  authenticateWithPassword,
  changePassword,
  createPasswordResetLink,
  createUser,
  PASSWORD_RESET_TTL_MS,
  requestPasswordReset,
  resetPassword,
  revokeSessions,
  sessionUser,
} from "@/lib/domain/users";
import { getEnv, resetEnvForTests } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { expectAppError } from "@/test/errors";
import { pendingJobs } from "@/test/helpers";

const PASSWORD = "correct horse battery staple";

function uniqueEmail(label = "user"): string {
  return `${label}-${randomUUID().slice(0, 12)}@example.test`;
}

/** A documentation-range address per test, so rate-limit buckets never leak between tests. */
function uniqueIp(): string {
  const bytes = randomUUID().replaceAll("-", "");
  return `2001:db8:${bytes.slice(0, 4)}:${bytes.slice(4, 8)}::1`;
}

async function signIn(email: string, password: string, ip: string | null = uniqueIp()) {
  return await authenticateWithPassword(getDb(), { email, password, ip });
}

async function newAccount(password = PASSWORD) {
  const email = uniqueEmail();
  const user = await createUser(getDb(), { email, password });
  return { ...user, password };
}

/** Opens several pooled connections up front, so racing transactions overlap instead of queueing on connects. */
async function warmPool(): Promise<void> {
  await Promise.all(Array.from({ length: 8 }, () => getDb().$executeRaw`SELECT pg_sleep(0.05)`));
}

function resetTokenOf(link: string | null): string {
  const token = link?.split("/reset-password/").at(1);
  if (!token) throw new Error(`not a reset link: ${link}`);
  return token;
}

describe("createUser", () => {
  it("makes the first account the administrator and no later one", async () => {
    // This file has its own database, but earlier tests may have created accounts: start from none.
    await getDb().user.deleteMany();
    const first = await createUser(getDb(), { email: uniqueEmail("first") });
    const second = await createUser(getDb(), { email: uniqueEmail("second") });
    expect(first.isAdmin).toBe(true);
    expect(second.isAdmin).toBe(false);
  });

  it("makes exactly one administrator when several sign up at once on a fresh instance", async () => {
    await getDb().user.deleteMany();
    await warmPool();
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => createUser(getDb(), { email: uniqueEmail(`racer${i}`) })),
    );
    expect(results.every((result) => result.status === "fulfilled")).toBe(true);
    expect(await getDb().user.count()).toBe(6);
    expect(await getDb().user.count({ where: { isAdmin: true } })).toBe(1);
  });

  it("makes an administrator on request", async () => {
    await createUser(getDb(), { email: uniqueEmail() });
    expect((await createUser(getDb(), { email: uniqueEmail(), admin: true })).isAdmin).toBe(true);
  });

  it("refuses a duplicate email, also when two sign up with it at once", async () => {
    const email = uniqueEmail("dup");
    await createUser(getDb(), { email });
    await expectAppError(createUser(getDb(), { email }), "conflict");

    const racing = uniqueEmail("race");
    await warmPool();
    const results = await Promise.allSettled([
      createUser(getDb(), { email: racing }),
      createUser(getDb(), { email: racing }),
    ]);
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    const rejected = results.find((result) => result.status === "rejected");
    expect(rejected?.reason).toBeInstanceOf(AppError);
    expect(rejected?.reason).toMatchObject({ code: "conflict" });
    expect(await getDb().user.count({ where: { email: racing } })).toBe(1);
  });

  it("stores the password as argon2id with the documented parameters, never in clear", async () => {
    const { id } = await newAccount();
    const row = await getDb().user.findUniqueOrThrow({ where: { id } });
    expect(row.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(JSON.stringify(row)).not.toContain(PASSWORD);
  });

  it("does not expose the hash in what it returns", async () => {
    const email = uniqueEmail();
    const created = await createUser(getDb(), { email, password: PASSWORD });
    expect(Object.keys(created).sort()).toEqual(["email", "id", "isAdmin", "name", "sessionVersion"]);
    const fromSignIn = await signIn(email, PASSWORD);
    expect(Object.keys(fromSignIn).sort()).toEqual(["email", "id", "isAdmin", "name", "sessionVersion"]);
  });
});

describe("authenticateWithPassword", () => {
  it("signs in with the right password", async () => {
    const user = await newAccount();
    expect(await signIn(user.email, PASSWORD)).toMatchObject({ id: user.id, email: user.email });
  });

  it("fails identically for an unknown email, a wrong password and an account without a password", async () => {
    const user = await newAccount();
    const passwordless = await createUser(getDb(), { email: uniqueEmail("oidc") });
    const unknown = await expectAppError(signIn(uniqueEmail("nobody"), PASSWORD), "unauthenticated");
    const wrong = await expectAppError(signIn(user.email, `${PASSWORD}!`), "unauthenticated");
    const none = await expectAppError(signIn(passwordless.email, PASSWORD), "unauthenticated");
    expect(unknown.message).toBe(wrong.message);
    expect(none.message).toBe(wrong.message);
    expect(wrong.message).not.toMatch(/password is wrong|no account|not found|unknown/i);
  });

  it("refuses the account after too many failures, even with the right password", async () => {
    const user = await newAccount();
    // signIn uses a fresh IP for each attempt: the limit is per account, not per IP.
    for (let i = 0; i < SIGN_IN_PER_ACCOUNT.limit; i++) {
      await expectAppError(signIn(user.email, "wrong password!"), "unauthenticated");
    }
    const error = await expectAppError(signIn(user.email, PASSWORD), "rate_limited");
    expect(error.retryAfter).toBeGreaterThanOrEqual(1);
    expect(error.retryAfter).toBeLessThanOrEqual(SIGN_IN_PER_ACCOUNT.windowMs / 1000);
    // Other accounts are unaffected.
    const other = await newAccount();
    await expect(signIn(other.email, PASSWORD)).resolves.toMatchObject({ id: other.id });
  });

  it("starts counting again after a successful sign-in", async () => {
    const user = await newAccount();
    for (let i = 0; i < SIGN_IN_PER_ACCOUNT.limit - 1; i++)
      await expectAppError(signIn(user.email, "nope nope!"), "unauthenticated");
    await signIn(user.email, PASSWORD);
    for (let i = 0; i < SIGN_IN_PER_ACCOUNT.limit - 1; i++)
      await expectAppError(signIn(user.email, "nope nope!"), "unauthenticated");
    await expect(signIn(user.email, PASSWORD)).resolves.toMatchObject({ id: user.id });
  });

  it("refuses an IP after too many attempts, whatever the account", async () => {
    const ip = uniqueIp();
    const user = await newAccount();
    for (let i = 0; i < SIGN_IN_PER_IP.limit; i++) {
      await expectAppError(signIn(uniqueEmail("spray"), PASSWORD, ip), "unauthenticated");
    }
    const error = await expectAppError(signIn(user.email, PASSWORD, ip), "rate_limited");
    expect(error.retryAfter).toBeGreaterThanOrEqual(1);
    // The same account from elsewhere is fine.
    await expect(signIn(user.email, PASSWORD, uniqueIp())).resolves.toMatchObject({ id: user.id });
  });
});

describe("sessions", () => {
  it("are valid at the current version only", async () => {
    const user = await newAccount();
    expect(await sessionUser(getDb(), user.id, user.sessionVersion)).toMatchObject({ id: user.id });
    expect(await sessionUser(getDb(), user.id, user.sessionVersion + 1)).toBeNull();
    expect(await sessionUser(getDb(), randomUUID(), 0)).toBeNull();
  });

  it("end everywhere on revokeSessions", async () => {
    const user = await newAccount();
    await revokeSessions(getDb(), user.id);
    expect(await sessionUser(getDb(), user.id, user.sessionVersion)).toBeNull();
    expect(await sessionUser(getDb(), user.id, user.sessionVersion + 1)).toMatchObject({ id: user.id });
  });

  it("end on a password change, which replaces the password", async () => {
    const user = await newAccount();
    const changed = await changePassword(getDb(), user.id, {
      currentPassword: PASSWORD,
      newPassword: "a brand new passphrase",
    });
    expect(changed.sessionVersion).toBe(user.sessionVersion + 1);
    expect(await sessionUser(getDb(), user.id, user.sessionVersion)).toBeNull();
    expect(await sessionUser(getDb(), user.id, changed.sessionVersion)).not.toBeNull();
    await expectAppError(signIn(user.email, PASSWORD), "unauthenticated");
    await expect(signIn(user.email, "a brand new passphrase")).resolves.toMatchObject({ id: user.id });
  });

  it("survive a password change with the wrong current password, which changes nothing", async () => {
    const user = await newAccount();
    const before = await getDb().user.findUniqueOrThrow({ where: { id: user.id } });
    const error = await expectAppError(
      changePassword(getDb(), user.id, { currentPassword: "not the password", newPassword: "whatever else 1" }),
      "invalid",
    );
    expect(error.details).toEqual([expect.objectContaining({ path: "currentPassword" })]);
    expect(await getDb().user.findUniqueOrThrow({ where: { id: user.id } })).toEqual(before);
  });
});

describe("password reset links", () => {
  it("is null for an unknown email", async () => {
    expect(await createPasswordResetLink(getDb(), uniqueEmail("nobody"))).toBeNull();
  });

  it("stores only the token's hash, works once, sets the password and ends sessions", async () => {
    const user = await newAccount();
    const link = await createPasswordResetLink(getDb(), user.email);
    expect(link?.startsWith(`${getEnv().publicUrl}/reset-password/`)).toBe(true);
    const token = resetTokenOf(link);
    expect(Buffer.from(token, "base64url").length).toBeGreaterThanOrEqual(16);
    const rows = await getDb().verificationToken.findMany({ where: { identifier: user.email } });
    expect(rows.map((row) => row.tokenHash)).toEqual([sha256(token)]);
    expect(JSON.stringify(rows)).not.toContain(token);

    await resetPassword(getDb(), { token, newPassword: "reset passphrase 1" });
    await expect(signIn(user.email, "reset passphrase 1")).resolves.toMatchObject({ id: user.id });
    await expectAppError(signIn(user.email, PASSWORD), "unauthenticated");
    expect(await sessionUser(getDb(), user.id, user.sessionVersion)).toBeNull();

    await expectAppError(resetPassword(getDb(), { token, newPassword: "second use attempt" }), "invalid");
    await expect(signIn(user.email, "reset passphrase 1")).resolves.toMatchObject({ id: user.id });
  });

  it("expires", async () => {
    const user = await newAccount();
    const before = Date.now();
    const token = resetTokenOf(await createPasswordResetLink(getDb(), user.email));
    const row = await getDb().verificationToken.findUniqueOrThrow({ where: { tokenHash: sha256(token) } });
    expect(row.expiresAt.getTime()).toBeGreaterThanOrEqual(before + PASSWORD_RESET_TTL_MS);
    expect(row.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + PASSWORD_RESET_TTL_MS);
    await getDb().verificationToken.update({
      where: { tokenHash: row.tokenHash },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    await expectAppError(resetPassword(getDb(), { token, newPassword: "too late now 1" }), "invalid");
    await expect(signIn(user.email, PASSWORD)).resolves.toMatchObject({ id: user.id });
  });

  it("replaces an earlier link", async () => {
    const user = await newAccount();
    const first = resetTokenOf(await createPasswordResetLink(getDb(), user.email));
    const second = resetTokenOf(await createPasswordResetLink(getDb(), user.email));
    await expectAppError(resetPassword(getDb(), { token: first, newPassword: "from the old link" }), "invalid");
    await resetPassword(getDb(), { token: second, newPassword: "from the new link" });
    await expect(signIn(user.email, "from the new link")).resolves.toMatchObject({ id: user.id });
  });

  it("accepts no other kind of single-use token and no unknown token", async () => {
    const user = await newAccount();
    const signInToken = randomToken();
    await getDb().verificationToken.create({
      data: {
        tokenHash: sha256(signInToken),
        identifier: user.email,
        purpose: "email-sign-in",
        expiresAt: new Date(Date.now() + 600_000),
      },
    });
    await expectAppError(resetPassword(getDb(), { token: signInToken, newPassword: "hijacked passphrase" }), "invalid");
    await expectAppError(
      resetPassword(getDb(), { token: randomToken(), newPassword: "guessed passphrase" }),
      "invalid",
    );
    await expect(signIn(user.email, PASSWORD)).resolves.toMatchObject({ id: user.id });
  });

  it("is single use under concurrency", async () => {
    const user = await newAccount();
    const token = resetTokenOf(await createPasswordResetLink(getDb(), user.email));
    const results = await Promise.allSettled([
      resetPassword(getDb(), { token, newPassword: "first racer pass" }),
      resetPassword(getDb(), { token, newPassword: "second racer pass" }),
    ]);
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    const row = await getDb().user.findUniqueOrThrow({ where: { id: user.id } });
    expect(row.sessionVersion).toBe(user.sessionVersion + 1);
  });
});

describe("requestPasswordReset", () => {
  it("is unavailable without SMTP", async () => {
    await expectAppError(requestPasswordReset(getDb(), { email: uniqueEmail(), ip: uniqueIp() }), "unavailable");
  });

  describe("with SMTP configured", () => {
    let saved: string | undefined;

    beforeEach(() => {
      saved = process.env.SMTP_URL;
      process.env.SMTP_URL = "smtp://localhost:2525";
      resetEnvForTests();
    });

    afterEach(() => {
      if (saved === undefined) delete process.env.SMTP_URL;
      else process.env.SMTP_URL = saved;
      resetEnvForTests();
    });

    it("emails an encrypted link to a known account and answers the same for an unknown one", async () => {
      const user = await newAccount();
      const unknown = uniqueEmail("nobody");
      await expect(requestPasswordReset(getDb(), { email: user.email, ip: uniqueIp() })).resolves.toBeUndefined();
      await expect(requestPasswordReset(getDb(), { email: unknown, ip: uniqueIp() })).resolves.toBeUndefined();
      expect(await getDb().outboundEmail.count({ where: { to: unknown } })).toBe(0);
      const [email, ...more] = await getDb().outboundEmail.findMany({ where: { to: user.email } });
      expect(more).toEqual([]);
      if (!email) throw new Error("no email queued");
      const token = resetTokenOf(/https?:\/\/\S+/.exec(decryptSecret(email.bodyEncrypted))?.[0] ?? null);
      expect(email.bodyEncrypted).not.toContain(token);
      expect((await pendingJobs("email__send")).map((job) => job.payload)).toContainEqual({ emailId: email.id });
      await resetPassword(getDb(), { token, newPassword: "mailed passphrase" });
      await expect(signIn(user.email, "mailed passphrase")).resolves.toMatchObject({ id: user.id });
    });

    it("is rate-limited per IP", async () => {
      const ip = uniqueIp();
      for (let i = 0; i < EMAIL_REQUESTS_PER_IP.limit; i++)
        await requestPasswordReset(getDb(), { email: uniqueEmail("flood"), ip });
      const error = await expectAppError(
        requestPasswordReset(getDb(), { email: uniqueEmail("flood"), ip }),
        "rate_limited",
      );
      expect(error.retryAfter).toBeGreaterThanOrEqual(1);
    });
  });
});
