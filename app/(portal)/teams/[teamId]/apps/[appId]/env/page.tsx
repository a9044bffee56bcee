import type { Metadata } from "next";
import { appPage, appTitle } from "@/app/(portal)/teams/[teamId]/apps/[appId]/app-page";
import {
  bulkSetEnvAction,
  revealEnvVarAction,
  setEnvVarAction,
  unsetEnvVarAction,
} from "@/app/(portal)/teams/[teamId]/apps/[appId]/env/actions";
import { ActionButton } from "@/components/action-button";
import { BulkEnvForm, EditEnvVarForm, EnvValue, SetEnvVarForm } from "@/components/apps/env-forms";
import { Card, DateTime, EmptyState, Notice, TextLink } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import { type InjectedEnvVar, listInjectedEnv } from "@/lib/domain/env-injected";
import { type EnvVarView, listEnvVars } from "@/lib/domain/env-vars";
import { isAppError } from "@/lib/errors";

type Params = Promise<{ teamId: string; appId: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { teamId, appId } = await params;
  const name = await appTitle(teamId, appId);
  return name ? { title: `Environment · ${name}` } : {};
}

function InjectedSource({ teamId, source }: { teamId: string; source: InjectedEnvVar["source"] }) {
  if (source.kind === "platform") return <>the platform: the port the web process must listen on</>;
  const section = source.kind === "database" ? "databases" : "redis";
  return (
    <>
      attached {source.kind === "database" ? "database" : "Redis"}{" "}
      <TextLink href={`/teams/${teamId}/${section}/${source.id}`}>{source.name}</TextLink>
    </>
  );
}

export default async function AppEnvPage({ params }: { params: Params }) {
  const { teamId, appId } = await params;
  const { ctx, app } = await appPage(teamId, appId, `/teams/${teamId}/apps/${appId}/env`);
  const canWrite = roleAllows(ctx.role, "env:write") && app.status !== "deleting";
  const canReveal = roleAllows(ctx.role, "env:reveal");

  let variables: EnvVarView[];
  let injected: InjectedEnvVar[];
  try {
    [variables, injected] = await Promise.all([
      listEnvVars(getDb(), ctx, app.id),
      listInjectedEnv(getDb(), ctx, app.id),
    ]);
  } catch (error) {
    if (!isAppError(error)) throw error;
    return <Notice tone="error">{error.message}</Notice>;
  }
  const fields = { teamId: ctx.teamId, appId: app.id };

  return (
    <>
      <Card
        title="Environment variables"
        description="Given to the app's processes when they start. Values are encrypted at rest; secret ones are masked until revealed, plain ones are shown."
      >
        {variables.length === 0 ? (
          <EmptyState title="No variables yet">
            {canWrite ? "Add one below, or paste a .env file into the bulk editor." : "This app has no variables."}
          </EmptyState>
        ) : (
          <ul aria-label="Environment variables" className="divide-y divide-zinc-200 dark:divide-zinc-800">
            {variables.map((variable) => (
              <li key={variable.key} className="flex flex-wrap items-start gap-x-4 gap-y-2 py-3" data-testid="env-row">
                <code className="min-w-0 break-all pt-1 font-mono font-semibold text-xs">{variable.key}</code>
                <div className="min-w-0 flex-1 pt-0.5">
                  <EnvValue
                    {...fields}
                    name={variable.key}
                    value={variable.value}
                    secret={variable.secret}
                    reveal={canReveal ? revealEnvVarAction : null}
                  />
                </div>
                <span className="pt-0.5 text-xs text-zinc-600 dark:text-zinc-400">
                  {variable.secret ? "secret" : "plain"} · <DateTime value={variable.updatedAt} />
                </span>
                {canWrite ? (
                  <div className="flex w-full flex-wrap items-start justify-end gap-2">
                    <EditEnvVarForm
                      action={setEnvVarAction}
                      {...fields}
                      name={variable.key}
                      value={variable.value}
                      secret={variable.secret}
                    />
                    <ActionButton
                      action={unsetEnvVarAction}
                      fields={{ ...fields, key: variable.key }}
                      label="Remove"
                      variant="danger"
                      confirm={`Remove ${variable.key}?`}
                    />
                  </div>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </Card>
      <Card
        title="Set by the platform"
        description="Added when the processes start, after your variables, and not editable here. Passwords are never shown on this page: reveal them on the database's or Redis's page."
      >
        <ul aria-label="Variables set by the platform" className="divide-y divide-zinc-200 dark:divide-zinc-800">
          {injected.map((variable) => (
            <li key={variable.key} className="flex flex-wrap gap-x-4 gap-y-1 py-2 text-sm" data-testid="env-injected">
              <code className="font-mono font-semibold text-xs">{variable.key}</code>
              {variable.value !== null ? <code className="font-mono text-xs">{variable.value}</code> : null}
              <span className="text-zinc-600 dark:text-zinc-400">
                from <InjectedSource teamId={ctx.teamId} source={variable.source} />
              </span>
            </li>
          ))}
        </ul>
        {injected.length === 1 ? (
          <p className="mt-2 text-sm text-zinc-600 dark:text-zinc-400">
            Attach a database or Redis to get DATABASE_URL or REDIS_URL.
          </p>
        ) : null}
      </Card>
      {canWrite ? (
        <>
          <Card title="Add or update a variable">
            <SetEnvVarForm action={setEnvVarAction} teamId={ctx.teamId} appId={app.id} />
          </Card>
          <Card
            title="Bulk editor"
            description="Set many variables at once from a .env file. Existing keys not listed stay as they are."
          >
            <BulkEnvForm action={bulkSetEnvAction} teamId={ctx.teamId} appId={app.id} />
          </Card>
        </>
      ) : app.status !== "deleting" ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          Your role can see which variables are set, but not change them.
        </p>
      ) : null}
    </>
  );
}
