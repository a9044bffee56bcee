import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { signOutAction, signOutEverywhereAction } from "@/app/(portal)/actions";
import { PortalHeader } from "@/components/portal-header";
import { PageHeader } from "@/components/ui";
import { requireUser } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { hostCheckState } from "@/lib/domain/host-checks";
import { listTeamsForUser } from "@/lib/domain/teams";
import { pollHostChecks, runHostChecksAction } from "./actions";
import { HostChecksLive } from "./host-checks-live";

export const metadata: Metadata = { title: "Host readiness" };

// Instance administrators only: for everyone else this page does not exist.
export default async function HostPage() {
  const user = await requireUser("/admin/host");
  if (!user.isAdmin) notFound();
  const db = getDb();
  const [teams, state] = await Promise.all([listTeamsForUser(db, user.id), hostCheckState(db, user)]);
  return (
    <div className="min-h-screen bg-zinc-50 dark:bg-zinc-950">
      <PortalHeader user={user} teams={teams} signOut={signOutAction} signOutEverywhere={signOutEverywhereAction} />
      <main id="main" className="mx-auto max-w-3xl space-y-6 px-4 py-10 sm:px-6">
        <PageHeader
          title="Host readiness"
          description="What running apps needs from this machine: podman, the sandbox runtime, the base image, Caddy's admin API and the firewall. The same checks as npm run manage -- check, run by the worker."
        />
        <HostChecksLive
          initial={{
            report: state.report
              ? {
                  ok: state.report.ok,
                  sections: state.report.sections,
                  createdAt: state.report.createdAt.toISOString(),
                }
              : null,
            running: state.running !== null,
          }}
          runAction={runHostChecksAction}
          poll={pollHostChecks}
        />
      </main>
    </div>
  );
}
