// The cron scheduler (the cron__schedule task, every minute): turns each job's due ticks into runs, exactly once.
//
// Exactly once, with any number of workers and restarts: a job's lastTickAt is advanced with a compare-and-set in
// the same transaction that inserts the tick's Run (unique on cronJobId + tick, inserted ON CONFLICT DO NOTHING)
// and enqueues its run__execute (job key cron:<job>:<tick>). A scheduler that loses the race changes nothing; a
// crash before the commit leaves nothing behind for the next one to trip over.
//
// Ticks after lastTickAt are due. Of them only the most recent can run, and only when it is less than one period
// late (the shorter gap to its neighbouring ticks): after an outage the job catches up once rather than once per tick.
// Every other due tick goes into ONE `missed` run per job and pass, whatever the outage's length.
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { enqueue } from "@/jobs/enqueue";
import type { Db, Tx } from "@/lib/db";
import { parseSchedule } from "@/lib/domain/cron";
import { concurrentRunRoom } from "@/lib/domain/quotas";
import type { Prisma } from "@/lib/generated/prisma/client";

/** Past this many, the missed count is given as "more than". Bounds the work of a very long outage. */
const MAX_COUNTED_TICKS = 10_000;

export type Due = {
  /** The tick to run (or skip), null when even the latest due tick is too late. */
  run: Date | null;
  /** The due ticks that will not run: how many, the first and the last. */
  missed: { count: number; capped: boolean; first: Date; last: Date } | null;
  /** The new lastTickAt: the latest due tick. */
  through: Date;
};

/** What is due for a schedule whose ticks up to `after` were dealt with, at `now`. Null: nothing. */
export function dueTicks(schedule: string, timezone: string, after: Date, now: Date): Due | null {
  const cron = parseSchedule(schedule, timezone);
  // previousRuns excludes its reference: one millisecond on makes a tick exactly at `now` due.
  const latest = cron.previousRuns(1, new Date(now.getTime() + 1))[0];
  if (!latest || latest.getTime() <= after.getTime()) return null;
  // The period around the tick: the shorter gap to its neighbours. With the gap after it alone, the latest tick would
  // always count as on time (the next tick is still to come); "0 3,4 * * *" seen at 23:00 is 19 hours late for a
  // job whose ticks are an hour apart.
  const gaps = [cron.nextRun(latest), cron.previousRuns(1, latest)[0]].flatMap((neighbour) =>
    neighbour ? [Math.abs(neighbour.getTime() - latest.getTime())] : [],
  );
  const period = gaps.length > 0 ? Math.min(...gaps) : Number.POSITIVE_INFINITY;
  const onTime = now.getTime() - latest.getTime() < period;
  const missedTicks: Date[] = [];
  let count = 0;
  let capped = false;
  for (let tick = cron.nextRun(after); tick && tick.getTime() < latest.getTime(); tick = cron.nextRun(tick)) {
    count += 1;
    if (missedTicks.length === 0) missedTicks.push(tick);
    else missedTicks[1] = tick;
    if (count >= MAX_COUNTED_TICKS) {
      capped = true;
      break;
    }
  }
  if (!onTime) {
    count += 1;
    if (missedTicks.length === 0) missedTicks.push(latest);
    missedTicks[1] = latest;
  }
  const first = missedTicks[0];
  const missed = first ? { count, capped, first, last: missedTicks[1] ?? first } : null;
  return { run: onTime ? latest : null, missed, through: latest };
}

function missedReason(missed: NonNullable<Due["missed"]>): string {
  const count = missed.capped ? `More than ${missed.count}` : String(missed.count);
  const ticks = missed.count === 1 && !missed.capped ? "tick" : "ticks";
  const span =
    missed.count === 1 && !missed.capped
      ? `at ${missed.first.toISOString()}`
      : `from ${missed.first.toISOString()} to ${missed.last.toISOString()}`;
  return `${count} scheduled ${ticks} ${span} did not run: the platform was not running then.`;
}

