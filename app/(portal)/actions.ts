"use server";

import { z } from "zod";
import { authPageHref } from "@/app/(auth)/callback-url";
import { userAction } from "@/lib/actions";
import { signOut } from "@/lib/auth/next-auth";
import { revokeSessions } from "@/lib/domain/users";

// `returnTo` lets the invitation page send someone signed in with the wrong account to sign in again and come back.
const signOutInput = z.strictObject({ returnTo: z.string().max(2000).optional() });

/** Ends this browser's session. */
export const signOutAction = userAction(signOutInput, async (input) => {
  await signOut({ redirectTo: authPageHref("/sign-in", input.returnTo) });
  return undefined;
});

/** Ends every session of the account, on every device, then this one. */
export const signOutEverywhereAction = userAction(signOutInput, async (input, { db, user }) => {
  await revokeSessions(db, user.id);
  await signOut({ redirectTo: authPageHref("/sign-in", input.returnTo) });
  return undefined;
});
