// Server-side sessions: a sign-in writes a row the JWT points at, and ending the row ends the JWT, copied cookies
// included. The sign-in, session and sign-out requests go through next-auth's own request handler (Auth) with the
// portal's config, as the browser's would.
import { randomUUID } from "node:crypto";
import { Auth, skipCSRFCheck } from "@auth/core";
import { describe, expect, it } from "vitest";
import { authConfig } from "@/lib/auth/auth-config";
import { CLIENT_IP_HEADER } from "@/lib/auth/request-meta";
import {
  LAST_SEEN_RESOLUTION_MS,
  listUserSessions,
  pruneUserSessions,
  revokeUserSession,
  SESSION_MAX_AGE_S,
  sessionIsValid,
  startUserSession,
} from "@/lib/auth/user-sessions";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { changePassword, revokeSessions } from "@/lib/domain/users";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { createTestUser } from "@/test/factories";

const PASSWORD = "correct horse battery staple";
const COOKIE = "authjs.session-token";

function url(path: string): string {
  return `${new URL(getEnv().publicUrl).origin}/api/auth${path}`;
}

async function authRequest(path: string, init: { method?: string; cookie?: string; form?: Record<string, string> }) {
  const headers = new Headers({ [CLIENT_IP_HEADER]: "192.0.2.77", "user-agent": "sessions-test" });
  if (init.cookie) headers.set("cookie", `${COOKIE}=${init.cookie}`);
  if (init.form) headers.set("content-type", "application/x-www-form-urlencoded");
  const request = new Request(url(path), {
    method: init.method ?? "GET",
    headers,
    ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
  });
  return await Auth(request, { ...authConfig(request.headers), skipCSRFCheck });
}

function sessionCookieOf(response: Response): string | null {
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(";");
    const [name, value] = (pair ?? "").split("=");
    if (name === COOKIE) return value ?? "";
  }
  return null;
}

async function signIn(email: string): Promise<string> {
  const response = await authRequest("/callback/password", { method: "POST", form: { email, password: PASSWORD } });
  const cookie = sessionCookieOf(response);
  if (!cookie) throw new Error(`sign-in set no session cookie (status ${response.status})`);
  return cookie;
}

async function sessionUserId(cookie: string): Promise<string | null> {
  const response = await authRequest("/session", { cookie });
  const body = (await response.json()) as { user?: { id?: string } } | null;
  return body?.user?.id ?? null;
}

describe("portal sessions", () => {
  it("refuses a copied session cookie once its browser signed out", async () => {
    const user = await createTestUser({ password: PASSWORD });
    const cookie = await signIn(user.email);
    const copy = cookie;
    expect(await sessionUserId(cookie)).toBe(user.id);

    const signedOut = await authRequest("/signout", { method: "POST", cookie, form: { callbackUrl: "/sign-in" } });
    expect(signedOut.status).toBeLessThan(400);

    expect(await sessionUserId(copy)).toBeNull();
    const rows = await getDb().userSession.findMany({ where: { userId: user.id } });
    expect(rows).toHaveLength(1);
    expect(rows[0]?.revokedAt).toBeInstanceOf(Date);
  });

  it("records each sign-in with its address and browser, and signing out one leaves the other", async () => {
    const user = await createTestUser({ password: PASSWORD });
    const laptop = await signIn(user.email);
    const phone = await signIn(user.email);
    const sessions = await listUserSessions(getDb(), user.id, null);
    expect(sessions).toHaveLength(2);
    expect(sessions[0]).toMatchObject({ ip: "192.0.2.77", userAgent: "sessions-test", current: false });

    await authRequest("/signout", { method: "POST", cookie: laptop, form: { callbackUrl: "/sign-in" } });
    expect(await sessionUserId(laptop)).toBeNull();
    expect(await sessionUserId(phone)).toBe(user.id);
  });

  it("ends every session row on sign out everywhere and on a password change", async () => {
    const user = await createTestUser({ password: PASSWORD });
    const first = await signIn(user.email);
    await revokeSessions(getDb(), user.id);
    expect(await sessionUserId(first)).toBeNull();
    expect(await listUserSessions(getDb(), user.id, null)).toEqual([]);

    const second = await signIn(user.email);
    await changePassword(getDb(), user.id, { currentPassword: PASSWORD, newPassword: `${PASSWORD} again` });
    expect(await sessionUserId(second)).toBeNull();
    expect(await listUserSessions(getDb(), user.id, null)).toEqual([]);
  });

  it("refuses a JWT without a session id (issued before session rows) and one whose row is gone", async () => {
    const user = await createTestUser({ password: PASSWORD });
    const jwt = authConfig().callbacks?.jwt;
    if (!jwt) throw new Error("no jwt callback");
    const legacy = await jwt({ token: { uid: user.id, sv: 0 }, account: null } as Parameters<typeof jwt>[0]);
    expect(legacy).toBeNull();

    const started = await startUserSession(getDb(), user.id, { ip: null, userAgent: null });
    if (!started) throw new Error("no session");
    const token = { uid: user.id, sv: started.sessionVersion, sid: started.sessionId };
    expect(await jwt({ token, account: null } as Parameters<typeof jwt>[0])).toMatchObject(token);
    await getDb().userSession.delete({ where: { id: started.sessionId } });
    expect(await jwt({ token, account: null } as Parameters<typeof jwt>[0])).toBeNull();
  });

  it("checks a session in one query and writes lastSeenAt at most about once a minute", async () => {
    const user = await createTestUser();
    const claims = await startUserSession(getDb(), user.id, { ip: null, userAgent: null });
    if (!claims) throw new Error("no session");
    const created = await getDb().userSession.findUniqueOrThrow({ where: { id: claims.sessionId } });

    const soon = new Date(created.lastSeenAt.getTime() + LAST_SEEN_RESOLUTION_MS / 2);
    const fresh = await countQueries(() => sessionIsValid(getDb(), claims, soon));
    expect(fresh.result).toBe(true);
    expect(fresh.count).toBe(1);
    const unchanged = await getDb().userSession.findUniqueOrThrow({ where: { id: claims.sessionId } });
    expect(unchanged.lastSeenAt).toEqual(created.lastSeenAt);

    const later = new Date(created.lastSeenAt.getTime() + 2 * LAST_SEEN_RESOLUTION_MS);
    expect(await sessionIsValid(getDb(), claims, later)).toBe(true);
    const bumped = await getDb().userSession.findUniqueOrThrow({ where: { id: claims.sessionId } });
    expect(bumped.lastSeenAt).toEqual(later);

    // A session unseen for longer than the cookie lives is over.
    const expired = new Date(later.getTime() + (SESSION_MAX_AGE_S + 1) * 1000);
    expect(await sessionIsValid(getDb(), claims, expired)).toBe(false);
  });
});

