import type { Metadata } from "next";
import { listServicesWithApps, type ServicesPage } from "@/app/(portal)/teams/[teamId]/databases/service-data";
import { pollRedis } from "@/app/(portal)/teams/[teamId]/redis/actions";
import { teamPage } from "@/app/(portal)/teams/[teamId]/team-page";
import { firstParam, type SearchParams } from "@/app/search-params";
import { Pager } from "@/components/pager";
import { ServiceList } from "@/components/services/service-views";
import { Notice } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import { isAppError } from "@/lib/errors";

export const metadata: Metadata = { title: "Redis" };

const PAGE_SIZE = 25;

export default async function RedisPage({
  params,
  searchParams,
}: {
  params: Promise<{ teamId: string }>;
  searchParams: SearchParams;
}) {
  const { teamId } = await params;
  const cursor = firstParam((await searchParams).cursor);
  const path = `/teams/${teamId}/redis`;
  const { ctx } = await teamPage(teamId, path);
  let page: ServicesPage;
  try {
    page = await listServicesWithApps(getDb(), ctx, "redis", { limit: PAGE_SIZE, cursor });
  } catch (error) {
    if (!isAppError(error)) throw error;
    return <Notice tone="error">{error.message}</Notice>;
  }
  return (
    <>
      <ServiceList
        kind="redis"
        teamId={ctx.teamId}
        rows={page.items}
        pending={page.pending}
        canManage={roleAllows(ctx.role, "databases:manage")}
        poll={pollRedis}
        paged={cursor !== undefined}
      />
      <Pager path={path} cursor={cursor} nextCursor={page.nextCursor} />
    </>
  );
}
