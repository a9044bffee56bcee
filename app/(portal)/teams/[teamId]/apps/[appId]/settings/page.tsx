import type { Metadata } from "next";
import type { ReactNode } from "react";
import { appPage, appTitle } from "@/app/(portal)/teams/[teamId]/apps/[appId]/app-page";
import { deleteAppAction, updateAppAction } from "@/app/(portal)/teams/[teamId]/apps/[appId]/settings/actions";
import { latestDetected } from "@/app/(portal)/teams/[teamId]/apps/[appId]/settings/detected";
import { BuildForm, DeleteAppForm, RenameAppForm, ResourcesForm, SourceForm } from "@/components/apps/settings-forms";
import { Card } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import type { AppView } from "@/lib/domain/apps";

type Params = Promise<{ teamId: string; appId: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { teamId, appId } = await params;
  const name = await appTitle(teamId, appId);
  return name ? { title: `Settings · ${name}` } : {};
}

function Setting({ label, value }: { label: string; value: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs text-zinc-500 uppercase tracking-wide">{label}</dt>
      <dd className="mt-1 break-words text-sm">{value}</dd>
    </div>
  );
}

function Code({ value, empty = "detected" }: { value: string | null; empty?: string }) {
  return value ? (
    <code className="break-all font-mono text-xs">{value}</code>
  ) : (
    <span className="text-zinc-500">{empty}</span>
  );
}

/** What viewers see instead of the forms: the same settings, read-only. */
function ReadOnlySettings({ app }: { app: AppView }) {
  const git = app.source?.type === "git" ? app.source : null;
  return (
    <>
      <Card title="Source">
        <dl className="grid gap-4 sm:grid-cols-3">
          <Setting label="Repository" value={<Code value={git?.url ?? null} empty="none (uploads only)" />} />
          <Setting label="Branch or tag" value={<Code value={git?.ref ?? null} empty="—" />} />
          <Setting label="Subdirectory" value={<Code value={app.settings.subdirectory} empty="the root" />} />
        </dl>
      </Card>
      <Card title="Build">
        <dl className="grid gap-4 sm:grid-cols-2">
          <Setting label="Python version" value={<Code value={app.settings.pythonVersion} />} />
          <Setting label="Install command" value={<Code value={app.settings.installCommand} />} />
          <Setting label="Web command" value={<Code value={app.settings.webCommand} />} />
          <Setting label="Release command" value={<Code value={app.settings.releaseCommand} />} />
        </dl>
      </Card>
      <Card title="Resources">
        <dl className="grid gap-4 sm:grid-cols-4">
          <Setting label="Memory" value={`${app.settings.memoryMb} MiB`} />
          <Setting label="CPU" value={`${app.settings.cpuMillis / 1000}`} />
          <Setting label="Replicas" value={app.replicas} />
          <Setting label="Health-check path" value={<Code value={app.settings.healthCheckPath} />} />
        </dl>
      </Card>
      <p className="text-sm text-zinc-500">Your role can see this app's settings, but not change them.</p>
    </>
  );
}

export default async function AppSettingsPage({ params }: { params: Params }) {
  const { teamId, appId } = await params;
  const { ctx, app } = await appPage(teamId, appId, `/teams/${teamId}/apps/${appId}/settings`);
  if (!roleAllows(ctx.role, "apps:write") || app.status === "deleting") return <ReadOnlySettings app={app} />;
  const props = { action: updateAppAction, teamId: ctx.teamId, app };
  const detected = await latestDetected(getDb(), ctx, app.id);

  return (
    <>
      <Card title="Name" description="The name is part of the app's address.">
        <RenameAppForm {...props} />
      </Card>
      <Card title="Source" description="Where “Deploy from git” fetches the code. Uploads work with or without it.">
        <SourceForm {...props} detected={detected} />
      </Card>
      <Card title="Build" description="Override what the build detects. Changes apply from the next deployment.">
        <BuildForm {...props} detected={detected} />
      </Card>
      <Card title="Resources" description="Limits and scale of the running app, applied at the next release.">
        <ResourcesForm {...props} />
      </Card>
      <section className="rounded-xl border border-red-200 bg-white p-5 sm:p-6 dark:border-red-900 dark:bg-zinc-950">
        <h2 className="font-semibold text-base text-red-700 dark:text-red-400">Delete this app</h2>
        <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
          Stops it and removes its address, images, deployments and environment variables. This cannot be undone.
        </p>
        <div className="mt-4">
          <DeleteAppForm action={deleteAppAction} teamId={ctx.teamId} app={app} />
        </div>
      </section>
    </>
  );
}
