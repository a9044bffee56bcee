import type { Metadata } from "next";
import { pollDatabases } from "@/app/(portal)/teams/[teamId]/databases/actions";
import { ServiceListPage } from "@/app/(portal)/teams/[teamId]/databases/service-list-page";
import type { SearchParams } from "@/app/search-params";

export const metadata: Metadata = { title: "Databases" };

export default async function DatabasesPage({
  params,
  searchParams,
}: {
  params: Promise<{ teamId: string }>;
  searchParams: SearchParams;
}) {
  const { teamId } = await params;
  return <ServiceListPage kind="database" teamId={teamId} searchParams={searchParams} poll={pollDatabases} />;
}
