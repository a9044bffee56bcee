import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { authPageHref, safeCallbackUrl } from "@/app/(auth)/callback-url";
import { signUp } from "@/app/(auth)/sign-up/actions";
import { firstParam, type SearchParams } from "@/app/search-params";
import { SignUpForm } from "@/components/auth/auth-forms";
import { TextLink } from "@/components/ui";
import { currentUser } from "@/lib/auth/session";

export const metadata: Metadata = { title: "Sign up" };

export default async function SignUpPage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  const callbackUrl = safeCallbackUrl(firstParam(params.callbackUrl));
  if (await currentUser()) redirect(callbackUrl ?? "/teams");
  // Prefilled from an invitation link; only a default, the person can change it.
  const email = (firstParam(params.email) ?? "").slice(0, 254);

  return (
    <div className="space-y-6">
      <div>
        <h1 className="font-bold text-xl tracking-tight">Create your account</h1>
        <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">Deploy and run your apps on your own servers.</p>
      </div>
      <SignUpForm action={signUp} callbackUrl={callbackUrl} email={email} />
      <p className="text-sm text-zinc-600 dark:text-zinc-400">
        Already have an account? <TextLink href={authPageHref("/sign-in", callbackUrl)}>Sign in</TextLink>
      </p>
    </div>
  );
}
