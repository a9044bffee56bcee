import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { createRedisAction } from "@/app/(portal)/teams/[teamId]/redis/actions";
import { teamPage } from "@/app/(portal)/teams/[teamId]/team-page";
import { CreateServiceForm } from "@/components/services/service-forms";
import { Card, Notice, PageHeader, TextLink } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import { tenantRedisConfig } from "@/lib/services/tenant-services";

export const metadata: Metadata = { title: "New Redis instance" };

export default async function NewRedisPage({ params }: { params: Promise<{ teamId: string }> }) {
  const { teamId } = await params;
  const { ctx } = await teamPage(teamId, `/teams/${teamId}/redis/new`);
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
        <TextLink href={`/teams/${ctx.teamId}/redis`}>← All Redis instances</TextLink>
      </p>
      <PageHeader
        title="New Redis instance"
        description="A user of the shared tenant Redis that sees only the keys and channels under its own prefix."
      />
      {tenantRedisConfig() ? null : (
        <Notice tone="warning">Redis is not available on this installation (redis-server is not installed).</Notice>
      )}
      <Card>
        <CreateServiceForm kind="redis" teamId={ctx.teamId} apps={apps} action={createRedisAction} />
      </Card>
    </>
  );
}
