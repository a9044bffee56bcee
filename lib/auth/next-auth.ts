// next-auth v5: email + password (Credentials), email links (Nodemailer, when SMTP is configured) and a generic
// OIDC provider (when configured). Sessions are JWTs carrying the user's session version; every request checks it
// against the database, so signing out everywhere or changing the password ends other sessions at once.
import NextAuth, { type NextAuthConfig } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import Nodemailer from "next-auth/providers/nodemailer";
import { tussilagoAdapter } from "@/lib/auth/adapter";
import { clientIpFrom } from "@/lib/auth/request-meta";
import { getDb } from "@/lib/db";
import { emailInput } from "@/lib/domain/schemas";
import { authenticateWithPassword, sessionUser } from "@/lib/domain/users";
import { queueEmail } from "@/lib/email";
import { deriveKey, getEnv } from "@/lib/env";
import { isAppError } from "@/lib/errors";
import { logger } from "@/lib/logger";

const SESSION_MAX_AGE_S = 30 * 24 * 60 * 60;

export function authConfig(): NextAuthConfig {
  const env = getEnv();
  // next-auth otherwise takes its own address from each request: from the Host or X-Forwarded-Host header in server
  // actions (which whoever sends the request controls: a forged host would put someone's sign-in token in a link to
  // another site) and from the server's own idea of it in route handlers (`localhost` under `next start`, so the
  // OIDC redirect_uri of the callback differed from the one the sign-in sent). AUTH_URL is next-auth's one setting
  // for this, and it reads it from the environment only: the public URL is the address every link and redirect uses,
  // and the OIDC redirect URI operators register (README).
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
        if (user?.id) {
          const fresh = await db.user.findUnique({ where: { id: user.id }, select: { sessionVersion: true } });
          if (!fresh) return null;
          token.uid = user.id;
          token.sv = fresh.sessionVersion;
          return token;
        }
        if (typeof token.uid !== "string" || typeof token.sv !== "number") return null;
        // The revocation check: a bumped session version ends this session.
        const current = await sessionUser(db, token.uid, token.sv);
        return current ? token : null;
      },
      async session({ session, token }) {
        if (typeof token.uid === "string") session.user.id = token.uid;
        return session;
      },
    },
  };
}

export const { handlers, auth, signIn, signOut } = NextAuth(() => authConfig());
