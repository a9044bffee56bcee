// The signed-in user for pages and server actions. Pages check it for navigation; every action and domain call
// checks again (a page-level check does not cover the actions defined in it).
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { auth } from "@/lib/auth/next-auth";
import { requestMetaFrom } from "@/lib/auth/request-meta";
import { getDb } from "@/lib/db";
import type { RequestMeta } from "@/lib/domain/context";
import { type PublicUser, sessionUser } from "@/lib/domain/users";

/** The current user, or null. The session's version was already checked by next-auth's jwt callback. */
export async function currentUser(): Promise<PublicUser | null> {
  const session = await auth();
  const userId = session?.user?.id;
  if (!userId) return null;
  const user = await getDb().user.findUnique({ where: { id: userId } });
  return user ? await sessionUser(getDb(), user.id, user.sessionVersion) : null;
}

/** The id of this browser's server-side session row (marked "this session" on the account page). */
export async function currentSessionId(): Promise<string | null> {
  const session = await auth();
  return session?.sessionId ?? null;
}

export async function requireUser(returnTo?: string): Promise<PublicUser> {
  const user = await currentUser();
  if (!user) redirect(returnTo ? `/sign-in?callbackUrl=${encodeURIComponent(returnTo)}` : "/sign-in");
  return user;
}

export async function currentRequestMeta(): Promise<RequestMeta> {
  return requestMetaFrom(await headers());
}
