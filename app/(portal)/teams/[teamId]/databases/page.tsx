import type { Metadata } from "next";
import { pollDatabases } from "@/app/(portal)/teams/[teamId]/databases/actions";
import { listServicesWithApps, type ServicesPage } from "@/app/(portal)/teams/[teamId]/databases/service-data";
import { teamPage } from "@/app/(portal)/teams/[teamId]/team-page";
import { firstParam, type SearchParams } from "@/app/search-params";
import { Pager } from "@/components/pager";
import { ServiceList } from "@/components/services/service-views";
import { Notice } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import { isAppError } from "@/lib/errors";

export const metadata: Metadata = { title: "Databases" };

const PAGE_SIZE = 25;

export default async function DatabasesPage({
  params,
  searchParams,
}: {
  params: Promise<{ teamId: string }>;
  searchParams: SearchParams;
}) {
  const { teamId } = await params;
  const cursor = firstParam((await searchParams).cursor);
  const path = `/teams/${teamId}/databases`;
  const { ctx } = await teamPage(teamId, path);
  let page: ServicesPage;
  try {
    page = await listServicesWithApps(getDb(), ctx, "database", { limit: PAGE_SIZE, cursor });
  } catch (error) {
    if (!isAppError(error)) throw error;
    return <Notice tone="error">{error.message}</Notice>;
  }
  return (
    <>
      <ServiceList
        kind="database"
        teamId={ctx.teamId}
        rows={page.items}
        pending={page.pending}
        canManage={roleAllows(ctx.role, "databases:manage")}
        poll={pollDatabases}
        paged={cursor !== undefined}
      />
      <Pager path={path} cursor={cursor} nextCursor={page.nextCursor} />
    </>
  );
}
