// Accounts: sign-up, password sign-in with rate limits, password changes and resets, revoking sessions.
import { hashPassword, verifyAgainstNothing, verifyPassword } from "@/lib/auth/password";
import { randomToken, sha256 } from "@/lib/auth/tokens";
import { endAllUserSessions } from "@/lib/auth/user-sessions";
import type { Db, Tx } from "@/lib/db";
import {
  EMAIL_REQUESTS_PER_IP,
  enforceRateLimit,
  hitRateLimit,
  perIp,
  resetRateLimit,
  SIGN_IN_PER_ACCOUNT,
  SIGN_IN_PER_IP,
  SIGN_UP_PER_IP,
} from "@/lib/domain/rate-limit";
import { queueEmail } from "@/lib/email";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import type { User } from "@/lib/generated/prisma/client";

export const PASSWORD_RESET_TTL_MS = 60 * 60_000;
const FIRST_USER_LOCK = 7_345_120_915_002;

export type PublicUser = { id: string; email: string; name: string | null; isAdmin: boolean; sessionVersion: number };

function toPublic(user: User): PublicUser {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    isAdmin: user.isAdmin,
    sessionVersion: user.sessionVersion,
  };
}

/** Creates an account. The first account of a fresh instance becomes its administrator. */
export async function createUser(
  db: Db,
  input: { email: string; password?: string | null; name?: string | null; admin?: boolean; emailVerified?: boolean },
): Promise<PublicUser> {
  const passwordHash = input.password ? await hashPassword(input.password) : null;
  return await db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${FIRST_USER_LOCK})`;
    const existing = await tx.user.findUnique({ where: { email: input.email }, select: { id: true } });
    if (existing) throw new AppError("conflict", "An account with this email already exists. Sign in instead.");
    const first = (await tx.user.count()) === 0;
    const user = await tx.user.create({
      data: {
        email: input.email,
        name: input.name ?? null,
        passwordHash,
        isAdmin: first || Boolean(input.admin),
        emailVerifiedAt: input.emailVerified ? new Date() : null,
      },
    });
    return toPublic(user);
  });
}

/**
 * Self-service sign-up with a password. It answers the same whether or not the address already has an account, so
 * the form cannot be used to find out who has one: an existing account is left untouched (no second account, its
 * password unchanged), and the password is hashed in both cases so the timing matches too. With mail configured,
 * both cases send one message to the address: a welcome, or a note that someone tried to sign up with it. The
 * caller never signs the person in (that would tell the two cases apart): they sign in next. Rate-limited per IP
 * (requests without a known address share one bucket).
 */
export async function signUpWithPassword(
  db: Db,
  input: { email: string; password: string; name: string | null; ip: string | null },
): Promise<void> {
  await enforceRateLimit(
    db,
    `sign-up:ip:${input.ip ?? "unknown"}`,
    perIp(SIGN_UP_PER_IP),
    "Too many sign-ups from your network. Try again later.",
  );
  const passwordHash = await hashPassword(input.password);
  const mail = Boolean(getEnv().smtp);
  const base = getEnv().publicUrl;
  await db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${FIRST_USER_LOCK})`;
    const existing = await tx.user.findUnique({ where: { email: input.email }, select: { id: true } });
    if (existing) {
      if (mail) {
        await queueEmail(tx, {
          to: input.email,
          subject: "Someone tried to create a Tussilago account with your address",
          text: `Someone tried to create a Tussilago account with this email address, which already has one. Nothing was changed.\n\nSign in: ${base}/sign-in\nForgot your password? ${base}/forgot-password\n\nIf it was not you, you can ignore this email.`,
        });
      }
      return;
    }
    const first = (await tx.user.count()) === 0;
    await tx.user.create({ data: { email: input.email, name: input.name, passwordHash, isAdmin: first } });
    if (mail) {
      await queueEmail(tx, {
        to: input.email,
        subject: "Your Tussilago account",
        text: `Your Tussilago account was created with this email address.\n\nSign in: ${base}/sign-in\n\nIf it was not you, reset the password here and tell your administrator: ${base}/forgot-password\n`,
      });
    }
  });
}

const GENERIC_SIGN_IN_FAILURE = "The email or password is incorrect.";

/** Password sign-in. Rate-limited per IP and per account; every failure reads the same. */
export async function authenticateWithPassword(
  db: Db,
  input: { email: string; password: string; ip: string | null },
): Promise<PublicUser> {
  if (input.ip)
    await enforceRateLimit(
      db,
      `sign-in:ip:${input.ip}`,
      perIp(SIGN_IN_PER_IP),
      "Too many sign-in attempts. Try again later.",
    );
  const accountKey = `sign-in:account:${sha256(input.email)}`;
  const account = await hitRateLimit(db, accountKey, SIGN_IN_PER_ACCOUNT);
  if (!account.allowed) {
    throw new AppError("rate_limited", "Too many sign-in attempts. Try again later.", {
      retryAfter: account.retryAfterSeconds,
    });
  }
  const user = await db.user.findUnique({ where: { email: input.email } });
  const ok = user?.passwordHash
    ? await verifyPassword(user.passwordHash, input.password)
    : await verifyAgainstNothing(input.password);
  if (!user || !ok) throw new AppError("unauthenticated", GENERIC_SIGN_IN_FAILURE);
  await resetRateLimit(db, accountKey);
  return toPublic(user);
}

