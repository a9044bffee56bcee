import type { Metadata } from "next";
import { changePasswordAction, revokeSessionAction } from "@/app/(portal)/account/actions";
import { signOutAction, signOutEverywhereAction } from "@/app/(portal)/actions";
import { firstParam, type SearchParams } from "@/app/search-params";
import { ChangePasswordForm } from "@/components/account/change-password-form";
import { ActionButton } from "@/components/action-button";
import { PortalHeader } from "@/components/portal-header";
import { Badge, Card, DateTime, Notice, PageHeader } from "@/components/ui";
import { currentSessionId, requireUser } from "@/lib/auth/session";
import { listUserSessions } from "@/lib/auth/user-sessions";
import { getDb } from "@/lib/db";
import { listTeamsForUser } from "@/lib/domain/teams";

export const metadata: Metadata = { title: "Account" };

export default async function AccountPage({ searchParams }: { searchParams: SearchParams }) {
  const user = await requireUser("/account");
  const teams = await listTeamsForUser(getDb(), user.id);
  const sessions = await listUserSessions(getDb(), user.id, await currentSessionId());
  const changed = firstParam((await searchParams).password) === "changed";
  return (
    <div className="min-h-screen bg-zinc-50 dark:bg-zinc-950">
      <PortalHeader user={user} teams={teams} signOut={signOutAction} signOutEverywhere={signOutEverywhereAction} />
      <main id="main" className="mx-auto max-w-3xl space-y-6 px-4 py-10 sm:px-6">
        <PageHeader title="Account" description={user.name ? `${user.name} · ${user.email}` : user.email} />
        {changed ? (
          <Notice tone="success">Your password was changed and your other sessions were signed out.</Notice>
        ) : null}
        <Card title="Change password">
          <ChangePasswordForm action={changePasswordAction} />
        </Card>
        <Card
          title="Sessions"
          description="Where your account is signed in. Signing out everywhere ends every session of your account, on every device, this one included."
        >
          <ul aria-label="Sessions" className="mb-4 divide-y divide-zinc-200 dark:divide-zinc-800">
            {sessions.map((session) => (
              <li key={session.id} className="flex flex-col gap-2 py-3 md:flex-row md:items-start md:justify-between">
                <div className="min-w-0 space-y-1">
                  <p className="flex flex-wrap items-center gap-2">
                    <span className="truncate font-medium">{session.userAgent ?? "Unknown browser"}</span>
                    {session.current ? <Badge tone="green">this session</Badge> : null}
                  </p>
                  <p className="text-xs text-zinc-500">
                    Signed in <DateTime value={session.createdAt} /> · last seen <DateTime value={session.lastSeenAt} />{" "}
                    · IP {session.ip ?? "unknown"}
                  </p>
                </div>
                {session.current ? null : (
                  <ActionButton
                    action={revokeSessionAction}
                    fields={{ sessionId: session.id }}
                    label="Sign out"
                    variant="danger-soft"
                    confirm="Sign this session out?"
                  />
                )}
              </li>
            ))}
          </ul>
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
