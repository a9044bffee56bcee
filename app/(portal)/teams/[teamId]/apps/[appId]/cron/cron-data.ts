// What the Cron tab shows: the app's jobs (getCronJobs, as GET /api/v1/apps/{appId}/cron) and each job's newest runs.
// Constant queries whatever the number of jobs and runs: the jobs, one window query picking each job's newest run IDs,
// and one query for those runs.
import type { Db } from "@/lib/db";
import type { Ctx } from "@/lib/domain/context";
import { type CronJobView, getCronJobs } from "@/lib/domain/cron";
import { type RunView, runView } from "@/lib/domain/runs";

/** Runs shown per job: enough to see a pattern (failing every night, skipped because the last run is slow). */
export const RECENT_RUNS_PER_JOB = 5;

export type CronJobWithRuns = CronJobView & { recentRuns: RunView[] };

export async function loadAppCron(db: Db, ctx: Ctx, appId: string): Promise<CronJobWithRuns[]> {
  // Authorizes and scopes the app to the team; the queries below then only read this app's rows.
  const jobs = await getCronJobs(db, ctx, appId);
  if (jobs.length === 0) return [];
  const jobIds = jobs.map((job) => job.id);
  const picked = await db.$queryRaw<{ id: string }[]>`
    SELECT id::text FROM (
      SELECT id, row_number() OVER (PARTITION BY "cronJobId" ORDER BY "createdAt" DESC, id DESC) AS n
      FROM "Run" WHERE "appId" = ${appId}::uuid AND "cronJobId" = ANY(${jobIds}::uuid[])
    ) ranked WHERE n <= ${RECENT_RUNS_PER_JOB}`;
  const rows =
    picked.length > 0
      ? await db.run.findMany({
          where: { id: { in: picked.map((row) => row.id) } },
          orderBy: [{ createdAt: "desc" }, { id: "desc" }],
          include: { cronJob: { select: { id: true, name: true } } },
        })
      : [];
  const runs = rows.map(runView);
  return jobs.map((job) => ({ ...job, recentRuns: runs.filter((run) => run.cronJob?.id === job.id) }));
}
