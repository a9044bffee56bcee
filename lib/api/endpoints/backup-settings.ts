// The backup settings every database answer carries and PATCH /api/v1/databases/{id} takes (#16). A leaf apart from
// backups.ts: services.ts imports it, and backups.ts imports the shared examples, which import services.ts.
import { z } from "zod";
import { iso, isoDate } from "@/lib/api/endpoints/common";
import type { BackupSettingsView } from "@/lib/domain/backup-rules";

export const backupSettingsSchema = z.object({
  schedule: z.string().describe("A 5-field cron schedule in UTC, at most hourly"),
  defaultSchedule: z.boolean().describe("Whether the schedule is the default: daily at a time derived from the id"),
  enabled: z.boolean().describe("Whether scheduled backups run"),
  keepDaily: z.number().int().describe("Scheduled backups kept: the newest of each of this many days"),
  keepWeekly: z.number().int().describe("…and the newest of each of this many ISO weeks"),
  nextAt: isoDate.nullable().describe("When the next scheduled backup starts; null when disabled or not yet planned"),
});

export function backupSettingsJson(view: BackupSettingsView): z.input<typeof backupSettingsSchema> {
  return { ...view, nextAt: iso(view.nextAt) };
}

export const backupSettingsChange = z
  .strictObject({
    schedule: z
      .string()
      .max(100)
      .nullable()
      .optional()
      .describe("Cron schedule in UTC (at most hourly); null: default"),
    enabled: z.boolean().optional(),
    keepDaily: z.number().int().min(0).max(90).optional(),
    keepWeekly: z.number().int().min(0).max(52).optional(),
  })
  .describe("Backup schedule and retention; the fields left out stay");
