// next-auth v5: email + password (Credentials), email links (Nodemailer, when SMTP is configured) and a generic
// OIDC provider (when configured). Sessions are JWTs carrying the id of a server-side session row and the user's
// session version; every request checks both against the database in one query, so signing out (this session),
// revoking it from the account page, signing out everywhere or changing the password ends it at once, copied
// cookies included.
import { headers } from "next/headers";
import type { NextAuthConfig } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import Nodemailer from "next-auth/providers/nodemailer";
import { tussilagoAdapter } from "@/lib/auth/adapter";
import { clientIpFrom } from "@/lib/auth/request-meta";
import { endUserSession, SESSION_MAX_AGE_S, sessionIsValid, startUserSession } from "@/lib/auth/user-sessions";
import { getDb } from "@/lib/db";
import { emailInput } from "@/lib/domain/schemas";
import { authenticateWithPassword } from "@/lib/domain/users";
import { queueEmail } from "@/lib/email";
import { deriveKey, getEnv } from "@/lib/env";
import { isAppError } from "@/lib/errors";
import { logger } from "@/lib/logger";

/**
 * Where the sign-in came from, for the account page's session list: the request next-auth handles (its route
 * handler), else the request of the server action calling signIn(); outside any request, nothing.
 */
async function signInMeta(request: Headers | undefined): Promise<{ ip: string | null; userAgent: string | null }> {
  let current = request;
  if (!current) {
    try {
      current = await headers();
    } catch {
      return { ip: null, userAgent: null };
    }
  }
  return { ip: clientIpFrom(current), userAgent: current.get("user-agent") };
}

export function authConfig(requestHeaders?: Headers): NextAuthConfig {
  const env = getEnv();
  // next-auth otherwise takes its own address from each request: from the Host or X-Forwarded-Host header in server
  // actions (which whoever sends the request controls: a forged host would put someone's sign-in token in a link to
  // another site) and from the server's own idea of it in route handlers (`localhost` under `next start`, so the
  // OIDC redirect_uri of the callback differed from the one the sign-in sent). AUTH_URL is next-auth's one setting
  // for this, and it reads it from the environment only: the public URL is the address every link and redirect uses,
  // and the OIDC redirect URI operators register (docs/configuration.md).
  process.env.AUTH_URL = new URL(env.publicUrl).origin;
  const db = getDb();
  const log = logger({ component: "auth" });
  const providers: NextAuthConfig["providers"] = [
    Credentials({
      id: "password",
      credentials: { email: { type: "email" }, password: { type: "password" } },
      async authorize(credentials, request) {
        const email = emailInput.safeParse(credentials?.email);
        const password = typeof credentials?.password === "string" ? credentials.password : "";
        if (!email.success || !password) return null;
        try {
          const user = await authenticateWithPassword(db, {
            email: email.data,
            password,
            ip: clientIpFrom(request.headers),
          });
          return { id: user.id, email: user.email, name: user.name };
        } catch (error) {
          if (isAppError(error)) return null;
          throw error;
        }
      },
    }),
  ];
  if (env.smtp) {
    providers.push(
      Nodemailer({
        id: "email",
        server: env.smtp.url,
        from: env.smtp.from,
        maxAge: 15 * 60,
        // Sent by the worker like every other mail, so a slow SMTP server never holds up the request.
        async sendVerificationRequest({ identifier, url }) {
          await db.$transaction((tx) =>
            queueEmail(tx, {
              to: identifier,
              subject: "Sign in to Tussilago",
              text: `Sign in to Tussilago with this link (valid for 15 minutes):\n${url}\n\nIf you did not ask for it, ignore this email.`,
            }),
          );
        },
      }),
    );
  }
  if (env.oidc) {
    providers.push({
      id: "oidc",
      name: env.oidc.name,
      type: "oidc",
      issuer: env.oidc.issuer,
      clientId: env.oidc.clientId,
      clientSecret: env.oidc.clientSecret,
      allowDangerousEmailAccountLinking: false,
    });
  }
  return {
    secret: deriveKey("authSecret").toString("base64url"),
    basePath: "/api/auth",
    trustHost: true,
    adapter: tussilagoAdapter(db, log),
    session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_S },
    pages: { signIn: "/sign-in", error: "/sign-in", verifyRequest: "/sign-in/check-email" },
    providers,
    logger: {
      // next-auth wraps what went wrong (an issuer's error answer, a failed adapter call) in `cause.err`.
      error: (error) => {
        const cause = (error as { cause?: { err?: unknown } }).cause?.err;
        log.warn({ err: error, ...(cause instanceof Error ? { cause: cause.message } : {}) }, "auth error");
      },
      warn: (code) => log.warn({ code }, "auth warning"),
      debug: () => {},
    },
    callbacks: {
      async signIn({ account, profile }) {
        if (account?.type !== "oidc") return true;
        // The account is keyed by the issuer's subject, but the address becomes the account's email, which
        // invitations are bound to: refuse an issuer's user without one, or with one the issuer says is unverified.
        // (Issuers that never send email_verified, such as Entra ID, are taken at their word.)
        return typeof profile?.email === "string" && profile.email !== "" && profile.email_verified !== false;
      },
      async jwt({ token, user }) {
        // Every provider (password, email link, OIDC) passes here at sign-in: that is where the session row is born.
        if (user?.id) {
          const started = await startUserSession(db, user.id, await signInMeta(requestHeaders));
          if (!started) return null;
          token.uid = started.userId;
          token.sv = started.sessionVersion;
          token.sid = started.sessionId;
          return token;
        }
        // Tokens from before session rows existed carry no sid: they end, and their holder signs in again.
        if (typeof token.uid !== "string" || typeof token.sv !== "number" || typeof token.sid !== "string") {
          return null;
        }
        // The revocation check: a revoked or missing session row, or a bumped session version, ends this session.
        const valid = await sessionIsValid(db, { userId: token.uid, sessionVersion: token.sv, sessionId: token.sid });
        return valid ? token : null;
      },
      async session({ session, token }) {
        if (typeof token.uid === "string") session.user.id = token.uid;
        if (typeof token.sid === "string") session.sessionId = token.sid;
        return session;
      },
    },
    events: {
      // Sign out ends the session on the server too, so a copy of the cookie stops working with it.
      async signOut(message) {
        const sid = "token" in message ? message.token?.sid : undefined;
        if (typeof sid === "string") await endUserSession(db, sid);
      },
    },
  };
}
