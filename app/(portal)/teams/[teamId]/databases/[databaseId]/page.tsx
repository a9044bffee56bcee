import type { Metadata } from "next";
import { notFound } from "next/navigation";
import {
  attachDatabaseAction,
  changeDatabaseLimitsAction,
  deleteDatabaseAction,
  pollDatabases,
  revealDatabaseCredentialsAction,
  rotateDatabaseAction,
} from "@/app/(portal)/teams/[teamId]/databases/actions";
import { type ServiceDetail, serviceDetail } from "@/app/(portal)/teams/[teamId]/databases/service-data";
import { teamPage } from "@/app/(portal)/teams/[teamId]/team-page";
import { ServiceDetailView } from "@/components/services/service-views";
import { Notice } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import { latestBackup } from "@/lib/domain/backups";
import { isAppError } from "@/lib/errors";

export const metadata: Metadata = { title: "Database" };

export default async function DatabasePage({ params }: { params: Promise<{ teamId: string; databaseId: string }> }) {
  const { teamId, databaseId } = await params;
  const { ctx } = await teamPage(teamId, `/teams/${teamId}/databases/${databaseId}`);
  let detail: ServiceDetail;
  try {
    detail = await serviceDetail(getDb(), ctx, "database", databaseId);
  } catch (error) {
    // Another team's database and a malformed ID look the same as one that does not exist.
    if (isAppError(error) && error.code === "not_found") notFound();
    throw error;
  }
  // A failed newest backup is said first: the team must not find out when it needs the backup (#16).
  const latest = await latestBackup(getDb(), ctx, databaseId);
  return (
    <>
      {latest?.status === "failed" ? (
        <Notice tone="error" title="The latest backup of this database failed">
          {latest.error ?? "It could not be verified."} Back up again once the cause is fixed.
        </Notice>
      ) : null}
      <ServiceDetailView
        kind="database"
        teamId={ctx.teamId}
        service={detail.service}
        pending={detail.pending}
        apps={detail.apps}
        poll={pollDatabases}
        actions={
          roleAllows(ctx.role, "databases:manage")
            ? {
                attach: attachDatabaseAction,
                rotate: rotateDatabaseAction,
                reveal: revealDatabaseCredentialsAction,
                remove: deleteDatabaseAction,
                limits: changeDatabaseLimitsAction,
              }
            : null
        }
      />
    </>
  );
}
