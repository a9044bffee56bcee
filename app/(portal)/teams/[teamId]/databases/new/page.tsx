import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { createDatabaseAction } from "@/app/(portal)/teams/[teamId]/databases/actions";
import { teamPage } from "@/app/(portal)/teams/[teamId]/team-page";
import { CreateServiceForm } from "@/components/services/service-forms";
import { Card, Notice, PageHeader, TextLink } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import { tenantPostgresConfig } from "@/lib/services/tenant-services";

export const metadata: Metadata = { title: "New database" };

export default async function NewDatabasePage({ params }: { params: Promise<{ teamId: string }> }) {
  const { teamId } = await params;
  const { ctx } = await teamPage(teamId, `/teams/${teamId}/databases/new`);
  // Viewers and members cannot create one: the page is as absent for them as the button that leads here.
  if (!roleAllows(ctx.role, "databases:manage")) notFound();
  const apps = await getDb().app.findMany({
    where: { teamId: ctx.teamId, status: { not: "deleting" } },
    orderBy: [{ name: "asc" }, { id: "asc" }],
    select: { id: true, name: true },
    take: 500,
  });
  return (
    <>
      <p className="text-sm">
        <TextLink href={`/teams/${ctx.teamId}/databases`}>← All databases</TextLink>
      </p>
      <PageHeader
        title="New database"
        description="Its own PostgreSQL role and database on the tenant server; nobody else's app can reach it."
      />
      {tenantPostgresConfig() ? null : (
        <Notice tone="warning">PostgreSQL databases are not available on this installation.</Notice>
      )}
      <Card>
        <CreateServiceForm kind="database" teamId={ctx.teamId} apps={apps} action={createDatabaseAction} />
      </Card>
    </>
  );
}
