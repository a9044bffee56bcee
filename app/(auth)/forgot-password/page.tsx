import type { Metadata } from "next";
import { connection } from "next/server";
import { requestReset } from "@/app/(auth)/forgot-password/actions";
import { ForgotPasswordForm } from "@/components/auth/auth-forms";
import { Notice, TextLink } from "@/components/ui";
import { getEnv } from "@/lib/env";

export const metadata: Metadata = { title: "Reset your password" };

export default async function ForgotPasswordPage() {
  // Rendered per request: whether mail is configured is runtime configuration, not something to bake into the build.
  await connection();
  const smtp = getEnv().smtp;
  return (
    <div className="space-y-6">
      <div>
        <h1 className="font-bold text-xl tracking-tight">Reset your password</h1>
        {smtp ? (
          <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
            Enter the email you sign in with and we will send you a link to set a new password.
          </p>
        ) : null}
      </div>
      {smtp ? (
        <ForgotPasswordForm action={requestReset} />
      ) : (
        <Notice title="Not available here">
          This instance does not send email. Ask an administrator for a reset link (
          <code className="font-mono text-xs">npm run manage -- reset-password --email …</code>).
        </Notice>
      )}
      <p className="text-sm">
        <TextLink href="/sign-in">Back to sign in</TextLink>
      </p>
    </div>
  );
}
