import type { Metadata } from "next";
import { notFound } from "next/navigation";
import type { ReactNode } from "react";
import { signOutAction, signOutEverywhereAction } from "@/app/(portal)/actions";
import { signedInUser, teamMembership } from "@/app/(portal)/teams/[teamId]/team-page";
import { PortalHeader } from "@/components/portal-header";
import { type NavItem, TeamNav } from "@/components/team-nav";
import { Badge } from "@/components/ui";
import { type Permission, roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import { listTeamsForUser } from "@/lib/domain/teams";

type Params = Promise<{ teamId: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { teamId } = await params;
  const user = await signedInUser();
  const membership = user ? await teamMembership(user.id, teamId) : null;
  if (!membership) return {};
  // The root layout's template does not reach through this one, so it repeats the product name.
  return { title: { default: membership.team.name, template: `%s · ${membership.team.name} · Tussilago` } };
}

// Entries a role cannot use are hidden; every page and action still checks on the server.
const SECTIONS: { path: string; label: string; permission: Permission }[] = [
  { path: "", label: "Overview", permission: "team:read" },
  { path: "/apps", label: "Apps", permission: "apps:read" },
  { path: "/members", label: "Members", permission: "members:read" },
  { path: "/invitations", label: "Invitations", permission: "invitations:read" },
  { path: "/notifications", label: "Notifications", permission: "notifications:read" },
  { path: "/tokens", label: "API tokens", permission: "tokens:read" },
  { path: "/audit", label: "Audit log", permission: "audit:read" },
  { path: "/settings", label: "Settings", permission: "team:update" },
];

export default async function TeamLayout({ children, params }: { children: ReactNode; params: Params }) {
  const { teamId } = await params;
  const user = await signedInUser();
  // Signed out: the page itself redirects to sign in, with the exact path to come back to.
  if (!user) return children;
  const membership = await teamMembership(user.id, teamId);
  if (!membership) notFound();
  const { team, ctx } = membership;
  const teams = await listTeamsForUser(getDb(), user.id);
  const base = `/teams/${team.id}`;
  const nav: NavItem[] = SECTIONS.filter((section) => roleAllows(ctx.role, section.permission)).map((section) => ({
    href: `${base}${section.path}`,
    label: section.label,
    exact: section.path === "",
  }));

  return (
    <div className="min-h-screen bg-zinc-50 dark:bg-zinc-950">
      <PortalHeader
        user={user}
        teams={teams}
        currentTeamId={team.id}
        signOut={signOutAction}
        signOutEverywhere={signOutEverywhereAction}
      />
      <div className="border-zinc-200 border-b bg-white dark:border-zinc-800 dark:bg-zinc-950">
        <div className="mx-auto max-w-6xl px-4 sm:px-6">
          <div className="flex flex-wrap items-center gap-3 pt-5 pb-2">
            <p className="font-semibold text-lg tracking-tight" data-testid="team-name">
              {team.name}
            </p>
            <Badge tone="brand">{ctx.role}</Badge>
          </div>
          <TeamNav items={nav} />
        </div>
      </div>
      <main id="main" className="mx-auto max-w-6xl space-y-6 px-4 py-8 sm:px-6">
        {children}
      </main>
    </div>
  );
}
