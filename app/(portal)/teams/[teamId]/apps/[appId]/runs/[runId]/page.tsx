import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { z } from "zod";
import { appPage, appTitle } from "@/app/(portal)/teams/[teamId]/apps/[appId]/app-page";
import { cancelRunAction, pollRun } from "@/app/(portal)/teams/[teamId]/apps/[appId]/runs/actions";
import { loadRun, type RunItem } from "@/app/(portal)/teams/[teamId]/apps/[appId]/runs/runs-data";
import { RunOutput } from "@/components/apps/runs/run-output";
import { Card } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import { isAppError } from "@/lib/errors";

type Params = Promise<{ teamId: string; appId: string; runId: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { teamId, appId } = await params;
  const name = await appTitle(teamId, appId);
  return name ? { title: `Run · ${name}` } : {};
}

export default async function RunPage({ params }: { params: Params }) {
  const { teamId, appId, runId } = await params;
  const { ctx, app } = await appPage(teamId, appId, `/teams/${teamId}/apps/${appId}/runs/${runId}`);
  if (!z.uuid().safeParse(runId).success) notFound();
  let run: RunItem;
  try {
    run = await loadRun(getDb(), ctx, runId);
  } catch (error) {
    if (isAppError(error) && error.code === "not_found") notFound();
    throw error;
  }
  // Another app's run of the same team belongs on that app's page.
  if (run.appId !== app.id) notFound();
  const canWrite = roleAllows(ctx.role, "apps:write");

  return (
    <>
      <p className="text-sm">
        <Link href={`/teams/${ctx.teamId}/apps/${app.id}/runs`} className="text-zinc-500 hover:underline">
          ← All runs
        </Link>
      </p>
      <Card title={run.kind === "cron" ? `Cron run: ${run.cronJob?.name ?? "deleted job"}` : "One-off run"}>
        <RunOutput
          key={run.id}
          teamId={ctx.teamId}
          appId={app.id}
          initial={run}
          poll={pollRun}
          cancel={canWrite ? cancelRunAction : null}
        />
      </Card>
    </>
  );
}
