import type { Metadata } from "next";
import { changePasswordAction } from "@/app/(portal)/account/actions";
import { signOutAction, signOutEverywhereAction } from "@/app/(portal)/actions";
import { firstParam, type SearchParams } from "@/app/search-params";
import { ChangePasswordForm } from "@/components/account/change-password-form";
import { ActionButton } from "@/components/action-button";
import { PortalHeader } from "@/components/portal-header";
import { Card, Notice, PageHeader } from "@/components/ui";
import { requireUser } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { listTeamsForUser } from "@/lib/domain/teams";

export const metadata: Metadata = { title: "Account" };

export default async function AccountPage({ searchParams }: { searchParams: SearchParams }) {
  const user = await requireUser("/account");
  const teams = await listTeamsForUser(getDb(), user.id);
  const changed = firstParam((await searchParams).password) === "changed";
  return (
    <div className="min-h-screen bg-zinc-50 dark:bg-zinc-950">
      <PortalHeader user={user} teams={teams} signOut={signOutAction} signOutEverywhere={signOutEverywhereAction} />
      <main className="mx-auto max-w-3xl space-y-6 px-4 py-10 sm:px-6">
        <PageHeader title="Account" description={user.name ? `${user.name} · ${user.email}` : user.email} />
        {changed ? (
          <Notice tone="success">Your password was changed and your other sessions were signed out.</Notice>
        ) : null}
        <Card title="Change password">
          <ChangePasswordForm action={changePasswordAction} />
        </Card>
        <Card
          title="Sessions"
          description="Signing out everywhere ends every session of your account, on every device, this one included."
        >
          <ActionButton
            action={signOutEverywhereAction}
            label="Sign out everywhere"
            variant="danger"
            confirm="End every session, here and on every other device?"
          />
        </Card>
      </main>
    </div>
  );
}
