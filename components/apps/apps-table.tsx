// The team's apps as a table: name, status, address and the newest deployment. No hooks: a server component.
import Link from "next/link";
import { AppAddress, AppStatusBadge, DeploymentStatusBadge } from "@/components/apps/status";
import { DateTime } from "@/components/ui";
import type { AppView } from "@/lib/domain/apps";
import type { DeploymentView } from "@/lib/domain/deployments";

export type AppsTableRow = { app: AppView; latest: DeploymentView | null };

export function AppsTable({ teamId, rows }: { teamId: string; rows: AppsTableRow[] }) {
  return (
    <div className="-mx-5 overflow-x-auto sm:-mx-6">
      <table className="w-full min-w-[40rem] text-left text-sm" aria-label="Apps">
        <thead className="border-zinc-200 border-b text-xs text-zinc-500 uppercase tracking-wide dark:border-zinc-800">
          <tr>
            <th scope="col" className="px-5 py-2 font-medium sm:px-6">
              Name
            </th>
            <th scope="col" className="px-3 py-2 font-medium">
              Status
            </th>
            <th scope="col" className="px-3 py-2 font-medium">
              Address
            </th>
            <th scope="col" className="px-5 py-2 font-medium sm:px-6">
              Latest deployment
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
          {rows.map(({ app, latest }) => {
            const base = `/teams/${teamId}/apps/${app.id}`;
            return (
              <tr key={app.id} className="align-top">
                <td className="px-5 py-3 sm:px-6">
                  <Link href={base} className="font-medium underline-offset-2 hover:underline">
                    {app.name}
                  </Link>
                </td>
                <td className="px-3 py-3">
                  <AppStatusBadge status={app.status} />
                </td>
                <td className="max-w-64 px-3 py-3">
                  <AppAddress url={app.url} status={app.status} />
                </td>
                <td className="whitespace-nowrap px-5 py-3 sm:px-6">
                  {latest ? (
                    <Link
                      href={`${base}/deployments/${latest.id}`}
                      className="inline-flex items-center gap-2 underline-offset-2 hover:underline"
                    >
                      <span className="font-medium">#{latest.number}</span>
                      <DeploymentStatusBadge status={latest.status} />
                      <span className="text-xs text-zinc-500">
                        <DateTime value={latest.createdAt} />
                      </span>
                    </Link>
                  ) : (
                    <span className="text-zinc-500">Not deployed yet</span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
