import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { authPageHref, safeCallbackUrl } from "@/app/(auth)/callback-url";
import { signInWithEmailLink, signInWithOidc, signInWithPassword } from "@/app/(auth)/sign-in/actions";
import { firstParam, type SearchParams } from "@/app/search-params";
import { ActionButton } from "@/components/action-button";
import { EmailLinkForm, PasswordSignInForm } from "@/components/auth/auth-forms";
import { Notice, TextLink } from "@/components/ui";
import { currentUser } from "@/lib/auth/session";
import { getEnv } from "@/lib/env";

export const metadata: Metadata = { title: "Sign in" };

// next-auth sends people back here with `?error=<type>` when an email link or single sign-on fails.
function errorMessage(error: string | undefined): string | null {
  if (!error) return null;
  switch (error) {
    case "CredentialsSignin":
      return "The email or password is incorrect.";
    case "Verification":
      return "This sign-in link is invalid or has expired. Ask for a new one.";
    case "OAuthAccountNotLinked":
      return "This email already has an account that signs in another way. Sign in that way first.";
    case "AccessDenied":
      return "Access was denied.";
    default:
      return "Signing in did not work. Try again.";
  }
}

export default async function SignInPage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  const callbackUrl = safeCallbackUrl(firstParam(params.callbackUrl));
  if (await currentUser()) redirect(callbackUrl ?? "/teams");
  const env = getEnv();
  const error = errorMessage(firstParam(params.error));

  return (
    <div className="space-y-6">
      <div>
        <h1 className="font-bold text-xl tracking-tight">Sign in</h1>
        <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">Welcome back to Tussilago.</p>
      </div>
      {error ? <Notice tone="error">{error}</Notice> : null}
      {firstParam(params.reset) ? (
        <Notice tone="success">Your password was changed. Sign in with the new one.</Notice>
      ) : null}
      {firstParam(params.created) ? (
        // Neutral on purpose: sign-up answers the same whether or not the address already had an account.
        <Notice tone="success">
          If this email address was new here, your account is ready: sign in with the password you chose. If it already
          had an account, nothing changed: sign in with that account.
          {env.smtp ? " We sent a message to the address either way." : ""}
        </Notice>
      ) : null}
      <PasswordSignInForm action={signInWithPassword} callbackUrl={callbackUrl} />
      {/* Always shown: without mail, the page it leads to says how an administrator makes a reset link. */}
      <p className="text-sm">
        <TextLink href="/forgot-password">Forgot password?</TextLink>
      </p>
      {env.smtp || env.oidc ? (
        <div className="space-y-3 border-zinc-200 border-t pt-5 dark:border-zinc-800">
          {env.smtp ? <EmailLinkForm action={signInWithEmailLink} callbackUrl={callbackUrl} /> : null}
          {env.oidc ? (
            <ActionButton
              action={signInWithOidc}
              label={`Sign in with ${env.oidc.name}`}
              fields={callbackUrl ? { callbackUrl } : {}}
              fullWidth
            />
          ) : null}
        </div>
      ) : null}
      <p className="text-sm text-zinc-600 dark:text-zinc-400">
        No account yet? <TextLink href={authPageHref("/sign-up", callbackUrl)}>Sign up</TextLink>
      </p>
    </div>
  );
}
