"use server";

import { redirect } from "next/navigation";
import { AuthError } from "next-auth";
import { z } from "zod";
import { authPageHref, safeCallbackUrl } from "@/app/(auth)/callback-url";
import { publicAction } from "@/lib/actions";
import { signIn } from "@/lib/auth/next-auth";
import { emailInput, passwordInput, userName } from "@/lib/domain/schemas";
import { createUser } from "@/lib/domain/users";

export const signUp = publicAction(
  z.strictObject({
    name: userName,
    email: emailInput,
    password: passwordInput,
    callbackUrl: z.string().max(2000).optional(),
  }),
  async (input, { db }) => {
    await createUser(db, { email: input.email, password: input.password, name: input.name });
    try {
      // A brand-new account has no team yet, so without a callback the next step is creating one.
      await signIn("password", {
        email: input.email,
        password: input.password,
        redirectTo: safeCallbackUrl(input.callbackUrl) ?? "/teams/new",
      });
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      // The account exists now; the sign-in itself was refused (e.g. the per-IP limit): let them sign in by hand.
      redirect(authPageHref("/sign-in", input.callbackUrl, { created: "1" }));
    }
    return undefined;
  },
);
