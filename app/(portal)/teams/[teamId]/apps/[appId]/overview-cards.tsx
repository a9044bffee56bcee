// The overview's summary cards: each names what it shows and links to the tab that manages it.
import type { ReactNode } from "react";
import type { OverviewSummary } from "@/app/(portal)/teams/[teamId]/apps/[appId]/overview-data";
import { TextLink } from "@/components/ui";

function SummaryCard({
  title,
  href,
  action,
  children,
}: {
  title: string;
  href: string;
  action: string;
  children: ReactNode;
}) {
  return (
    <section
      aria-label={title}
      className="flex min-w-0 flex-col rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-950"
    >
      <h2 className="font-semibold text-sm">{title}</h2>
      <div className="mt-2 min-w-0 flex-1 break-words text-sm text-zinc-700 dark:text-zinc-300">{children}</div>
      <p className="mt-3 text-sm">
        <TextLink href={href}>{action}</TextLink>
      </p>
    </section>
  );
}

export function OverviewCards({
  summary,
  path,
  teamPath,
}: {
  summary: OverviewSummary;
  path: string;
  teamPath: string;
}) {
  const services = [
    ...summary.databases.map((item) => ({ ...item, kind: "Database", href: `${teamPath}/databases/${item.id}` })),
    ...summary.redis.map((item) => ({ ...item, kind: "Redis", href: `${teamPath}/redis/${item.id}` })),
  ];
  return (
    <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3" data-testid="overview-cards">
      <SummaryCard title="Databases and Redis" href={`${path}/env`} action="Their variables">
        {services.length === 0 ? (
          <>
            Nothing attached. Attach one from <TextLink href={`${teamPath}/databases`}>Databases</TextLink> or{" "}
            <TextLink href={`${teamPath}/redis`}>Redis</TextLink>.
          </>
        ) : (
          <ul className="space-y-1">
            {services.map((service) => (
              <li key={service.id}>
                {service.kind} <TextLink href={service.href}>{service.name}</TextLink>{" "}
                <span className="text-zinc-600 dark:text-zinc-400">({service.status})</span>
              </li>
            ))}
          </ul>
        )}
      </SummaryCard>
      <SummaryCard title="Processes" href={`${path}/settings`} action="Commands and resources">
        {summary.processTypes.length === 0
          ? "None yet: the first release decides them from the Procfile or the detected server."
          : summary.processTypes.join(", ")}
      </SummaryCard>
      <SummaryCard title="Domains" href={`${path}/domains`} action="Manage domains">
        {summary.domainCount === 0 ? (
          "Only the platform address. Add your own domain with HTTPS."
        ) : (
          <ul className="space-y-1">
            {summary.domains.map((domain) => (
              <li key={domain.hostname}>
                <code className="font-mono text-xs">{domain.hostname}</code>{" "}
                <span className="text-zinc-600 dark:text-zinc-400">({domain.status})</span>
              </li>
            ))}
            {summary.domainCount > summary.domains.length ? (
              <li>and {summary.domainCount - summary.domains.length} more</li>
            ) : null}
          </ul>
        )}
      </SummaryCard>
      <SummaryCard title="Metrics" href={`${path}/metrics`} action="CPU, memory, requests, latency">
        Charts of the last hour to the last 30 days, with deployments marked.
      </SummaryCard>
      <SummaryCard title="Cron" href={`${path}/cron`} action="Scheduled jobs">
        {summary.cron.total === 0
          ? "No scheduled jobs."
          : `${summary.cron.total} ${summary.cron.total === 1 ? "job" : "jobs"}, ${summary.cron.enabled} enabled.`}
      </SummaryCard>
    </div>
  );
}
