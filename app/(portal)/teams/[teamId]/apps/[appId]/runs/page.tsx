import type { Metadata } from "next";
import { appPage, appTitle } from "@/app/(portal)/teams/[teamId]/apps/[appId]/app-page";
import { createRunAction, pollAppRuns } from "@/app/(portal)/teams/[teamId]/apps/[appId]/runs/actions";
import { type AppRuns, loadAppRuns } from "@/app/(portal)/teams/[teamId]/apps/[appId]/runs/runs-data";
import { RunForm } from "@/components/apps/runs/run-form";
import { RunsLive } from "@/components/apps/runs/runs-live";
import { Card, Notice } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { isAppError } from "@/lib/errors";

type Params = Promise<{ teamId: string; appId: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { teamId, appId } = await params;
  const name = await appTitle(teamId, appId);
  return name ? { title: `Runs · ${name}` } : {};
}

export default async function AppRunsPage({ params }: { params: Params }) {
  const { teamId, appId } = await params;
  const { ctx, app } = await appPage(teamId, appId, `/teams/${teamId}/apps/${appId}/runs`);
  const canWrite = roleAllows(ctx.role, "apps:write") && app.status !== "deleting";

  let runs: AppRuns;
  try {
    runs = await loadAppRuns(getDb(), ctx, app.id);
  } catch (error) {
    if (!isAppError(error)) throw error;
    return <Notice tone="error">{error.message}</Notice>;
  }
  const { defaultTimeoutS, maxTimeoutS } = getEnv().runs;

  return (
    <>
      {canWrite ? (
        <Card
          title="Run a command"
          description="A one-off command in a new container of the app's current release: migrations, a data fix, a management command."
        >
          <RunForm
            action={createRunAction}
            teamId={ctx.teamId}
            appId={app.id}
            defaultTimeoutS={defaultTimeoutS}
            maxTimeoutS={maxTimeoutS}
          />
        </Card>
      ) : app.status !== "deleting" ? (
        <p className="text-sm text-zinc-500">Your role can see the app's runs, but not start or cancel them.</p>
      ) : null}
      <Card title="Runs" description="One-off commands and cron jobs' runs, newest first.">
        <RunsLive teamId={ctx.teamId} appId={app.id} initial={runs} poll={pollAppRuns} />
      </Card>
    </>
  );
}
