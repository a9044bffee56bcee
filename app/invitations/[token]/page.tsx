import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { authPageHref } from "@/app/(auth)/callback-url";
import { signOutAction } from "@/app/(portal)/actions";
import { acceptInvitationAction } from "@/app/invitations/[token]/actions";
import { ActionButton } from "@/components/action-button";
import { buttonClass, Notice, TextLink } from "@/components/ui";
import { currentUser } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { type InvitationPreview, previewInvitation } from "@/lib/domain/invitations";
import { isAppError } from "@/lib/errors";

export const metadata: Metadata = { title: "Invitation", referrer: "no-referrer" };

const ROLE_TEXT: Record<string, string> = {
  owner: "an owner",
  admin: "an admin",
  member: "a member",
  viewer: "a viewer",
};

function Frame({ children }: { children: ReactNode }) {
  return (
    <main id="main" className="flex min-h-screen flex-col items-center bg-zinc-50 px-4 py-12 sm:py-20 dark:bg-zinc-950">
      <Link href="/" className="mb-8 font-semibold text-brand-900 text-sm tracking-wide dark:text-brand-400">
        TUSSILAGO
      </Link>
      <div className="w-full max-w-md space-y-5 rounded-xl border border-zinc-200 bg-white p-6 shadow-sm sm:p-8 dark:border-zinc-800 dark:bg-zinc-900">
        {children}
      </div>
    </main>
  );
}

export default async function InvitationPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  let preview: InvitationPreview;
  try {
    preview = await previewInvitation(getDb(), token);
  } catch (error) {
    if (!isAppError(error) || error.code !== "not_found") throw error;
    return (
      <Frame>
        <h1 className="font-bold text-xl tracking-tight">Invitation not found</h1>
        <Notice tone="error">
          This invitation link is not valid. Check that you copied all of it, or ask the team for a new one.
        </Notice>
      </Frame>
    );
  }

  const here = `/invitations/${token}`;
  const heading = (
    <div>
      <p className="text-sm text-zinc-500">You are invited to join</p>
      <h1 className="font-bold text-2xl tracking-tight">{preview.teamName}</h1>
      <p className="mt-2 text-sm text-zinc-600 dark:text-zinc-400">
        as {ROLE_TEXT[preview.role] ?? preview.role}. The invitation was sent to{" "}
        <strong className="font-medium text-zinc-900 dark:text-zinc-100">{preview.email}</strong>.
      </p>
    </div>
  );

  if (preview.status !== "pending") {
    const why = {
      accepted: "This invitation was already used.",
      revoked: "This invitation was revoked.",
      expired: "This invitation has expired.",
    }[preview.status];
    return (
      <Frame>
        {heading}
        <Notice tone="error">{why} Ask someone in the team to invite you again.</Notice>
      </Frame>
    );
  }

  const user = await currentUser();
  if (!user) {
    return (
      <Frame>
        {heading}
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          Sign in or create an account with that email to accept.
        </p>
        <div className="flex flex-col gap-2 sm:flex-row">
          <Link
            href={authPageHref("/sign-up", here, { email: preview.email })}
            className={buttonClass("primary", "flex-1")}
          >
            Sign up
          </Link>
          <Link href={authPageHref("/sign-in", here)} className={buttonClass("secondary", "flex-1")}>
            Sign in
          </Link>
        </div>
      </Frame>
    );
  }

  if (user.email !== preview.email) {
    return (
      <Frame>
        {heading}
        <Notice tone="warning" title="This invitation is for someone else">
          This invitation was sent to {preview.email}; you are signed in as {user.email}. Sign out, then sign in or sign
          up as {preview.email} to accept it.
        </Notice>
        <ActionButton action={signOutAction} label="Sign out" fields={{ returnTo: here }} />
      </Frame>
    );
  }

  return (
    <Frame>
      {heading}
      <ActionButton action={acceptInvitationAction} label="Accept" variant="primary" fields={{ token }} fullWidth />
      <p className="text-sm text-zinc-500">
        Not now? <TextLink href="/teams">Go to your teams</TextLink>
      </p>
    </Frame>
  );
}
