// next-auth v5: email + password (Credentials), email links (Nodemailer, when SMTP is configured) and a generic
// OIDC provider (when configured). Sessions are JWTs carrying the user's session version; every request checks it
// against the database, so signing out everywhere or changing the password ends other sessions at once.
import NextAuth, { type NextAuthConfig } from "next-auth";
import type { Adapter, AdapterUser } from "next-auth/adapters";
import Credentials from "next-auth/providers/credentials";
import Nodemailer from "next-auth/providers/nodemailer";
import { clientIpFrom } from "@/lib/auth/request-meta";
import { sha256 } from "@/lib/auth/tokens";
import { type Db, getDb } from "@/lib/db";
import { emailInput } from "@/lib/domain/schemas";
import { authenticateWithPassword, createUser, type PublicUser, sessionUser } from "@/lib/domain/users";
import { queueEmail } from "@/lib/email";
import { deriveKey, getEnv } from "@/lib/env";
import { isAppError } from "@/lib/errors";
import { logger } from "@/lib/logger";

const SESSION_MAX_AGE_S = 30 * 24 * 60 * 60;

function adapterUser(user: PublicUser & { emailVerifiedAt?: Date | null }): AdapterUser {
  return { id: user.id, email: user.email, name: user.name, emailVerified: user.emailVerifiedAt ?? null };
}

// The minimum next-auth needs for email links and OIDC account linking, over our own tables.
function tussilagoAdapter(db: Db): Adapter {
  return {
    async createUser(user) {
      // next-auth sets emailVerified for email links (the link proved the address) and leaves it null for OIDC.
      const created = await createUser(db, {
        email: user.email.toLowerCase(),
        name: user.name ?? null,
        emailVerified: Boolean(user.emailVerified),
      });
      return adapterUser(created);
    },
    async getUser(id) {
      const user = await db.user.findUnique({ where: { id } });
      return user ? adapterUser(user) : null;
    },
    async getUserByEmail(email) {
      const user = await db.user.findUnique({ where: { email: email.toLowerCase() } });
      return user ? adapterUser(user) : null;
    },
    async getUserByAccount({ provider, providerAccountId }) {
      const account = await db.account.findUnique({
        where: { provider_providerAccountId: { provider, providerAccountId } },
        include: { user: true },
      });
      return account ? adapterUser(account.user) : null;
    },
    async updateUser(user) {
      const updated = await db.user.update({
        where: { id: user.id },
        data: {
          ...(user.emailVerified ? { emailVerifiedAt: user.emailVerified } : {}),
          ...(user.name ? { name: user.name } : {}),
        },
      });
      return adapterUser(updated);
    },
    async linkAccount(account) {
      await db.account.upsert({
        where: {
          provider_providerAccountId: { provider: account.provider, providerAccountId: account.providerAccountId },
        },
        create: { userId: account.userId, provider: account.provider, providerAccountId: account.providerAccountId },
        update: {},
      });
    },
    async createVerificationToken(token) {
      await db.verificationToken.create({
        data: {
          tokenHash: sha256(token.token),
          identifier: token.identifier,
          purpose: "sign-in",
          expiresAt: token.expires,
        },
      });
      return token;
    },
    async useVerificationToken({ identifier, token }) {
      const tokenHash = sha256(token);
      const row = await db.verificationToken.findFirst({ where: { tokenHash, identifier, purpose: "sign-in" } });
      if (!row) return null;
      const consumed = await db.verificationToken.deleteMany({ where: { tokenHash } });
      return consumed.count === 1 ? { identifier, token, expires: row.expiresAt } : null;
    },
  };
}

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
    adapter: tussilagoAdapter(db),
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
