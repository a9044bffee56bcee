"use client";

// The DNS records that prove control of a domain, each field with a copy button: the TXT record, or instead the
// name pointed at this installation (A/AAAA to its public addresses, or a CNAME to the app's own hostname), which
// routes the name here as well.
import { CopyButton } from "@/components/apps/domains/copy-button";
import type { DnsRecord } from "@/lib/domain/domains";

function RecordRows({ records }: { records: DnsRecord[] }) {
  return (
    <>
      {records.map((record) => (
        <tr key={`${record.type} ${record.name} ${record.value}`} className="align-top" data-testid="dns-record">
          <td className="py-2 pr-3 font-mono text-xs">{record.type}</td>
          <td className="py-2 pr-3">
            <span className="flex flex-wrap items-center gap-2">
              <code className="break-all font-mono text-xs">{record.name}</code>
              <CopyButton value={record.name} label={`Copy the name of the ${record.type} record`} />
            </span>
          </td>
          <td className="py-2">
            <span className="flex flex-wrap items-center gap-2">
              <code className="break-all font-mono text-xs">{record.value}</code>
              <CopyButton value={record.value} label={`Copy the value of the ${record.type} record`} />
            </span>
          </td>
        </tr>
      ))}
    </>
  );
}

function RecordTable({ caption, records }: { caption: string; records: DnsRecord[] }) {
  return (
    <div className="overflow-x-auto">
      <table className="w-full min-w-[28rem] text-left text-sm">
        <caption className="pb-1 text-left font-medium text-sm">{caption}</caption>
        <thead className="text-xs text-zinc-500 uppercase tracking-wide">
          <tr>
            <th scope="col" className="py-1 pr-3 font-medium">
              Type
            </th>
            <th scope="col" className="py-1 pr-3 font-medium">
              Name
            </th>
            <th scope="col" className="py-1 font-medium">
              Value
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
          <RecordRows records={records} />
        </tbody>
      </table>
    </div>
  );
}

export function DnsRecords({ verification, alternatives }: { verification: DnsRecord; alternatives: DnsRecord[] }) {
  const pointing = alternatives.filter((record) => record.type !== "CNAME");
  const cname = alternatives.filter((record) => record.type === "CNAME");
  return (
    <div className="space-y-3" data-testid="dns-records">
      <RecordTable caption="Create this TXT record at your DNS provider:" records={[verification]} />
      {pointing.length > 0 ? (
        <RecordTable caption="Or point the name at this installation:" records={pointing} />
      ) : null}
      {cname.length > 0 ? (
        <RecordTable caption="Or, for a subdomain, a CNAME to the app's own address:" records={cname} />
      ) : null}
      <p className="text-xs text-zinc-500">
        The platform looks again every few minutes; DNS changes can take a while to be visible.
      </p>
    </div>
  );
}
