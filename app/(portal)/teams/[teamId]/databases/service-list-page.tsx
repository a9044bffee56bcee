// The list page of databases and of Redis instances: one server component for both kinds.
import { listServicesWithApps, type ServicesPage } from "@/app/(portal)/teams/[teamId]/databases/service-data";
import { teamPage } from "@/app/(portal)/teams/[teamId]/team-page";
import { firstParam, type SearchParams } from "@/app/search-params";
import { Pager } from "@/components/pager";
import type { ServicePoll } from "@/components/services/service-types";
import { ServiceList } from "@/components/services/service-views";
import { Notice } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import { isAppError } from "@/lib/errors";

const PAGE_SIZE = 25;

export async function ServiceListPage({
  kind,
  teamId,
  searchParams,
  poll,
}: {
  kind: "database" | "redis";
  teamId: string;
  searchParams: SearchParams;
  poll: ServicePoll;
}) {
  const cursor = firstParam((await searchParams).cursor);
  const path = `/teams/${teamId}/${kind === "database" ? "databases" : "redis"}`;
  const { ctx } = await teamPage(teamId, path);
  let page: ServicesPage;
  try {
    page = await listServicesWithApps(getDb(), ctx, kind, { limit: PAGE_SIZE, cursor });
  } catch (error) {
    if (!isAppError(error)) throw error;
    return <Notice tone="error">{error.message}</Notice>;
  }
  return (
    <>
      <ServiceList
        kind={kind}
        teamId={ctx.teamId}
        rows={page.items}
        pending={page.pending}
        canManage={roleAllows(ctx.role, "databases:manage")}
        poll={poll}
        paged={cursor !== undefined}
      />
      <Pager path={path} cursor={cursor} nextCursor={page.nextCursor} />
    </>
  );
}
