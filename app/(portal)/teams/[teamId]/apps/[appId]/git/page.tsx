import type { Metadata } from "next";
import { appPage, appTitle } from "@/app/(portal)/teams/[teamId]/apps/[appId]/app-page";
import {
  confirmHostKeyAction,
  createDeployKeyAction,
  createWebhookAction,
  deleteGitTokenAction,
  deleteHostKeyAction,
  deleteWebhookAction,
  pollWebhook,
  setAutoDeployAction,
  setGitTokenAction,
} from "@/app/(portal)/teams/[teamId]/apps/[appId]/git/actions";
import { type AppGit, loadAppGit } from "@/app/(portal)/teams/[teamId]/apps/[appId]/git/git-data";
import { AutoDeploySwitch } from "@/components/apps/git/auto-deploy-switch";
import { DeliveriesLive } from "@/components/apps/git/deliveries-live";
import { DeployKeyPanel } from "@/components/apps/git/deploy-key-panel";
import { GitTokenForm } from "@/components/apps/git/git-token-form";
import { HostKeys } from "@/components/apps/git/host-keys";
import { WebhookPanel } from "@/components/apps/git/webhook-panel";
import { Card, Notice, TextLink } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import { isAppError } from "@/lib/errors";

type Params = Promise<{ teamId: string; appId: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { teamId, appId } = await params;
  const name = await appTitle(teamId, appId);
  return name ? { title: `Git · ${name}` } : {};
}

export default async function AppGitPage({ params }: { params: Params }) {
  const { teamId, appId } = await params;
  const path = `/teams/${teamId}/apps/${appId}`;
  const { ctx, app } = await appPage(teamId, appId, `${path}/git`);
  const canWrite = roleAllows(ctx.role, "apps:write") && app.status !== "deleting";

  let git: AppGit;
  try {
    git = await loadAppGit(getDb(), ctx, app.id);
  } catch (error) {
    if (!isAppError(error)) throw error;
    return <Notice tone="error">{error.message}</Notice>;
  }
  const fields = { teamId: ctx.teamId, appId: app.id };
  const source = app.source?.type === "git" ? app.source : null;

  return (
    <>
      <Card title="Repository" description="Where deployments are built from.">
        {source ? (
          <div className="space-y-4">
            <p className="text-sm">
              <code className="break-all font-mono text-xs">{source.url}</code>{" "}
              <span className="text-zinc-500">
                at <code className="font-mono text-xs">{source.ref}</code>
              </span>
            </p>
            {canWrite ? (
              <AutoDeploySwitch
                action={setAutoDeployAction}
                fields={fields}
                enabled={source.autoDeploy}
                branch={source.ref}
              />
            ) : (
              <p className="text-sm" data-testid="auto-deploy-state">
                Deploy on push is {source.autoDeploy ? "on" : "off"}.
              </p>
            )}
          </div>
        ) : (
          <p className="text-sm text-zinc-500">
            This app has no git repository. Set one in <TextLink href={`${path}/settings`}>Settings</TextLink> to deploy
            on push.
          </p>
        )}
      </Card>
      <Card
        title="Webhook"
        description="Your forge calls it on every push; a push to the app's branch deploys exactly the pushed commit."
      >
        <WebhookPanel
          teamId={ctx.teamId}
          appId={app.id}
          webhook={git.webhook}
          actions={canWrite ? { create: createWebhookAction, remove: deleteWebhookAction } : null}
        />
      </Card>
      <Card title="Deliveries" description="The newest deliveries to the webhook and what came of each.">
        <DeliveriesLive
          teamId={ctx.teamId}
          appId={app.id}
          basePath={path}
          initial={{ webhook: git.webhook, deliveries: git.deliveries }}
          poll={pollWebhook}
        />
      </Card>
      <Card title="Deploy key" description="For a private repository cloned over SSH.">
        <DeployKeyPanel fields={fields} deployKey={git.deployKey} create={canWrite ? createDeployKeyAction : null} />
      </Card>
      <Card title="SSH host keys" description="The git server's keys that SSH clones trust.">
        <HostKeys
          teamId={ctx.teamId}
          keys={git.hostKeys}
          actions={canWrite ? { confirm: confirmHostKeyAction, remove: deleteHostKeyAction } : null}
        />
      </Card>
      <Card
        title="HTTPS token"
        description="For a private repository cloned over HTTPS, by forges without deploy keys."
      >
        <GitTokenForm
          fields={fields}
          token={git.gitToken}
          actions={canWrite ? { set: setGitTokenAction, remove: deleteGitTokenAction } : null}
        />
      </Card>
      {!canWrite && app.status !== "deleting" ? (
        <p className="text-sm text-zinc-500">Your role can see the app's git settings, but not change them.</p>
      ) : null}
    </>
  );
}
