import type { Metadata } from "next";
import { appPage, appTitle } from "@/app/(portal)/teams/[teamId]/apps/[appId]/app-page";
import {
  bulkSetEnvAction,
  setEnvVarAction,
  unsetEnvVarAction,
} from "@/app/(portal)/teams/[teamId]/apps/[appId]/env/actions";
import { ActionButton } from "@/components/action-button";
import { BulkEnvForm, SetEnvVarForm } from "@/components/apps/env-forms";
import { Card, DateTime, EmptyState, Notice } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import { type EnvVarView, listEnvVars } from "@/lib/domain/env-vars";
import { isAppError } from "@/lib/errors";

type Params = Promise<{ teamId: string; appId: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { teamId, appId } = await params;
  const name = await appTitle(teamId, appId);
  return name ? { title: `Environment · ${name}` } : {};
}

export default async function AppEnvPage({ params }: { params: Params }) {
  const { teamId, appId } = await params;
  const { ctx, app } = await appPage(teamId, appId, `/teams/${teamId}/apps/${appId}/env`);
  const canWrite = roleAllows(ctx.role, "env:write") && app.status !== "deleting";

  let variables: EnvVarView[];
  try {
    variables = await listEnvVars(getDb(), ctx, app.id);
  } catch (error) {
    if (!isAppError(error)) throw error;
    return <Notice tone="error">{error.message}</Notice>;
  }
  const fields = { teamId: ctx.teamId, appId: app.id };

  return (
    <>
      <Card
        title="Environment variables"
        description="Given to the app's processes at each deployment. Values are encrypted at rest and never shown again after saving."
      >
        {variables.length === 0 ? (
          <EmptyState title="No variables yet">
            {canWrite ? "Add one below, or paste several into the bulk editor." : "This app has no variables."}
          </EmptyState>
        ) : (
          <div className="-mx-5 overflow-x-auto sm:-mx-6">
            <table className="w-full min-w-[32rem] text-left text-sm" aria-label="Environment variables">
              <thead className="border-zinc-200 border-b text-xs text-zinc-500 uppercase tracking-wide dark:border-zinc-800">
                <tr>
                  <th scope="col" className="px-5 py-2 font-medium sm:px-6">
                    Key
                  </th>
                  <th scope="col" className="px-3 py-2 font-medium">
                    Value
                  </th>
                  <th scope="col" className="px-3 py-2 font-medium">
                    Updated
                  </th>
                  {canWrite ? (
                    <th scope="col" className="px-5 py-2 font-medium sm:px-6">
                      <span className="sr-only">Actions</span>
                    </th>
                  ) : null}
                </tr>
              </thead>
              <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
                {variables.map((variable) => (
                  <tr key={variable.key} className="align-middle">
                    <td className="px-5 py-3 sm:px-6">
                      <code className="break-all font-mono text-xs">{variable.key}</code>
                    </td>
                    <td className="px-3 py-3">
                      <span className="font-mono text-xs text-zinc-500" title="Hidden">
                        {variable.value}
                      </span>
                      <span className="sr-only"> (hidden)</span>
                    </td>
                    <td className="whitespace-nowrap px-3 py-3 text-zinc-600 dark:text-zinc-400">
                      <DateTime value={variable.updatedAt} />
                    </td>
                    {canWrite ? (
                      <td className="px-5 py-3 sm:px-6">
                        <div className="flex justify-end">
                          <ActionButton
                            action={unsetEnvVarAction}
                            fields={{ ...fields, key: variable.key }}
                            label="Remove"
                            variant="danger"
                            confirm={`Remove ${variable.key}?`}
                          />
                        </div>
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      {canWrite ? (
        <>
          <Card title="Add or update a variable">
            <SetEnvVarForm action={setEnvVarAction} teamId={ctx.teamId} appId={app.id} />
          </Card>
          <Card
            title="Bulk editor"
            description="Set many variables at once, e.g. pasted from a .env file. Existing keys not listed stay as they are."
          >
            <BulkEnvForm action={bulkSetEnvAction} teamId={ctx.teamId} appId={app.id} />
          </Card>
        </>
      ) : app.status !== "deleting" ? (
        <p className="text-sm text-zinc-500">Your role can see which variables are set, but not change them.</p>
      ) : null}
    </>
  );
}
