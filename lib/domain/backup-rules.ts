// The pure rules of backups (#16): a database's schedule and retention settings, the view a team sees of a backup,
// and which scheduled backups retention keeps. No database access here, so the engine's scheduler and the portal
// share them. Schedules are read by croner, the maintained library the cron jobs already use (lib/domain/cron.ts).
import { Cron } from "croner";
import { z } from "zod";
import type { Backup, TenantDatabase } from "@/lib/generated/prisma/client";

/** Backups run at most hourly: a dump and its verification read the whole database twice. */
const MIN_INTERVAL_MS = 59 * 60 * 1000;
const RUNS_CHECKED = 48;
const MAX_SCHEDULE_LENGTH = 100;

/**
 * The default schedule: daily, at a time in 00:00–05:59 UTC derived from the database's id, so the databases of an
 * installation do not all dump in the same minute.
 */
export function defaultBackupSchedule(databaseId: string): string {
  const n = Number.parseInt(databaseId.replace(/-/g, "").slice(0, 8), 16) || 0;
  const minuteOfNight = n % (6 * 60);
  return `${minuteOfNight % 60} ${Math.floor(minuteOfNight / 60)} * * *`;
}

/** The schedule's problem in words, or null when it is a valid schedule that runs at most hourly (UTC). */
export function backupScheduleProblem(schedule: string): string | null {
  let cron: Cron;
  try {
    cron = new Cron(schedule, { timezone: "UTC", paused: true });
  } catch {
    return "Not a cron schedule (five fields: minute hour day-of-month month day-of-week, in UTC).";
  }
  const runs = cron.nextRuns(RUNS_CHECKED, new Date(Date.UTC(2026, 0, 1)));
  if (runs.length === 0) return "This schedule never runs.";
  for (let i = 1; i < runs.length; i += 1) {
    const previous = runs[i - 1];
    const current = runs[i];
    if (previous && current && current.getTime() - previous.getTime() < MIN_INTERVAL_MS) {
      return "Backups run at most once an hour.";
    }
  }
  return null;
}

/** The next time `schedule` fires strictly after `after`, or null when it never fires again. */
export function nextBackupAt(schedule: string, after: Date): Date | null {
  return new Cron(schedule, { timezone: "UTC", paused: true }).nextRun(after);
}

export const backupSettingsInput = z.strictObject({
  /** A 5-field cron schedule in UTC, at most hourly; null goes back to the default. */
  schedule: z
    .string()
    .trim()
    .min(1)
    .max(MAX_SCHEDULE_LENGTH)
    .superRefine((value, issue) => {
      const problem = backupScheduleProblem(value);
      if (problem) issue.addIssue({ code: "custom", message: problem });
    })
    .nullable()
    .optional(),
  enabled: z.boolean().optional(),
  keepDaily: z.number().int().min(0).max(90).optional(),
  keepWeekly: z.number().int().min(0).max(52).optional(),
});
export type BackupSettingsInput = z.input<typeof backupSettingsInput>;

export type BackupSettingsView = {
  /** The schedule in effect (the default when none was set), in UTC. */
  schedule: string;
  /** Whether the schedule is the derived default. */
  defaultSchedule: boolean;
  enabled: boolean;
  keepDaily: number;
  keepWeekly: number;
  nextAt: Date | null;
};

type SettingsRow = Pick<
  TenantDatabase,
  "id" | "backupSchedule" | "backupEnabled" | "backupKeepDaily" | "backupKeepWeekly" | "backupNextAt"
>;

export function effectiveSchedule(row: Pick<TenantDatabase, "id" | "backupSchedule">): string {
  return row.backupSchedule ?? defaultBackupSchedule(row.id);
}

export function backupSettingsView(row: SettingsRow): BackupSettingsView {
  return {
    schedule: effectiveSchedule(row),
    defaultSchedule: row.backupSchedule === null,
    enabled: row.backupEnabled,
    keepDaily: row.backupKeepDaily,
    keepWeekly: row.backupKeepWeekly,
    nextAt: row.backupEnabled ? row.backupNextAt : null,
  };
}

