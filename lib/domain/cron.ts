// An app's cron jobs: a set replaced as a whole (PUT /api/v1/apps/{appId}/cron), each a schedule read in an IANA time
// zone. Schedules are parsed by croner, a maintained library that knows the 5-field syntax, the @daily nicknames and
// DST (a 02:30 job runs at 03:00 on the spring-forward day and once on the fall-back day); the ticks themselves are
// turned into runs by lib/domain/cron-ticks.ts.
import { Cron } from "croner";
import { z } from "zod";
import type { Db } from "@/lib/db";
import { recordAudit } from "@/lib/domain/audit";
import { authorize, type Ctx } from "@/lib/domain/context";
import { enforceCronJobQuota } from "@/lib/domain/quotas";
import { lineText } from "@/lib/domain/text";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import type { CronJob } from "@/lib/generated/prisma/client";

export const CRON_JOB_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const MAX_COMMAND_LENGTH = 4096;
export const MAX_CRON_JOBS_PER_APP = 100;
const MAX_SCHEDULE_LENGTH = 200;

export type CronJobView = {
  id: string;
  name: string;
  schedule: string;
  command: string;
  timezone: string;
  timeoutSeconds: number;
  enabled: boolean;
  nextRunAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
};

/** A command run by `/bin/sh -c` inside the tenant's container: one line, no control characters (lib/domain/text.ts). */
export const commandSchema = lineText({ trim: true }).min(1, "Give a command.").max(MAX_COMMAND_LENGTH);

export const cronJobInput = z.strictObject({
  name: z.string().regex(CRON_JOB_NAME, "A lower-case DNS label: letters, digits and hyphens, at most 63."),
  schedule: z.string().trim().min(1).max(MAX_SCHEDULE_LENGTH),
  command: commandSchema,
  timezone: z.string().max(64).optional(),
  timeoutSeconds: z.number().int().min(1).max(86_400).optional(),
});

export const putCronInput = z.strictObject({ jobs: z.array(cronJobInput).max(MAX_CRON_JOBS_PER_APP) });
export type PutCronInput = z.input<typeof putCronInput>;

function invalid(path: string, message: string): AppError {
  return new AppError("invalid", message, { details: [{ path, message }] });
}

/** Domain functions validate too (the portal and the API both reach them): zod's issues as a 422 with paths. */
export function parseOrInvalid<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((issue) => ({
    path: issue.path.map(String).join("."),
    message: issue.message,
  }));
  throw new AppError("invalid", details[0]?.message ?? "Invalid input.", { details });
}

/** The canonical IANA name of a zone Intl knows, or null ("europe/stockholm" → "Europe/Stockholm"). */
export function canonicalTimeZone(zone: string): string | null {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(zone)) return null;
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/**
 * The parsed schedule (paused: never fires by itself; the scheduler asks it for ticks). Exactly five fields or a
 * nickname: croner also reads seconds and years, which a per-minute scheduler cannot honour.
 */
export function parseSchedule(schedule: string, timezone: string): Cron {
  return new Cron(schedule, { timezone, paused: true, mode: "5-part" });
}

/** Throws `invalid` naming the field when the schedule or the zone is not one croner and Intl accept. */
export function validateSchedule(schedule: string, timezone: string, path = ""): { timezone: string } {
  const zone = canonicalTimeZone(timezone);
  if (!zone) throw invalid(`${path}timezone`, `${timezone} is not an IANA time zone (e.g. Europe/Stockholm, UTC).`);
  let cron: Cron;
  try {
    cron = parseSchedule(schedule, zone);
  } catch {
    throw invalid(
      `${path}schedule`,
      `"${schedule.slice(0, 60)}" is not a cron schedule: five fields (minute hour day month weekday) or @hourly, @daily, @weekly, @monthly, @yearly.`,
    );
  }
  if (cron.nextRun(new Date()) === null) throw invalid(`${path}schedule`, "The schedule never runs.");
  return { timezone: zone };
}

