"use server";

import { redirect } from "next/navigation";
import { z } from "zod";
import { authPageHref } from "@/app/(auth)/callback-url";
import { publicAction } from "@/lib/actions";
import { emailInput, passwordInput, userName } from "@/lib/domain/schemas";
import { signUpWithPassword } from "@/lib/domain/users";

// Every sign-up ends on the sign-in page with one neutral notice, whether the address was new or already had an
// account: signing a new account straight in would tell the two apart (lib/domain/users.ts, signUpWithPassword).
export const signUp = publicAction(
  z.strictObject({
    name: userName,
    email: emailInput,
    password: passwordInput,
    callbackUrl: z.string().max(2000).optional(),
  }),
  async (input, { db, meta }) => {
    await signUpWithPassword(db, { email: input.email, password: input.password, name: input.name, ip: meta.ip });
    // A brand-new account has no team yet: /teams, the default after signing in, sends it on to create one.
    redirect(authPageHref("/sign-in", input.callbackUrl, { created: "1" }));
  },
);