export type BackupVerification = { ok: true; tables: number; rows: number } | { ok: false; reason: string };

export type BackupView = {
  id: string;
  kind: Backup["kind"];
  /** The database (or Redis) it was taken of; null once that is deleted (the backup stays restorable into a new one). */
  databaseId: string | null;
  redisId: string | null;
  sourceName: string;
  status: Backup["status"];
  trigger: Backup["trigger"];
  /** The dump's size before encryption, in bytes; null until it is stored. */
  sizeBytes: number | null;
  verification: BackupVerification | null;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
};

const verificationShape = z.union([
  z.object({ ok: z.literal(true), tables: z.number(), rows: z.number() }),
  z.object({ ok: z.literal(false), reason: z.string() }),
]);

export function backupView(row: Backup): BackupView {
  const verification = verificationShape.safeParse(row.verification);
  return {
    id: row.id,
    kind: row.kind,
    databaseId: row.databaseId,
    redisId: row.redisId,
    sourceName: row.sourceName,
    status: row.status,
    trigger: row.trigger,
    sizeBytes: row.sizeBytes === null ? null : Number(row.sizeBytes),
    verification: verification.success ? verification.data : null,
    error: row.error,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
  };
}

/** A backup still in progress: one at a time per database. */
export const ACTIVE_BACKUP_STATUSES = ["running", "verifying"] as const satisfies readonly Backup["status"][];

/** The object's key in the store: made here from IDs only, never from anything a tenant typed. */
export function backupStorageKey(row: Pick<Backup, "id" | "teamId" | "kind" | "databaseId" | "redisId">): string {
  const source = row.databaseId ?? row.redisId ?? "orphan";
  return `${row.teamId}/${source}/${row.id}.${row.kind === "postgres" ? "dump" : "redis"}`;
}

/** The file name a download is offered under: the source's name as validated at creation, the date, no path. */
export function downloadFileName(row: Pick<Backup, "sourceName" | "startedAt" | "kind">): string {
  const safe = row.sourceName.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 63) || "backup";
  const stamp = row.startedAt.toISOString().slice(0, 16).replace(/[-:T]/g, "");
  return `${safe}-${stamp}.${row.kind === "postgres" ? "dump" : "redis"}`;
}

/**
 * The scheduled, verified backups retention removes: it keeps the newest `keepDaily` distinct days (the newest
 * backup of each UTC day) and the newest `keepWeekly` distinct ISO weeks (the newest backup of each week) among the
 * rest. Anything else scheduled and finished goes; a backup in progress is never a candidate. Failed scheduled
 * backups go too, once a newer verified one exists: they hold no data but their reason.
 */
export function retentionVictims(
  backups: Pick<Backup, "id" | "status" | "startedAt">[],
  keepDaily: number,
  keepWeekly: number,
): string[] {
  const sorted = [...backups].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || (a.id < b.id ? 1 : -1));
  const verified = sorted.filter((backup) => backup.status === "verified");
  const keep = new Set<string>();
  const days = new Set<string>();
  for (const backup of verified) {
    const day = backup.startedAt.toISOString().slice(0, 10);
    if (days.has(day) || days.size >= keepDaily) continue;
    days.add(day);
    keep.add(backup.id);
  }
  const weeks = new Set<string>();
  for (const backup of verified) {
    const week = isoWeek(backup.startedAt);
    if (weeks.has(week) || weeks.size >= keepWeekly) continue;
    weeks.add(week);
    keep.add(backup.id);
  }
  const newestVerified = verified[0]?.startedAt.getTime() ?? Number.NEGATIVE_INFINITY;
  return sorted
    .filter((backup) => {
      if (keep.has(backup.id)) return false;
      if (backup.status === "verified") return true;
      return backup.status === "failed" && backup.startedAt.getTime() < newestVerified;
    })
    .map((backup) => backup.id);
}

function isoWeek(date: Date): string {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${week}`;
}
