// The next-auth adapter over our own tables: the minimum next-auth needs for email links and OIDC account linking.
// Kept apart from lib/auth/next-auth.ts (which imports next-auth's runtime) so it can be tested on its own.
import type { Adapter, AdapterUser } from "next-auth/adapters";
import type { Logger } from "pino";
import { sha256 } from "@/lib/auth/tokens";
import { endAllUserSessions } from "@/lib/auth/user-sessions";
import type { Db } from "@/lib/db";
import { createUser, type PublicUser } from "@/lib/domain/users";

function adapterUser(user: PublicUser & { emailVerifiedAt?: Date | null }): AdapterUser {
  return { id: user.id, email: user.email, name: user.name, emailVerified: user.emailVerifiedAt ?? null };
}

export function tussilagoAdapter(db: Db, log: Logger): Adapter {
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
      const updated = await db.$transaction(async (tx) => {
        const current = await tx.user.findUnique({
          where: { id: user.id },
          select: { emailVerifiedAt: true, passwordHash: true },
        });
        // An email link proves the address for the first time. A password set before that was set by whoever
        // signed up with the address, who may not own it (a squatter waiting for the owner to sign in by link):
        // the password goes and every earlier session ends; the owner can set a new password from the account page.
        const firstProof = Boolean(user.emailVerified) && current?.emailVerifiedAt === null;
        const dropPassword = firstProof && current?.passwordHash !== null;
        if (dropPassword)
          log.warn({ userId: user.id }, "first verified sign-in by email link: unverified password removed");
        const updated = await tx.user.update({
          where: { id: user.id },
          data: {
            ...(user.emailVerified ? { emailVerifiedAt: user.emailVerified } : {}),
            ...(user.name ? { name: user.name } : {}),
            ...(dropPassword ? { passwordHash: null, sessionVersion: { increment: 1 } } : {}),
          },
        });
        if (dropPassword) await endAllUserSessions(tx, user.id);
        return updated;
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
