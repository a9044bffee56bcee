// Each minute: due scheduled backups, retention, scratch leftovers (lib/engine/backups/schedule.ts).
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { pgBackupAdapter } from "@/lib/engine/backups/adapters";
import { scheduleBackups } from "@/lib/engine/backups/schedule";

export const backupSchedule = defineTask(catalog.backup__schedule, {
  async run(_payload, { db, log }) {
    await scheduleBackups({ db, log, pg: pgBackupAdapter() });
  },
});
