// The portal's top bar: brand, team switcher and user menu. The sign-out actions come in as props so this file
// stays presentational (the pages own their server actions).
import Link from "next/link";
import { ActionButton } from "@/components/action-button";
import type { FormAction } from "@/components/form";
import { Menu } from "@/components/menu";
import { Badge } from "@/components/ui";

type TeamEntry = { id: string; name: string; role: string };

type PortalHeaderProps = {
  user: { email: string; name: string | null; isAdmin?: boolean };
  teams: TeamEntry[];
  currentTeamId?: string;
  signOut: FormAction;
  signOutEverywhere: FormAction;
};

const MENU_LINK = "block rounded-md px-2.5 py-2 text-sm hover:bg-zinc-100 dark:hover:bg-zinc-800";

export function PortalHeader({ user, teams, currentTeamId, signOut, signOutEverywhere }: PortalHeaderProps) {
  const current = teams.find((team) => team.id === currentTeamId);
  return (
    <header className="border-zinc-200 border-b bg-white dark:border-zinc-800 dark:bg-zinc-950">
      <div className="mx-auto flex max-w-6xl items-center justify-between gap-3 px-4 py-2.5 sm:px-6">
        <div className="flex min-w-0 items-center gap-2">
          <Link href="/teams" className="font-semibold text-brand-900 text-sm tracking-wide dark:text-brand-400">
            TUSSILAGO
          </Link>
          <span aria-hidden="true" className="text-zinc-300 dark:text-zinc-700">
            /
          </span>
          <Menu
            summary={
              <span className="flex min-w-0 items-center gap-2" data-testid="team-switcher">
                <span className="sr-only">Switch team. Current team: </span>
                <span className="max-w-[12rem] truncate font-medium sm:max-w-xs">
                  {current ? current.name : "Choose a team"}
                </span>
              </span>
            }
          >
            <p className="px-2.5 pt-1 pb-1.5 font-medium text-xs text-zinc-500 uppercase tracking-wide">Your teams</p>
            {teams.length === 0 ? <p className="px-2.5 py-2 text-sm text-zinc-500">No teams yet.</p> : null}
            <ul>
              {teams.map((team) => (
                <li key={team.id}>
                  <Link
                    href={`/teams/${team.id}`}
                    aria-current={team.id === currentTeamId ? "page" : undefined}
                    className={`${MENU_LINK} flex items-center justify-between gap-2 aria-[current=page]:font-semibold`}
                  >
                    <span className="truncate">{team.name}</span>
                    <Badge>{team.role}</Badge>
                  </Link>
                </li>
              ))}
            </ul>
            <div className="mt-1 border-zinc-200 border-t pt-1 dark:border-zinc-800">
              <Link href="/teams/new" className={MENU_LINK}>
                Create a team
              </Link>
            </div>
          </Menu>
        </div>
        <Menu
          align="right"
          summary={
            <span className="flex items-center gap-2" data-testid="user-menu">
              <span className="sr-only">Account menu for </span>
              <span
                aria-hidden="true"
                className="flex size-7 items-center justify-center rounded-full bg-brand-100 font-semibold text-brand-900 text-xs"
              >
                {(user.name || user.email).slice(0, 1).toUpperCase()}
              </span>
              <span className="hidden max-w-[14rem] truncate sm:inline">{user.email}</span>
            </span>
          }
        >
          <div className="px-2.5 pt-1 pb-2 text-sm">
            {user.name ? <p className="font-medium">{user.name}</p> : null}
            <p className="truncate text-zinc-500">{user.email}</p>
          </div>
          <div className="border-zinc-200 border-t pt-1 dark:border-zinc-800">
            <Link href="/account" className={MENU_LINK}>
              Account
            </Link>
            <Link href="/docs/api" className={MENU_LINK} data-testid="api-docs-link">
              API reference
            </Link>
            {user.isAdmin ? (
              <>
                <Link href="/admin/host" className={MENU_LINK} data-testid="admin-host-link">
                  Host readiness
                </Link>
                <Link href="/admin/quotas" className={MENU_LINK} data-testid="admin-quotas-link">
                  Quotas
                </Link>
                <Link href="/admin/usage" className={MENU_LINK} data-testid="admin-usage-link">
                  Usage
                </Link>
              </>
            ) : null}
            <ActionButton
              action={signOut}
              label="Sign out"
              variant="ghost"
              fullWidth
              className="[&_button]:justify-start"
            />
            <ActionButton
              action={signOutEverywhere}
              label="Sign out everywhere"
              variant="ghost"
              fullWidth
              className="[&_button]:justify-start"
            />
          </div>
        </Menu>
      </div>
    </header>
  );
}