type JobRow = Prisma.CronJobGetPayload<{
  include: { app: { select: { teamId: true; status: true; currentDeploymentId: true } } };
}>;

/** Inserts a run of the tick unless one exists; true when this call inserted it. */
async function insertTickRun(
  tx: Tx,
  job: JobRow,
  data: Omit<Prisma.RunCreateManyInput, "appId" | "teamId" | "kind" | "cronJobId" | "command" | "timeoutSeconds">,
): Promise<boolean> {
  const inserted = await tx.run.createMany({
    data: [
      {
        ...data,
        appId: job.appId,
        teamId: job.app.teamId,
        kind: "cron",
        cronJobId: job.id,
        command: job.command,
        timeoutSeconds: job.timeoutSeconds,
      },
    ],
    skipDuplicates: true,
  });
  return inserted.count === 1;
}

async function scheduleJob(tx: Tx, job: JobRow, due: Due, now: Date): Promise<"run" | "skipped" | "none" | "lost"> {
  const advanced = await tx.cronJob.updateMany({
    where: { id: job.id, lastTickAt: job.lastTickAt, enabled: true },
    data: { lastTickAt: due.through },
  });
  if (advanced.count !== 1) return "lost";
  if (due.missed) {
    await insertTickRun(tx, job, {
      tick: due.missed.last,
      status: "missed",
      reason: missedReason(due.missed),
      finishedAt: now,
    });
  }
  if (!due.run) return "none";
  const skip = async (reason: string) => {
    await insertTickRun(tx, job, { tick: due.run, status: "skipped", reason, finishedAt: now });
    return "skipped" as const;
  };
  if (job.app.status === "deleting") return "none";
  if (!job.app.currentDeploymentId) return await skip("The app has no release to run the command in yet.");
  // The team's lock (taken by concurrentRunRoom) orders this against other runs of the team being created.
  const { active, limit } = await concurrentRunRoom(tx, job.app.teamId);
  const previous = await tx.run.count({ where: { cronJobId: job.id, status: { in: ["queued", "running"] } } });
  if (previous > 0) return await skip("The previous run of this job was still running.");
  if (active >= limit) {
    return await skip(`The team's quota of ${limit} concurrent ${limit === 1 ? "run" : "runs"} was reached.`);
  }
  const id = randomUUID();
  const created = await insertTickRun(tx, job, {
    id,
    tick: due.run,
    deploymentId: job.app.currentDeploymentId,
    queuedAt: now,
    createdAt: now,
  });
  if (!created) return "lost";
  await enqueue(tx, "run__execute", { runId: id }, { jobKey: `cron:${job.id}:${due.run.toISOString()}` });
  return "run";
}

/** One pass of the scheduler at `now`. One query for the jobs, then one transaction per job with something due. */
export async function scheduleCronTicks(
  db: Db,
  now: Date,
  log?: Logger,
): Promise<{ runs: number; skipped: number; lost: number }> {
  const jobs = await db.cronJob.findMany({
    where: { enabled: true },
    include: { app: { select: { teamId: true, status: true, currentDeploymentId: true } } },
    orderBy: { id: "asc" },
  });
  const counts = { runs: 0, skipped: 0, lost: 0 };
  for (const job of jobs) {
    let due: Due | null;
    try {
      due = dueTicks(job.schedule, job.timezone, job.lastTickAt, now);
    } catch (error) {
      log?.warn({ err: error, cronJobId: job.id }, "cron job schedule unreadable");
      continue;
    }
    if (!due) continue;
    const pending = due;
    const outcome = await db.$transaction(async (tx) => await scheduleJob(tx, job, pending, now));
    if (outcome === "run") counts.runs += 1;
    else if (outcome === "skipped") counts.skipped += 1;
    else if (outcome === "lost") counts.lost += 1;
    if (outcome === "run") log?.info({ cronJobId: job.id, appId: job.appId, tick: due.run }, "cron tick queued");
  }
  return counts;
}
