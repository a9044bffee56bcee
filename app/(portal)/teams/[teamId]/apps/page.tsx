import type { Metadata } from "next";
import Link from "next/link";
import { type AppRow, listAppsWithLatestDeployment } from "@/app/(portal)/teams/[teamId]/apps/apps-list";
import { teamPage } from "@/app/(portal)/teams/[teamId]/team-page";
import { firstParam, type SearchParams } from "@/app/search-params";
import { AppsTable } from "@/components/apps/apps-table";
import { Pager } from "@/components/pager";
import { buttonClass, Card, EmptyState, Notice, PageHeader } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import type { Page } from "@/lib/domain/pagination";
import { isAppError } from "@/lib/errors";

export const metadata: Metadata = { title: "Apps" };

const PAGE_SIZE = 25;

export default async function AppsPage({
  params,
  searchParams,
}: {
  params: Promise<{ teamId: string }>;
  searchParams: SearchParams;
}) {
  const { teamId } = await params;
  const cursor = firstParam((await searchParams).cursor);
  const path = `/teams/${teamId}/apps`;
  const { ctx } = await teamPage(teamId, path);
  const canWrite = roleAllows(ctx.role, "apps:write");

  let page: Page<AppRow>;
  try {
    page = await listAppsWithLatestDeployment(getDb(), ctx, { limit: PAGE_SIZE, cursor });
  } catch (error) {
    if (!isAppError(error)) throw error;
    return <Notice tone="error">{error.message}</Notice>;
  }

  return (
    <>
      <PageHeader
        title="Apps"
        description="Each app gets its own address, build and releases. Deploy from git or upload a tarball."
        actions={
          canWrite ? (
            <Link href={`${path}/new`} className={buttonClass("primary")}>
              New app
            </Link>
          ) : null
        }
      />
      <Card>
        {page.items.length === 0 ? (
          <EmptyState title={cursor ? "No more apps" : "No apps yet"}>
            {canWrite ? (
              <div className="space-y-4">
                <p>Create an app, then deploy it from a git repository or an uploaded .tar.gz.</p>
                <Link href={`${path}/new`} className={buttonClass("primary")}>
                  Create your first app
                </Link>
              </div>
            ) : (
              "Apps deployed to this team will appear here. Your role can view them but not deploy."
            )}
          </EmptyState>
        ) : (
          <AppsTable teamId={ctx.teamId} rows={page.items} />
        )}
      </Card>
      <Pager path={path} cursor={cursor} nextCursor={page.nextCursor} />
    </>
  );
}
