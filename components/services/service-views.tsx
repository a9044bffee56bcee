// The databases and Redis pages' bodies, shared by both kinds: the list and one service. Server components that
// receive their data and the server actions from the pages (app/(portal)/teams/[teamId]/{databases,redis}).
import Link from "next/link";
import { ActionButton } from "@/components/action-button";
import type { FormAction } from "@/components/form";
import { AttachForm, DeleteServiceForm, LimitsForm, RevealCredentials } from "@/components/services/service-forms";
import { ServicePoller } from "@/components/services/service-poller";
import { ServiceStatusBadge } from "@/components/services/service-status";
import {
  KIND_LABELS,
  operationLabel,
  type ServiceKind,
  type ServicePoll,
  type ServiceRow,
  type ServiceSnapshot,
} from "@/components/services/service-types";
import { ServicesTable } from "@/components/services/services-table";
import { buttonClass, Card, DateTime, EmptyState, Notice, PageHeader, TextLink } from "@/components/ui";

const DESCRIPTIONS: Record<ServiceKind, string> = {
  database:
    "PostgreSQL databases on the shared tenant server. An attached app receives DATABASE_URL and PGHOST, PGPORT, " +
    "PGUSER, PGPASSWORD, PGDATABASE.",
  redis:
    "Redis instances: a user of the shared tenant Redis confined to its own key prefix. An attached app receives " +
    "REDIS_URL and REDIS_HOST, REDIS_PORT, REDIS_USER, REDIS_PASSWORD, REDIS_KEY_PREFIX.",
};

export function ServiceList({
  kind,
  teamId,
  rows,
  pending,
  canManage,
  poll,
  paged,
}: {
  kind: ServiceKind;
  teamId: string;
  rows: ServiceRow[];
  pending: Record<string, string | null>;
  canManage: boolean;
  poll: ServicePoll;
  /** Whether this is a later page (an empty one then says "no more"). */
  paged: boolean;
}) {
  const labels = KIND_LABELS[kind];
  const path = `/teams/${teamId}/${labels.section}`;
  const title = kind === "database" ? "Databases" : "Redis";
  const initial: Record<string, ServiceSnapshot> = Object.fromEntries(
    rows.map((row) => [row.id, { status: row.status, pending: pending[row.id] ?? null, error: row.error }]),
  );
  return (
    <>
      <PageHeader
        title={title}
        description={DESCRIPTIONS[kind]}
        actions={
          canManage ? (
            <Link href={`${path}/new`} className={buttonClass("primary")}>
              New {labels.one}
            </Link>
          ) : null
        }
      />
      <ServicePoller teamId={teamId} initial={initial} poll={poll} />
      <Card>
        {rows.length === 0 ? (
          <EmptyState title={paged ? `No more ${labels.many}` : `No ${labels.many} yet`}>
            {canManage ? (
              <div className="space-y-4">
                <p>Create one and attach it to an app; the app gets {labels.env} at its next start.</p>
                <Link href={`${path}/new`} className={buttonClass("primary")}>
                  Create a {labels.one}
                </Link>
              </div>
            ) : (
              `The team's ${labels.many} will appear here. Admins and owners create them.`
            )}
          </EmptyState>
        ) : (
          <ServicesTable teamId={teamId} kind={kind} rows={rows} pending={pending} />
        )}
      </Card>
    </>
  );
}

type ManageActions = {
  attach: FormAction;
  rotate: FormAction;
  // biome-ignore lint/suspicious/noExplicitAny: the two kinds reveal differently shaped credentials.
  reveal: FormAction<any>;
  remove: FormAction;
  limits?: FormAction;
};

function formatSeconds(ms: number): string {
  return `${ms / 1000} s`;
}

