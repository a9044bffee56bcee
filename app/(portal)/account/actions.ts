"use server";

import { refresh } from "next/cache";
import { redirect } from "next/navigation";
import { AuthError } from "next-auth";
import { z } from "zod";
import { userAction } from "@/lib/actions";
import { signIn } from "@/lib/auth/next-auth";
import { PASSWORD_MAX_LENGTH } from "@/lib/auth/password";
import { revokeUserSession } from "@/lib/auth/user-sessions";
import { passwordInput } from "@/lib/domain/schemas";
import { changePassword } from "@/lib/domain/users";

export const changePasswordAction = userAction(
  z
    .strictObject({
      currentPassword: z.string().max(PASSWORD_MAX_LENGTH),
      newPassword: passwordInput,
      confirmPassword: z.string(),
    })
    .refine((input) => input.newPassword === input.confirmPassword, {
      path: ["confirmPassword"],
      message: "The passwords do not match.",
    }),
  async (input, { db, user }) => {
    await changePassword(db, user.id, { currentPassword: input.currentPassword, newPassword: input.newPassword });
    // Changing the password ends every session, this one included; sign this browser straight back in.
    try {
      await signIn("password", {
        email: user.email,
        password: input.newPassword,
        redirectTo: "/account?password=changed",
      });
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      redirect("/sign-in?reset=1");
    }
    return undefined;
  },
);

/** Ends one of the user's own sessions (another device); another user's session ID answers "not found". */
export const revokeSessionAction = userAction(z.strictObject({ sessionId: z.uuid() }), async (input, { db, user }) => {
  await revokeUserSession(db, user.id, input.sessionId);
  refresh();
  return { status: "success", message: "The session was signed out." };
});