/** The user behind a session, or null when the session was revoked (its version is behind) or the user is gone. */
export async function sessionUser(db: Db, userId: string, sessionVersion: number): Promise<PublicUser | null> {
  const user = await db.user.findUnique({ where: { id: userId } });
  if (!user || user.sessionVersion !== sessionVersion) return null;
  return toPublic(user);
}

/** Ends every session of the user, everywhere: the version bump refuses every JWT, the rows leave the list. */
export async function revokeSessions(db: Db | Tx, userId: string): Promise<void> {
  await db.user.update({ where: { id: userId }, data: { sessionVersion: { increment: 1 } } });
  await endAllUserSessions(db, userId);
}

export async function changePassword(
  db: Db,
  userId: string,
  input: { currentPassword: string; newPassword: string },
): Promise<PublicUser> {
  const user = await db.user.findUniqueOrThrow({ where: { id: userId } });
  if (user.passwordHash && !(await verifyPassword(user.passwordHash, input.currentPassword))) {
    throw new AppError("invalid", "The current password is incorrect.", {
      details: [{ path: "currentPassword", message: "The current password is incorrect." }],
    });
  }
  const passwordHash = await hashPassword(input.newPassword);
  const updated = await db.$transaction(async (tx) => {
    const user = await tx.user.update({
      where: { id: userId },
      data: { passwordHash, sessionVersion: { increment: 1 } },
    });
    await endAllUserSessions(tx, userId);
    return user;
  });
  return toPublic(updated);
}

/** A single-use reset link for the account, valid for an hour; also what `manage reset-password` prints. */
export async function createPasswordResetLink(db: Db | Tx, email: string): Promise<string | null> {
  const user = await db.user.findUnique({ where: { email }, select: { id: true } });
  if (!user) return null;
  const token = randomToken();
  await db.verificationToken.deleteMany({ where: { identifier: email, purpose: "password-reset" } });
  await db.verificationToken.create({
    data: {
      tokenHash: sha256(token),
      identifier: email,
      purpose: "password-reset",
      expiresAt: new Date(Date.now() + PASSWORD_RESET_TTL_MS),
    },
  });
  return `${getEnv().publicUrl}/reset-password/${token}`;
}

/** Emails a reset link when the account exists and mail is configured; answers the same either way. */
export async function requestPasswordReset(db: Db, input: { email: string; ip: string | null }): Promise<void> {
  if (!getEnv().smtp) throw new AppError("unavailable", "Password reset by email is not configured on this instance.");
  if (input.ip)
    await enforceRateLimit(
      db,
      `email:ip:${input.ip}`,
      perIp(EMAIL_REQUESTS_PER_IP),
      "Too many requests. Try again later.",
    );
  await db.$transaction(async (tx) => {
    const link = await createPasswordResetLink(tx, input.email);
    if (!link) return;
    await queueEmail(tx, {
      to: input.email,
      subject: "Reset your Tussilago password",
      text: `Someone asked to reset the password of your Tussilago account.\n\nSet a new password here (valid for one hour):\n${link}\n\nIf it was not you, ignore this email.`,
    });
  });
}

/** Consumes a reset token: sets the password and ends every session. */
export async function resetPassword(db: Db, input: { token: string; newPassword: string }): Promise<void> {
  const passwordHash = await hashPassword(input.newPassword);
  await db.$transaction(async (tx) => {
    const [row] = await tx.verificationToken.findMany({
      where: { tokenHash: sha256(input.token), purpose: "password-reset", expiresAt: { gt: new Date() } },
      take: 1,
    });
    const consumed = row
      ? await tx.verificationToken.deleteMany({ where: { tokenHash: row.tokenHash } })
      : { count: 0 };
    if (!row || consumed.count !== 1) {
      throw new AppError("invalid", "This reset link is invalid or has expired. Ask for a new one.");
    }
    const updated = await tx.user.updateManyAndReturn({
      where: { email: row.identifier },
      data: { passwordHash, sessionVersion: { increment: 1 } },
      select: { id: true },
    });
    const [user] = updated;
    if (updated.length !== 1 || !user)
      throw new AppError("invalid", "This reset link is invalid or has expired. Ask for a new one.");
    await endAllUserSessions(tx, user.id);
  });
}
