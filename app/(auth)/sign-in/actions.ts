"use server";

import { redirect } from "next/navigation";
import { AuthError } from "next-auth";
import { z } from "zod";
import { safeCallbackUrl } from "@/app/(auth)/callback-url";
import { publicAction } from "@/lib/actions";
import { signIn } from "@/lib/auth/next-auth";
import { PASSWORD_MAX_LENGTH } from "@/lib/auth/password";
import { EMAIL_REQUESTS_PER_IP, enforceRateLimit, perIp } from "@/lib/domain/rate-limit";
import { emailInput } from "@/lib/domain/schemas";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { logger } from "@/lib/logger";

// Wrong password, unknown account and rate limit all surface from next-auth as the same CredentialsSignin: one
// message for all of them, so the answer never tells which emails have accounts.
const SIGN_IN_FAILED = "The email or password is incorrect.";

const callbackUrl = z.string().max(2000).optional();

export const signInWithPassword = publicAction(
  z.strictObject({
    email: emailInput,
    password: z.string().min(1, "Enter your password.").max(PASSWORD_MAX_LENGTH, SIGN_IN_FAILED),
    callbackUrl,
  }),
  async (input, { meta }) => {
    try {
      // Throws a redirect on success, which the wrapper passes through.
      await signIn("password", {
        email: input.email,
        password: input.password,
        redirectTo: safeCallbackUrl(input.callbackUrl) ?? "/teams",
      });
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      if (error.type === "CredentialsSignin") return { status: "error", message: SIGN_IN_FAILED };
      logger({ requestId: meta.requestId }).error({ err: error }, "password sign-in failed");
      return { status: "error", message: `Signing in failed on our side (reference ${meta.requestId}).` };
    }
    return undefined;
  },
);

export const signInWithEmailLink = publicAction(
  z.strictObject({ email: emailInput, callbackUrl }),
  async (input, { db, meta }) => {
    if (!getEnv().smtp) throw new AppError("unavailable", "Sign-in links by email are not configured here.");
    // next-auth's email provider has no limit of its own; share the bucket password-reset requests use.
    if (meta.ip) {
      await enforceRateLimit(
        db,
        `email:ip:${meta.ip}`,
        perIp(EMAIL_REQUESTS_PER_IP),
        "Too many requests. Try again later.",
      );
    }
    try {
      // Without `redirect: false`, next-auth sends the browser to its own /api/auth/verify-request, which redirects
      // again: the client router then shows the page under the API address.
      await signIn("email", {
        email: input.email,
        redirectTo: safeCallbackUrl(input.callbackUrl) ?? "/teams",
        redirect: false,
      });
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      logger({ requestId: meta.requestId }).warn({ err: error }, "email link sign-in failed");
      return { status: "error", message: "We could not send a sign-in link. Try again in a moment." };
    }
    redirect("/sign-in/check-email");
  },
);

export const signInWithOidc = publicAction(z.strictObject({ callbackUrl }), async (input) => {
  if (!getEnv().oidc) throw new AppError("unavailable", "Single sign-on is not configured here.");
  await signIn("oidc", { redirectTo: safeCallbackUrl(input.callbackUrl) ?? "/teams" });
  return undefined;
});
