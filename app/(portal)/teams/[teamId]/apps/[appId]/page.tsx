import type { Metadata } from "next";
import type { ReactNode } from "react";
import {
  deployGitAction,
  deployUploadAction,
  pollAppRuntime,
  restartAppAction,
  rollbackAppAction,
  scaleAppAction,
  startAppAction,
  stopAppAction,
} from "@/app/(portal)/teams/[teamId]/apps/[appId]/actions";
import { appPage, appTitle } from "@/app/(portal)/teams/[teamId]/apps/[appId]/app-page";
import { redeployDeploymentAction } from "@/app/(portal)/teams/[teamId]/apps/[appId]/deployments/[deploymentId]/actions";
import { OverviewCards } from "@/app/(portal)/teams/[teamId]/apps/[appId]/overview-cards";
import { type OverviewSummary, overviewSummary } from "@/app/(portal)/teams/[teamId]/apps/[appId]/overview-data";
import { AppRuntimeLive } from "@/components/apps/app-runtime-live";
import { DeployPanel } from "@/components/apps/deploy-panel";
import { DeploymentsTable } from "@/components/apps/deployments-table";
import { Card, DateTime, EmptyState, Notice, TextLink } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import type { AppView } from "@/lib/domain/apps";
import { type DeploymentView, listDeployments } from "@/lib/domain/deployments";
import { type AppRuntimeView, getAppRuntime } from "@/lib/domain/lifecycle";
import type { Page } from "@/lib/domain/pagination";
import { getEnv } from "@/lib/env";
import { isAppError } from "@/lib/errors";

type Params = Promise<{ teamId: string; appId: string }>;

/** The newest deployments on the overview; the Deployments list (deployments/page.tsx) has them all. */
const RECENT_DEPLOYMENTS = 5;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { teamId, appId } = await params;
  const name = await appTitle(teamId, appId);
  return name ? { title: name } : {};
}

function Detail({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs text-zinc-500 uppercase tracking-wide">{label}</dt>
      <dd className="mt-1 break-words text-sm">{children}</dd>
    </div>
  );
}

function Detected({ value }: { value: string | null }) {
  return value ? <code className="font-mono text-xs">{value}</code> : <span className="text-zinc-500">detected</span>;
}

function sourceText(source: AppView["source"]): ReactNode {
  if (source?.type === "git") {
    return (
      <>
        <code className="break-all font-mono text-xs">{source.url}</code>{" "}
        <span className="text-zinc-500">
          at <code className="font-mono text-xs">{source.ref}</code>
        </span>
      </>
    );
  }
  return <span className="text-zinc-500">Uploads only (no git repository)</span>;
}

export default async function AppPage({ params }: { params: Params }) {
  const { teamId, appId } = await params;
  const path = `/teams/${teamId}/apps/${appId}`;
  const { ctx, app } = await appPage(teamId, appId, path);
  const canDeploy = roleAllows(ctx.role, "deployments:create") && app.status !== "deleting";
  const canOperate = roleAllows(ctx.role, "apps:write") && app.status !== "deleting";

  let deployments: Page<DeploymentView>;
  let runtime: AppRuntimeView;
  let summary: OverviewSummary;
  try {
    [deployments, runtime, summary] = await Promise.all([
      listDeployments(getDb(), ctx, app.id, { limit: RECENT_DEPLOYMENTS }),
      getAppRuntime(getDb(), ctx, app.id),
      overviewSummary(getDb(), ctx, app.id),
    ]);
  } catch (error) {
    if (!isAppError(error)) throw error;
    return <Notice tone="error">{error.message}</Notice>;
  }

  // Before the first release, deploying is the one thing to do (#18): the deploy card comes first, and the Running
  // card (replicas, start, scale) appears once there is a release to run.
  const released = app.currentDeploymentId !== null;
  const deployCard = canDeploy ? (
    <Card
      title={released ? "Deploy" : "Deploy your app"}
      description={
        released
          ? "Each deployment builds a new image from the source; the build log is live."
          : "Nothing runs yet: upload your app's source (drop a tarball below) or deploy it from git. The build log is live."
      }
    >
      <DeployPanel
        teamId={ctx.teamId}
        appId={app.id}
        uploadAction={deployUploadAction}
        gitAction={deployGitAction}
        git={app.source?.type === "git" ? { url: app.source.url, ref: app.source.ref } : null}
        uploadLimitMb={Math.round(getEnv().infra.uploadMaxBytes / 1024 / 1024)}
        settingsHref={`${path}/settings`}
      />
    </Card>
  ) : null;

  return (
    <>
      {released ? null : deployCard}
      {released ? (
        <Card title="Running">
          <AppRuntimeLive
            teamId={ctx.teamId}
            appId={app.id}
            initial={runtime}
            poll={pollAppRuntime}
            basePath={path}
            hasRelease={app.currentDeploymentId !== null}
            actions={
              canOperate
                ? { start: startAppAction, stop: stopAppAction, restart: restartAppAction, scale: scaleAppAction }
                : null
            }
          />
        </Card>
      ) : null}
      {released ? deployCard : null}
      <OverviewCards summary={summary} path={path} teamPath={`/teams/${ctx.teamId}`} />
      <Card title="Details">
        <dl className="grid gap-5 sm:grid-cols-2 lg:grid-cols-3">
          <Detail label="Current release">
            {app.currentDeploymentId ? (
              <TextLink href={`${path}/deployments/${app.currentDeploymentId}`}>View the release</TextLink>
            ) : (
              <span className="text-zinc-500">None yet</span>
            )}
          </Detail>
          <Detail label="Source">{sourceText(app.source)}</Detail>
          <Detail label="Python version">
            <Detected value={app.settings.pythonVersion} />
          </Detail>
          <Detail label="Web command">
            <Detected value={app.settings.webCommand} />
          </Detail>
          <Detail label="Resources">
            {app.replicas} × {app.settings.memoryMb} MiB, {app.settings.cpuMillis / 1000} CPU
          </Detail>
          <Detail label="Created">
            <DateTime value={app.createdAt} />
          </Detail>
        </dl>
      </Card>
      <Card title="Deployments" description="The newest ones; open one for its log.">
        {deployments.items.length === 0 ? (
          <EmptyState title="No deployments yet">
            {canDeploy
              ? "Upload a tarball or deploy from git above; each deployment appears here."
              : "Deployments of this app will appear here."}
          </EmptyState>
        ) : (
          <DeploymentsTable
            basePath={path}
            deployments={deployments.items}
            rollback={
              canOperate
                ? {
                    action: rollbackAppAction,
                    teamId: ctx.teamId,
                    appId: app.id,
                    currentDeploymentId: app.currentDeploymentId,
                  }
                : null
            }
            redeploy={canDeploy ? { action: redeployDeploymentAction, teamId: ctx.teamId } : null}
          />
        )}
        {deployments.items.length > 0 ? (
          <p className="mt-4 text-sm">
            <TextLink href={`${path}/deployments`}>All deployments</TextLink>
          </p>
        ) : null}
      </Card>
    </>
  );
}
