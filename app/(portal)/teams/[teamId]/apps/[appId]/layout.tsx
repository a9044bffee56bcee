import Link from "next/link";
import { notFound } from "next/navigation";
import type { ReactNode } from "react";
import { appOfTeam } from "@/app/(portal)/teams/[teamId]/apps/[appId]/app-page";
import { signedInUser } from "@/app/(portal)/teams/[teamId]/team-page";
import { AppNav } from "@/components/apps/app-nav";
import { CopyButton } from "@/components/apps/domains/copy-button";
import { AppAddress, AppStatusBadge } from "@/components/apps/status";
import { Notice } from "@/components/ui";

type Params = Promise<{ teamId: string; appId: string }>;

// The app's name, status, address and section tabs above each of its pages. The pages do their own checks.
export default async function AppLayout({ children, params }: { children: ReactNode; params: Params }) {
  const { teamId, appId } = await params;
  const user = await signedInUser();
  // Signed out: the page itself redirects to sign in, with the exact path to come back to.
  if (!user) return children;
  const app = await appOfTeam(user.id, teamId, appId);
  if (!app) notFound();
  const base = `/teams/${teamId}/apps/${app.id}`;

  return (
    <>
      <div className="space-y-4">
        <nav aria-label="Breadcrumb" className="text-sm text-zinc-500">
          <Link href={`/teams/${teamId}/apps`} className="hover:text-zinc-900 hover:underline dark:hover:text-white">
            Apps
          </Link>
          <span aria-hidden="true"> / </span>
          <span className="text-zinc-900 dark:text-zinc-100">{app.name}</span>
        </nav>
        <div className="min-w-0 space-y-1">
          <div className="flex flex-wrap items-center gap-3">
            <h1 className="font-bold text-2xl tracking-tight" data-testid="app-name">
              {app.name}
            </h1>
            <AppStatusBadge status={app.status} />
          </div>
          <div className="flex min-w-0 items-center gap-2">
            <AppAddress url={app.url} status={app.status} />
            {app.url ? <CopyButton value={app.url} label="Copy the app's address" /> : null}
          </div>
        </div>
        <AppNav
          items={[
            { href: base, label: "Overview" },
            { href: `${base}/deployments`, label: "Deployments" },
            { href: `${base}/logs`, label: "Logs" },
            { href: `${base}/metrics`, label: "Metrics" },
            { href: `${base}/runs`, label: "Runs" },
            { href: `${base}/cron`, label: "Cron" },
            { href: `${base}/env`, label: "Environment" },
            { href: `${base}/domains`, label: "Domains" },
            { href: `${base}/git`, label: "Git" },
            { href: `${base}/settings`, label: "Settings" },
          ]}
        />
      </div>
      {app.status === "deleting" ? (
        <Notice tone="warning" title="This app is being deleted">
          Its containers, address and images are being removed; it disappears from the list when that is done.
        </Notice>
      ) : null}
      {children}
    </>
  );
}
