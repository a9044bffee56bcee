"use server";

// The Backups section's server actions (the database page) and the Redis page's export and import (#16): thin,
// through teamAction (membership) and lib/domain/backups / redis-exports, which check the role whatever the page
// showed. Restoring over a database asks for its name typed, like deleting it.
import { refresh } from "next/cache";
import { z } from "zod";
import { type ActionState, teamAction, teamCall } from "@/lib/actions";
import type { BackupView } from "@/lib/domain/backup-rules";
import { createBackup, deleteBackup, listDatabaseBackups, restoreBackup } from "@/lib/domain/backups";
import { getDatabase, updateDatabase } from "@/lib/domain/databases";
import { getRedis } from "@/lib/domain/redis";
import { createRedisExport, importRedisExport } from "@/lib/domain/redis-exports";
import { isAppError } from "@/lib/errors";

const teamInput = z.strictObject({ teamId: z.uuid() });
const databaseInput = teamInput.extend({ databaseId: z.uuid() });
const backupInput = databaseInput.extend({ backupId: z.uuid() });
const redisInput = teamInput.extend({ redisId: z.uuid() });

/** How many backups the section shows and polls: the newest; the API pages through the rest. */
const BACKUPS_SHOWN = 30;

export const backUpNowAction = teamAction(databaseInput, async (input, { db, ctx }) => {
  await createBackup(db, ctx, input.databaseId);
  refresh();
  return {
    status: "success",
    message: "Backing up: the backup is verified by restoring it once, then listed as verified.",
  };
});

export const deleteBackupAction = teamAction(backupInput, async (input, { db, ctx }) => {
  await deleteBackup(db, ctx, input.backupId);
  refresh();
  return { status: "success", message: "Deleting the backup." };
});

export const restoreBackupAction = teamAction(
  backupInput.extend({
    target: z.enum(["new", "same"], { error: "Choose where to restore." }),
    name: z.string().max(200).optional(),
    // Compared exactly with the database's name, so no trimming.
    confirmName: z.string().max(200).optional(),
  }),
  async (input, { db, ctx }) => {
    if (input.target === "same") {
      const database = await getDatabase(db, ctx, input.databaseId);
      if (input.confirmName !== database.name) {
        return {
          status: "error",
          message: "Type the database's name to replace its contents.",
          fieldErrors: { confirmName: `Type “${database.name}” exactly.` },
        };
      }
      await restoreBackup(db, ctx, input.backupId, { target: "same" });
      refresh();
      return {
        status: "success",
        message:
          "Restoring: a safety backup is taken first; the app sees connection errors while the data is replaced.",
      };
    }
    const name = input.name?.trim() ? input.name.trim() : undefined;
    const { databaseId } = await restoreBackup(db, ctx, input.backupId, { target: "new", name });
    refresh();
    return {
      status: "success",
      message: `Restoring into a new database: it appears in Databases (${databaseId}) once it is provisioned.`,
    };
  },
);

// Words, not cron-parser or zod internals: the form's numbers are checked here, the schedule by the domain.
const keep = (max: number, label: string) =>
  z.coerce
    .number({ error: `${label} must be a whole number.` })
    .int(`${label} must be a whole number.`)
    .min(0, `${label} is at least 0.`)
    .max(max, `${label} is at most ${max}.`);

export const changeBackupSettingsAction = teamAction(
  databaseInput.extend({
    enabled: z.literal("on").optional(),
    schedule: z.string().max(200),
    keepDaily: keep(90, "Daily backups kept"),
    keepWeekly: keep(52, "Weekly backups kept"),
  }),
  async (input, { db, ctx }) => {
    const schedule = input.schedule.trim() === "" ? null : input.schedule.trim();
    try {
      await updateDatabase(db, ctx, input.databaseId, {
        backups: {
          enabled: input.enabled === "on",
          schedule,
          keepDaily: input.keepDaily,
          keepWeekly: input.keepWeekly,
        },
      });
    } catch (error) {
      // The domain names fields "backups.schedule"; the form's fields are "schedule".
      if (isAppError(error) && error.code === "invalid" && Array.isArray(error.details)) {
        const fieldErrors: Record<string, string> = {};
        for (const detail of error.details as { path?: string; message?: string }[]) {
          if (detail.path && detail.message) fieldErrors[detail.path.replace(/^backups\./, "")] ??= detail.message;
        }
        return { status: "error", message: error.message, fieldErrors };
      }
      throw error;
    }
    refresh();
    return { status: "success", message: "Saved." };
  },
);

/** The section polls this while a backup is running or verifying; membership and role are checked on each call. */
export const pollBackups = teamCall<typeof databaseInput, BackupView[]>(databaseInput, async (input, { db, ctx }) => {
  const page = await listDatabaseBackups(db, ctx, input.databaseId, { limit: BACKUPS_SHOWN });
  return { status: "success", data: page.items };
});

export const exportRedisAction = teamAction(redisInput, async (input, { db, ctx }) => {
  await createRedisExport(db, ctx, input.redisId);
  refresh();
  return { status: "success", message: "Exporting: the export is listed as succeeded when every key is copied." };
});

export const importRedisAction = teamAction(
  redisInput.extend({
    exportId: z.uuid({ error: "Choose an export." }),
    mode: z.enum(["merge", "replace"], { error: "Choose merge or replace." }),
    confirmName: z.string().max(200).optional(),
  }),
  async (input, { db, ctx }): Promise<ActionState> => {
    // Replace empties the instance first: asked for its name typed, like deleting it.
    if (input.mode === "replace") {
      const redis = await getRedis(db, ctx, input.redisId);
      if (input.confirmName !== redis.name) {
        return {
          status: "error",
          message: "Type the instance's name to replace its keys.",
          fieldErrors: { confirmName: `Type “${redis.name}” exactly.` },
        };
      }
    }
    await importRedisExport(db, ctx, input.redisId, { exportId: input.exportId, mode: input.mode });
    refresh();
    return { status: "success", message: "Importing the export's keys." };
  },
);
