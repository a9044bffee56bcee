import type { Metadata } from "next";
import { ServiceListPage } from "@/app/(portal)/teams/[teamId]/databases/service-list-page";
import { pollRedis } from "@/app/(portal)/teams/[teamId]/redis/actions";
import type { SearchParams } from "@/app/search-params";

export const metadata: Metadata = { title: "Redis" };

export default async function RedisPage({
  params,
  searchParams,
}: {
  params: Promise<{ teamId: string }>;
  searchParams: SearchParams;
}) {
  const { teamId } = await params;
  return <ServiceListPage kind="redis" teamId={teamId} searchParams={searchParams} poll={pollRedis} />;
}
