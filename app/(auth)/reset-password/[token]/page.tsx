import type { Metadata } from "next";
import { resetPasswordWithToken } from "@/app/(auth)/reset-password/[token]/actions";
import { ResetPasswordForm } from "@/components/auth/auth-forms";
import { TextLink } from "@/components/ui";

export const metadata: Metadata = { title: "Set a new password" };

export default async function ResetPasswordPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  return (
    <div className="space-y-6">
      <div>
        <h1 className="font-bold text-xl tracking-tight">Set a new password</h1>
        <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
          Every session of the account ends when the new password is set.
        </p>
      </div>
      <ResetPasswordForm action={resetPasswordWithToken} token={token} />
      <p className="text-sm">
        <TextLink href="/forgot-password">Ask for a new link</TextLink>
      </p>
    </div>
  );
}
