import type { Metadata } from "next";
import { appPage, appTitle } from "@/app/(portal)/teams/[teamId]/apps/[appId]/app-page";
import {
  addDomainAction,
  pollAppDomains,
  removeDomainAction,
  updateDomainAction,
  verifyDomainAction,
} from "@/app/(portal)/teams/[teamId]/apps/[appId]/domains/actions";
import { type AppDomains, loadAppDomains } from "@/app/(portal)/teams/[teamId]/apps/[appId]/domains/domains-data";
import { AddDomainForm } from "@/components/apps/domains/add-domain-form";
import { DomainsLive } from "@/components/apps/domains/domains-live";
import { Card, Notice } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { isAppError } from "@/lib/errors";

type Params = Promise<{ teamId: string; appId: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { teamId, appId } = await params;
  const name = await appTitle(teamId, appId);
  return name ? { title: `Domains · ${name}` } : {};
}

export default async function AppDomainsPage({ params }: { params: Params }) {
  const { teamId, appId } = await params;
  const { ctx, app } = await appPage(teamId, appId, `/teams/${teamId}/apps/${appId}/domains`);
  const canWrite = roleAllows(ctx.role, "apps:write") && app.status !== "deleting";

  let domains: AppDomains;
  try {
    domains = await loadAppDomains(getDb(), ctx, app.id);
  } catch (error) {
    if (!isAppError(error)) throw error;
    return <Notice tone="error">{error.message}</Notice>;
  }
  const tlsEnabled = getEnv().tls.enabled;

  return (
    <>
      <Card
        title="Custom domains"
        description={
          tlsEnabled
            ? "Serve the app on your own hostnames. Each is routed, and gets an HTTPS certificate, once DNS shows it is yours."
            : "Serve the app on your own hostnames. Each is routed once DNS shows it is yours (this installation serves plain HTTP)."
        }
      >
        <DomainsLive
          teamId={ctx.teamId}
          appId={app.id}
          initial={domains}
          poll={pollAppDomains}
          tlsEnabled={tlsEnabled}
          actions={
            canWrite ? { verify: verifyDomainAction, update: updateDomainAction, remove: removeDomainAction } : null
          }
        />
      </Card>
      {canWrite ? (
        <Card title="Add a domain">
          <AddDomainForm action={addDomainAction} teamId={ctx.teamId} appId={app.id} />
        </Card>
      ) : app.status !== "deleting" ? (
        <p className="text-sm text-zinc-500">Your role can see the app's domains, but not change them.</p>
      ) : null}
    </>
  );
}