describe("revokeUserSession", () => {
  it("ends the user's own session and answers not found for another user's", async () => {
    const alice = await createTestUser();
    const mallory = await createTestUser();
    const aliceSession = await startUserSession(getDb(), alice.id, { ip: null, userAgent: "alice" });
    if (!aliceSession) throw new Error("no session");

    const refused = await revokeUserSession(getDb(), mallory.id, aliceSession.sessionId).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe("not_found");
    expect(await sessionIsValid(getDb(), aliceSession)).toBe(true);

    const unknown = await revokeUserSession(getDb(), alice.id, randomUUID()).catch((error: unknown) => error);
    expect((unknown as AppError).code).toBe("not_found");

    await revokeUserSession(getDb(), alice.id, aliceSession.sessionId);
    expect(await sessionIsValid(getDb(), aliceSession)).toBe(false);
  });

  it("lists only the user's open sessions, the asking one marked", async () => {
    const user = await createTestUser();
    const other = await createTestUser();
    const here = await startUserSession(getDb(), user.id, { ip: "192.0.2.1", userAgent: "here" });
    const there = await startUserSession(getDb(), user.id, { ip: "192.0.2.2", userAgent: "there" });
    const gone = await startUserSession(getDb(), user.id, { ip: null, userAgent: "gone" });
    await startUserSession(getDb(), other.id, { ip: null, userAgent: "someone else" });
    if (!here || !there || !gone) throw new Error("no session");
    await revokeUserSession(getDb(), user.id, gone.sessionId);

    const listed = await listUserSessions(getDb(), user.id, here.sessionId);
    expect(listed.map((session) => [session.userAgent, session.current])).toEqual([
      ["there", false],
      ["here", true],
    ]);
  });
});

describe("pruneUserSessions", () => {
  it("deletes revoked rows and sessions unseen for longer than a cookie lives, and keeps the rest", async () => {
    const user = await createTestUser();
    const open = await startUserSession(getDb(), user.id, { ip: null, userAgent: "open" });
    const revoked = await startUserSession(getDb(), user.id, { ip: null, userAgent: "revoked" });
    const stale = await startUserSession(getDb(), user.id, { ip: null, userAgent: "stale" });
    if (!open || !revoked || !stale) throw new Error("no session");
    await revokeUserSession(getDb(), user.id, revoked.sessionId);
    await getDb().userSession.update({
      where: { id: stale.sessionId },
      data: { lastSeenAt: new Date(Date.now() - (SESSION_MAX_AGE_S + 60) * 1000) },
    });

    await pruneUserSessions(getDb());
    const left = await getDb().userSession.findMany({ where: { userId: user.id }, select: { id: true } });
    expect(left.map((row) => row.id)).toEqual([open.sessionId]);
  });
});