export function ServiceDetailView({
  kind,
  teamId,
  service,
  pending,
  apps,
  poll,
  actions,
}: {
  kind: ServiceKind;
  teamId: string;
  service: ServiceRow;
  pending: string | null;
  apps: { id: string; name: string }[];
  poll: ServicePoll;
  /** Null for roles that may not change anything: no controls at all. */
  actions: ManageActions | null;
}) {
  const labels = KIND_LABELS[kind];
  const listPath = `/teams/${teamId}/${labels.section}`;
  const usable = service.status === "ready" || service.status === "failed";
  const idleReady = service.status === "ready" && pending === null;
  return (
    <>
      <p className="text-sm">
        <TextLink href={listPath}>← All {labels.many}</TextLink>
      </p>
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="font-bold text-2xl tracking-tight">{service.name}</h1>
        <span aria-live="polite">
          <ServiceStatusBadge status={service.status} pending={pending} />
        </span>
      </div>
      <ServicePoller
        teamId={teamId}
        initial={{ [service.id]: { status: service.status, pending, error: service.error } }}
        poll={poll}
        goneHref={listPath}
      />
      {service.status === "provisioning" ? (
        <Notice>Creating the {labels.one} on the tenant server. This page updates when it is ready.</Notice>
      ) : null}
      {service.status === "deleting" ? (
        <Notice tone="warning">
          Deleting the {labels.one} and all its data.{" "}
          {service.error ? `The last attempt failed: ${service.error}` : "This page goes back to the list when done."}
        </Notice>
      ) : null}
      {service.status === "failed" ? (
        <Notice tone="error" title={`The ${labels.one} is not usable`}>
          <p data-testid="service-error">{service.error ?? "No reason was recorded."}</p>
          {actions ? <p className="mt-1">Rotating the password repairs it when the cause is gone.</p> : null}
        </Notice>
      ) : null}
      {service.status === "ready" && service.error ? <Notice tone="warning">{service.error}</Notice> : null}
      {pending && service.status === "ready" ? <Notice>{operationLabel(pending)}…</Notice> : null}

      <Card title="Details">
        <dl className="grid gap-x-6 gap-y-3 text-sm sm:grid-cols-[max-content_1fr]">
          <dt className="font-medium text-zinc-600 dark:text-zinc-400">Attached to</dt>
          <dd data-testid="attached-app">
            {service.appId && service.appName ? (
              <TextLink href={`/teams/${teamId}/apps/${service.appId}`}>{service.appName}</TextLink>
            ) : (
              <span className="text-zinc-500">No app</span>
            )}
          </dd>
          {service.limits ? (
            <>
              <dt className="font-medium text-zinc-600 dark:text-zinc-400">Connections</dt>
              <dd data-testid="limit-connections">{service.limits.connectionLimit}</dd>
              <dt className="font-medium text-zinc-600 dark:text-zinc-400">Statement timeout</dt>
              <dd>{formatSeconds(service.limits.statementTimeoutMs)}</dd>
              <dt className="font-medium text-zinc-600 dark:text-zinc-400">Idle in transaction</dt>
              <dd>{formatSeconds(service.limits.idleInTransactionMs)}</dd>
            </>
          ) : null}
          <dt className="font-medium text-zinc-600 dark:text-zinc-400">Created</dt>
          <dd>
            <DateTime value={service.createdAt} />
          </dd>
        </dl>
      </Card>

      {actions ? (
        <>
          <Card
            title="Credentials"
            description={`Apps attached receive them as ${labels.env}; reveal them to connect from elsewhere.`}
          >
            {usable ? (
              <RevealCredentials kind={kind} teamId={teamId} serviceId={service.id} action={actions.reveal} />
            ) : (
              <p className="text-sm text-zinc-600 dark:text-zinc-400">Available once the {labels.one} is ready.</p>
            )}
          </Card>
          {service.status !== "deleting" ? (
            <Card
              title="App"
              description="One app per database and one per Redis instance; the app restarts to pick it up."
            >
              <AttachForm
                kind={kind}
                teamId={teamId}
                serviceId={service.id}
                apps={apps}
                currentAppId={service.appId}
                action={actions.attach}
              />
            </Card>
          ) : null}
          {service.limits && actions.limits && service.status !== "deleting" ? (
            <Card
              title="Limits"
              description="New connections get the new limits; open ones keep theirs until they reconnect."
            >
              <LimitsForm
                teamId={teamId}
                databaseId={service.id}
                limits={service.limits}
                action={actions.limits}
                disabled={!idleReady}
              />
            </Card>
          ) : null}
          {usable ? (
            <Card
              title="Rotate the password"
              description="A new password replaces the old one at once: open connections end and the attached app restarts with the new one."
            >
              <ActionButton
                action={actions.rotate}
                fields={{ teamId, [kind === "database" ? "databaseId" : "redisId"]: service.id }}
                label="Rotate password"
                confirm="Replace the password now?"
                variant="danger-soft"
              />
            </Card>
          ) : null}
          <Card title={`Delete this ${labels.one}`} description="Deletes it and all its data for good.">
            <DeleteServiceForm
              kind={kind}
              teamId={teamId}
              serviceId={service.id}
              name={service.name}
              action={actions.remove}
            />
          </Card>
        </>
      ) : (
        <Notice>Your role can view this {labels.one}; admins and owners manage it.</Notice>
      )}
    </>
  );
}
