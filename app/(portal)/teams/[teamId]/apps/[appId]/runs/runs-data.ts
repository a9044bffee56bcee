// What the Runs tab shows and polls: the app's newest runs (one-off and cron) with who started each, and one run with
// its starter. Constant queries whatever the number of runs: one listRuns page, then one query for the starters'
// user IDs and one for their names (Run.createdBy is a plain column, not a relation).
import type { Db } from "@/lib/db";
import type { Ctx } from "@/lib/domain/context";
import { getRun, listRuns, type RunView } from "@/lib/domain/runs";

/** Polled every few seconds while a run is going: the newest 50, the API pages through the rest. */
export const RUNS_SHOWN = 50;

export type RunItem = RunView & {
  /** The member who started a one-off run (name or email); null for cron runs and deleted users. */
  startedBy: string | null;
};

export type AppRuns = {
  items: RunItem[];
  /** More runs than one page: the tab says so and points to the API. */
  more: boolean;
};

async function withStarters(db: Db, runs: RunView[]): Promise<RunItem[]> {
  if (runs.length === 0) return [];
  const rows = await db.run.findMany({
    where: { id: { in: runs.map((run) => run.id) } },
    select: { id: true, createdBy: true },
  });
  const userIds = [...new Set(rows.flatMap((row) => (row.createdBy ? [row.createdBy] : [])))];
  const users =
    userIds.length > 0
      ? await db.user.findMany({ where: { id: { in: userIds } }, select: { id: true, name: true, email: true } })
      : [];
  const nameOf = new Map(users.map((user) => [user.id, user.name || user.email]));
  const starterOf = new Map(rows.map((row) => [row.id, row.createdBy ? (nameOf.get(row.createdBy) ?? null) : null]));
  return runs.map((run) => ({ ...run, startedBy: starterOf.get(run.id) ?? null }));
}

export async function loadAppRuns(db: Db, ctx: Ctx, appId: string): Promise<AppRuns> {
  const page = await listRuns(db, ctx, appId, { limit: RUNS_SHOWN });
  return { items: await withStarters(db, page.items), more: page.nextCursor !== null };
}

/** One run of the app (another app's run, or another team's, is not found). */
export async function loadRun(db: Db, ctx: Ctx, runId: string): Promise<RunItem> {
  const run = await getRun(db, ctx, runId);
  const [item] = await withStarters(db, [run]);
  return item ?? { ...run, startedBy: null };
}
