// Server-side records of portal sessions. The session JWT alone cannot be taken back: a copied cookie would work
// until it expires. Each sign-in writes a UserSession row whose id the JWT carries; every request checks the row
// (and the user's session version) in one query, so signing out, revoking a session from the account page, signing
// out everywhere and password changes end it on the server.
import type { Db, Tx } from "@/lib/db";
import { AppError } from "@/lib/errors";

/** lastSeenAt is refreshed at most this often: a write a minute per browser, not one per request. */
export const LAST_SEEN_RESOLUTION_MS = 60_000;
/** As long as the session cookie lives (next-auth's maxAge); a session unseen for longer is gone for good. */
export const SESSION_MAX_AGE_S = 30 * 24 * 60 * 60;

const MAX_USER_AGENT = 512;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type SessionClaims = { userId: string; sessionVersion: number; sessionId: string };

export type UserSessionView = {
  id: string;
  createdAt: Date;
  lastSeenAt: Date;
  ip: string | null;
  userAgent: string | null;
  current: boolean;
};

/** Records a sign-in. Null when the user is gone (the sign-in is then refused). */
export async function startUserSession(
  db: Db,
  userId: string,
  meta: { ip: string | null; userAgent: string | null },
): Promise<SessionClaims | null> {
  return await db.$transaction(async (tx) => {
    const user = await tx.user.findUnique({ where: { id: userId }, select: { sessionVersion: true } });
    if (!user) return null;
    const session = await tx.userSession.create({
      data: { userId, ip: meta.ip, userAgent: meta.userAgent?.slice(0, MAX_USER_AGENT) ?? null },
      select: { id: true },
    });
    return { userId, sessionVersion: user.sessionVersion, sessionId: session.id };
  });
}

/**
 * Whether a session JWT still stands: its row exists, is not revoked, was seen within the cookie's lifetime, and
 * the user's session version is the one it was issued at. One query; lastSeenAt is bumped when it is over a minute
 * old.
 */
export async function sessionIsValid(db: Db, claims: SessionClaims, now: Date = new Date()): Promise<boolean> {
  if (!UUID.test(claims.sessionId) || !UUID.test(claims.userId)) return false;
  const rows = await db.$queryRaw<{ lastSeenAt: Date; sessionVersion: number }[]>`
    SELECT s."lastSeenAt", u."sessionVersion"
    FROM "UserSession" s JOIN "User" u ON u.id = s."userId"
    WHERE s.id = ${claims.sessionId}::uuid AND s."userId" = ${claims.userId}::uuid AND s."revokedAt" IS NULL`;
  const row = rows[0];
  if (!row || row.sessionVersion !== claims.sessionVersion) return false;
  const idle = now.getTime() - row.lastSeenAt.getTime();
  if (idle > SESSION_MAX_AGE_S * 1000) return false;
  if (idle > LAST_SEEN_RESOLUTION_MS) {
    await db.userSession.updateMany({
      where: { id: claims.sessionId, revokedAt: null },
      data: { lastSeenAt: now },
    });
  }
  return true;
}

/** Ends one session (sign out). Unknown or already revoked ids change nothing. */
export async function endUserSession(db: Db, sessionId: string): Promise<void> {
  await db.userSession.updateMany({ where: { id: sessionId, revokedAt: null }, data: { revokedAt: new Date() } });
}

/** Marks every open session row of the user revoked (sign out everywhere, password change or reset). */
export async function endAllUserSessions(db: Db | Tx, userId: string): Promise<void> {
  await db.userSession.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: new Date() } });
}

/** The user's open sessions, newest first; `currentSessionId` marks the browser asking. */
export async function listUserSessions(
  db: Db,
  userId: string,
  currentSessionId: string | null,
  now: Date = new Date(),
): Promise<UserSessionView[]> {
  const rows = await db.userSession.findMany({
    where: {
      userId,
      revokedAt: null,
      lastSeenAt: { gte: new Date(now.getTime() - SESSION_MAX_AGE_S * 1000) },
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: 100,
  });
  return rows.map((row) => ({
    id: row.id,
    createdAt: row.createdAt,
    lastSeenAt: row.lastSeenAt,
    ip: row.ip,
    userAgent: row.userAgent,
    current: row.id === currentSessionId,
  }));
}

/** Revokes one of the user's own sessions; another user's session id answers not found, like an unknown one. */
export async function revokeUserSession(db: Db, userId: string, sessionId: string): Promise<void> {
  const revoked = await db.userSession.updateMany({
    where: { id: sessionId, userId, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  if (revoked.count === 0) throw new AppError("not_found", "Session not found.");
}

/** Housekeeping (platform__prune): revoked rows, and sessions unseen for longer than their cookie lives. */
export async function pruneUserSessions(db: Db, now: Date = new Date()): Promise<number> {
  const removed = await db.userSession.deleteMany({
    where: {
      OR: [{ revokedAt: { not: null } }, { lastSeenAt: { lt: new Date(now.getTime() - SESSION_MAX_AGE_S * 1000) } }],
    },
  });
  return removed.count;
}
