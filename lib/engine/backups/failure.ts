// How a backup job's failure reads to a team, and what happens when a backup fails for good. The adapters say which
// of their failures are transient (InfraError.retryable: a server restarting, a store unreachable); those are thrown
// again so graphile-worker retries with backoff, the rest end the backup now with their user-readable message.
import type { Logger } from "pino";
import type { Db } from "@/lib/db";
import { notifyTeam } from "@/lib/domain/notifications";
import { AppError } from "@/lib/errors";
import { InfraError } from "@/lib/infra/errors";

/** The reason to show now, or null to let the job be retried. */
export function finalBackupReason(error: unknown): string | null {
  if (error instanceof AppError) return error.retryable ? null : error.message;
  if (error instanceof InfraError) return error.retryable ? null : error.userMessage;
  return null;
}

/**
 * Marks a backup failed unless it already finished, and tells the team's notification channels (backup.failed) in the
 * same transaction. The one place every failure path goes through (the run, its verification, the give-up), so the
 * event is raised once per failed backup; the database's page shows it from the row itself.
 */
export async function failBackup(
  db: Db,
  log: Logger,
  backupId: string,
  reason: string,
  extra: { verification?: { ok: false; reason: string } } = {},
): Promise<boolean> {
  const failed = await db.$transaction(async (tx) => {
    const done = await tx.backup.updateMany({
      where: { id: backupId, status: { in: ["running", "verifying"] } },
      data: {
        status: "failed",
        error: reason.slice(0, 2000),
        finishedAt: new Date(),
        ...(extra.verification ? { verification: extra.verification } : {}),
      },
    });
    if (done.count !== 1) return null;
    const row = await tx.backup.findUnique({
      where: { id: backupId },
      select: { teamId: true, kind: true, databaseId: true, sourceName: true },
    });
    if (!row) return null;
    const what = row.kind === "postgres" ? `Backup of ${row.sourceName}` : `Export of ${row.sourceName}`;
    await notifyTeam(tx, {
      teamId: row.teamId,
      event: "backup.failed",
      subject: { databaseId: row.databaseId },
      summary: `${what} failed: ${reason}`,
      dedupeKey: `backup.failed:${backupId}`,
    });
    return row;
  });
  if (!failed) return false;
  log.warn({ teamId: failed.teamId, backupId, databaseId: failed.databaseId, reason }, "backup failed");
  return true;
}