export function cronJobView(row: CronJob, now = new Date()): CronJobView {
  let nextRunAt: Date | null = null;
  try {
    nextRunAt = parseSchedule(row.schedule, row.timezone).nextRun(now);
  } catch {
    // Stored schedules were validated; a library upgrade that stops reading one shows no next run rather than a 500.
  }
  return {
    id: row.id,
    name: row.name,
    schedule: row.schedule,
    command: row.command,
    timezone: row.timezone,
    timeoutSeconds: row.timeoutSeconds,
    enabled: row.enabled,
    nextRunAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export async function getCronJobs(db: Db, ctx: Ctx, appId: string): Promise<CronJobView[]> {
  authorize(ctx, "apps:read");
  const app = await db.app.findFirst({
    where: { id: appId, teamId: ctx.teamId },
    select: { cronJobs: { orderBy: { name: "asc" } } },
  });
  if (!app) throw new AppError("not_found", "App not found.");
  return app.cronJobs.map((row) => cronJobView(row));
}

/**
 * Replaces the app's cron jobs with `input.jobs`, by name. A job whose schedule or zone is unchanged keeps its place
 * in time; a new or rescheduled one starts from now, so it never runs a tick from before it existed.
 */
export async function putCronJobs(db: Db, ctx: Ctx, appId: string, input: PutCronInput): Promise<CronJobView[]> {
  authorize(ctx, "apps:write");
  const { jobs } = parseOrInvalid(putCronInput, input);
  const { maxTimeoutS, defaultTimeoutS } = getEnv().runs;
  const names = new Set<string>();
  const wanted = jobs.map((job, index) => {
    if (names.has(job.name)) throw invalid(`jobs.${index}.name`, `Two jobs are named ${job.name}.`);
    names.add(job.name);
    const { timezone } = validateSchedule(job.schedule, job.timezone ?? "UTC", `jobs.${index}.`);
    const timeoutSeconds = job.timeoutSeconds ?? defaultTimeoutS;
    if (timeoutSeconds > maxTimeoutS) {
      throw invalid(`jobs.${index}.timeoutSeconds`, `The longest a run may take is ${maxTimeoutS} seconds.`);
    }
    return { ...job, timezone, timeoutSeconds };
  });
  return await db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ status: string }[]>`
      SELECT status::text FROM "App" WHERE id = ${appId}::uuid AND "teamId" = ${ctx.teamId}::uuid FOR UPDATE`;
    const app = rows[0];
    if (!app) throw new AppError("not_found", "App not found.");
    if (app.status === "deleting") throw new AppError("conflict", "This app is being deleted.");
    await enforceCronJobQuota(tx, ctx.teamId, appId, wanted.length);
    const existing = await tx.cronJob.findMany({ where: { appId } });
    const byName = new Map(existing.map((row) => [row.name, row]));
    const now = new Date();
    await tx.cronJob.deleteMany({ where: { appId, name: { notIn: [...names] } } });
    for (const job of wanted) {
      const old = byName.get(job.name);
      const data = {
        schedule: job.schedule,
        command: job.command,
        timezone: job.timezone,
        timeoutSeconds: job.timeoutSeconds,
        enabled: true,
      };
      if (!old) {
        await tx.cronJob.create({ data: { ...data, appId, name: job.name, lastTickAt: now } });
      } else {
        const rescheduled = old.schedule !== job.schedule || old.timezone !== job.timezone;
        await tx.cronJob.update({
          where: { id: old.id },
          data: { ...data, ...(rescheduled ? { lastTickAt: now } : {}) },
        });
      }
    }
    await recordAudit(tx, ctx, {
      action: "cron.update",
      target: { type: "app", id: appId },
      metadata: { jobs: wanted.map((job) => ({ name: job.name, schedule: job.schedule, command: job.command })) },
    });
    const stored = await tx.cronJob.findMany({ where: { appId }, orderBy: { name: "asc" } });
    return stored.map((row) => cronJobView(row, now));
  });
}
