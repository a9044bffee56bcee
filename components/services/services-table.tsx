// A team's databases or Redis instances as a table: name, status, attached app, created. A server component.
import Link from "next/link";
import { ServiceStatusBadge } from "@/components/services/service-status";
import { KIND_LABELS, type ServiceKind, type ServiceRow } from "@/components/services/service-types";
import { DateTime } from "@/components/ui";

export function ServicesTable({
  teamId,
  kind,
  rows,
  pending,
}: {
  teamId: string;
  kind: ServiceKind;
  rows: ServiceRow[];
  pending: Record<string, string | null>;
}) {
  const labels = KIND_LABELS[kind];
  return (
    <div className="-mx-5 overflow-x-auto sm:-mx-6">
      <table className="w-full min-w-[36rem] text-left text-sm" aria-label={labels.many}>
        <thead className="border-zinc-200 border-b text-xs text-zinc-500 uppercase tracking-wide dark:border-zinc-800">
          <tr>
            <th scope="col" className="px-5 py-2 font-medium sm:px-6">
              Name
            </th>
            <th scope="col" className="px-3 py-2 font-medium">
              Status
            </th>
            <th scope="col" className="px-3 py-2 font-medium">
              Attached to
            </th>
            {kind === "database" ? (
              <th scope="col" className="px-3 py-2 font-medium">
                Connections
              </th>
            ) : null}
            <th scope="col" className="px-5 py-2 font-medium sm:px-6">
              Created
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
          {rows.map((row) => (
            <tr key={row.id} className="align-top" data-testid="service-row" data-name={row.name}>
              <td className="px-5 py-3 sm:px-6">
                <Link
                  href={`/teams/${teamId}/${labels.section}/${row.id}`}
                  className="font-medium underline-offset-2 hover:underline"
                >
                  {row.name}
                </Link>
              </td>
              <td className="px-3 py-3">
                <ServiceStatusBadge status={row.status} pending={pending[row.id] ?? null} />
              </td>
              <td className="px-3 py-3">
                {row.appId && row.appName ? (
                  <Link href={`/teams/${teamId}/apps/${row.appId}`} className="underline-offset-2 hover:underline">
                    {row.appName}
                  </Link>
                ) : (
                  <span className="text-zinc-500">No app</span>
                )}
              </td>
              {kind === "database" ? <td className="px-3 py-3">{row.limits?.connectionLimit ?? "—"}</td> : null}
              <td className="whitespace-nowrap px-5 py-3 sm:px-6">
                <DateTime value={row.createdAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
