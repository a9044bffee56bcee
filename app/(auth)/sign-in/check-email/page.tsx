import type { Metadata } from "next";
import { TextLink } from "@/components/ui";

export const metadata: Metadata = { title: "Check your email" };

export default function CheckEmailPage() {
  return (
    <div className="space-y-4">
      <h1 className="font-bold text-xl tracking-tight">Check your email</h1>
      <p className="text-sm text-zinc-600 dark:text-zinc-400">
        If the address can sign in here, a sign-in link is on its way. It works once, for 15 minutes. You can close this
        tab.
      </p>
      <p className="text-sm">
        <TextLink href="/sign-in">Back to sign in</TextLink>
      </p>
    </div>
  );
}
