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
import {
  backUpNowAction,
  changeBackupSettingsAction,
  deleteBackupAction,
  pollBackups,
  restoreBackupAction,
} from "@/app/(portal)/teams/[teamId]/databases/backup-actions";
import { type ServiceDetail, serviceDetail } from "@/app/(portal)/teams/[teamId]/databases/service-data";
import { teamPage } from "@/app/(portal)/teams/[teamId]/team-page";
import { BackupsSection } from "@/components/backups/backups-section";
import { ServiceDetailView } from "@/components/services/service-views";
import { Notice } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import { latestBackup, listDatabaseBackups } from "@/lib/domain/backups";
import { getDatabase } from "@/lib/domain/databases";
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
  // The section shows the newest backups (the same page the section polls) and the schedule.
  const [backups, database] = await Promise.all([
    listDatabaseBackups(getDb(), ctx, databaseId, { limit: 30 }),
    getDatabase(getDb(), ctx, databaseId),
  ]);
  const admin = roleAllows(ctx.role, "databases:manage");
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
          admin
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
      <BackupsSection
        ids={{ teamId: ctx.teamId, databaseId }}
        databaseName={database.name}
        initial={backups.items}
        settings={database.backups}
        backUpNow={roleAllows(ctx.role, "backups:create") ? backUpNowAction : null}
        actions={
          admin
            ? { restore: restoreBackupAction, remove: deleteBackupAction, settings: changeBackupSettingsAction }
            : null
        }
        poll={pollBackups}
      />
    </>
  );
}
