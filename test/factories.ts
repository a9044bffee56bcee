// Seed helpers for integration tests. Each call makes fresh rows (random email suffixes), so tests in one file do
// not depend on each other's data. They go through the domain functions where those exist, so the rows look like
// real ones (owners' memberships, audit rows of team creation).
import { randomBytes, randomUUID } from "node:crypto";
import { newApiToken } from "@/lib/auth/tokens";
import { getDb } from "@/lib/db";
import { type Ctx, type RequestMeta, type Scope, userContext } from "@/lib/domain/context";
import { scopesInput } from "@/lib/domain/schemas";
import { createTeam, type TeamView } from "@/lib/domain/teams";
import { createUser, type PublicUser } from "@/lib/domain/users";
import type { Membership, Role } from "@/lib/generated/prisma/client";

function suffix(): string {
  return randomBytes(5).toString("hex");
}

/** Request metadata as a browser behind no proxy would give it; a fresh request ID each time. */
export function testMeta(overrides: Partial<RequestMeta> = {}): RequestMeta {
  return { requestId: randomUUID(), ip: "203.0.113.7", userAgent: "vitest", ...overrides };
}

/**
 * A user with a unique email. Without `password` the account has none (hashing costs time); pass one to sign in.
 * `admin` is exact: the domain makes the first account of an instance its administrator, which would otherwise
 * depend on which test happened to run first.
 */
export async function createTestUser(
  options: { email?: string; password?: string; admin?: boolean; name?: string } = {},
): Promise<PublicUser> {
  const email = options.email ?? `user-${suffix()}@example.test`;
  const user = await createUser(getDb(), {
    email,
    password: options.password ?? null,
    name: options.name ?? null,
    admin: options.admin ?? false,
  });
  const admin = options.admin ?? false;
  if (user.isAdmin === admin) return user;
  await getDb().user.update({ where: { id: user.id }, data: { isAdmin: admin } });
  return { ...user, isAdmin: admin };
}

/** A team owned by `ownerId`, created through the domain (owner membership and a team.created audit row). */
export async function createTestTeam(ownerId: string, name?: string): Promise<TeamView> {
  return await createTeam(getDb(), { userId: ownerId, name: name ?? `Team ${suffix()}`, meta: testMeta() });
}

export async function addMember(teamId: string, userId: string, role: Role): Promise<Membership> {
  return await getDb().membership.create({ data: { teamId, userId, role } });
}

/**
 * A team API token; returns the raw token for `Authorization: Bearer`. Inserted directly (no audit row), so audit
 * assertions only see what the test itself does. `write` implies `read`, as in the domain.
 */
export async function createTestToken(
  teamId: string,
  scopes: Scope[],
  options: { name?: string; expiresAt?: Date | null; revokedAt?: Date | null } = {},
): Promise<string> {
  const { token, hash, prefix } = newApiToken();
  await getDb().apiToken.create({
    data: {
      teamId,
      name: options.name ?? `token-${suffix()}`,
      prefix,
      tokenHash: hash,
      scopes: scopesInput.parse(scopes),
      expiresAt: options.expiresAt ?? null,
      revokedAt: options.revokedAt ?? null,
    },
  });
  return token;
}

/** The context of `userId` acting in `teamId`, through the same membership check the portal uses. */
export async function userCtx(userId: string, teamId: string): Promise<Ctx> {
  return await userContext(getDb(), userId, teamId, testMeta());
}
