// The Cron tab's action and data load: a member saves the whole set (zones made canonical, removed rows deleted);
// a bad schedule or zone answers on that row's field and stores nothing; viewers and another team change nothing;
// the tab's load (jobs, next runs, each job's newest runs) is a constant number of queries.
import { randomBytes, randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { getCronJobs, putCronJobs } from "@/lib/domain/cron";
import type { PublicUser } from "@/lib/domain/users";
import type { Role } from "@/lib/generated/prisma/enums";
import { form } from "@/test/actions";
import { addMember, createTestTeam, createTestUser, userCtx } from "@/test/factories";

const session = vi.hoisted(() => ({ user: null as PublicUser | null }));

vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => session.user,
  currentRequestMeta: async () => ({ requestId: randomUUID(), ip: "203.0.113.9", userAgent: "vitest" }),
}));
vi.mock("next/cache", () => ({ refresh: () => {}, revalidatePath: () => {} }));

const { saveCronAction } = await import("@/app/(portal)/teams/[teamId]/apps/[appId]/cron/actions");
const { loadAppCron, RECENT_RUNS_PER_JOB } = await import("@/app/(portal)/teams/[teamId]/apps/[appId]/cron/cron-data");

beforeEach(() => {
  session.user = null;
});

const idle = { status: "idle" } as const;

async function appWith(role: Role) {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const user = await createTestUser();
  await addMember(team.id, user.id, role);
  const ownerCtx = await userCtx(owner.id, team.id);
  const app = await createApp(getDb(), ownerCtx, { name: `web-${randomBytes(3).toString("hex")}` });
  return { team, owner, user, ownerCtx, app, fields: { teamId: team.id, appId: app.id } };
}

const nightly = { name: "nightly", schedule: "0 3 * * *", command: "python manage.py clearsessions" };

describe("saveCronAction", () => {
  it("replaces a member's set: canonical zone, default time limit, removed rows gone", async () => {
    const { user, ownerCtx, app, fields } = await appWith("member");
    await putCronJobs(getDb(), ownerCtx, app.id, { jobs: [{ ...nightly, name: "old" }] });
    session.user = user;
    const jobs = [
      { ...nightly, timezone: "europe/stockholm" },
      { name: "digest", schedule: "@hourly", command: "python digest.py", timeoutSeconds: 30 },
    ];
    const state = await saveCronAction(idle, form({ ...fields, jobs: JSON.stringify(jobs) }));
    expect(state).toEqual({ status: "success", message: "Saved 2 cron job(s)." });
    const stored = await getCronJobs(getDb(), ownerCtx, app.id);
    expect(stored.map((job) => [job.name, job.timezone, job.timeoutSeconds])).toEqual([
      ["digest", "UTC", 30],
      ["nightly", "Europe/Stockholm", expect.any(Number)],
    ]);
    expect(stored.every((job) => job.nextRunAt instanceof Date)).toBe(true);
  });

  it("names the bad schedule's and the bad zone's row and field, and stores nothing", async () => {
    const { user, ownerCtx, app, fields } = await appWith("member");
    session.user = user;
    const badSchedule = await saveCronAction(
      idle,
      form({ ...fields, jobs: JSON.stringify([nightly, { ...nightly, name: "second", schedule: "every day" }]) }),
    );
    expect(badSchedule.status).toBe("error");
    expect(Object.keys(badSchedule.fieldErrors ?? {})).toEqual(["jobs.1.schedule"]);
    expect(badSchedule.fieldErrors?.["jobs.1.schedule"]).toContain("is not a cron schedule");
    const badZone = await saveCronAction(
      idle,
      form({ ...fields, jobs: JSON.stringify([{ ...nightly, timezone: "Mars/Olympus" }]) }),
    );
    expect(Object.keys(badZone.fieldErrors ?? {})).toEqual(["jobs.0.timezone"]);
    const badName = await saveCronAction(
      idle,
      form({ ...fields, jobs: JSON.stringify([{ ...nightly, name: "Bad Name" }]) }),
    );
    expect(Object.keys(badName.fieldErrors ?? {})).toEqual(["jobs.0.name"]);
    const notJson = await saveCronAction(idle, form({ ...fields, jobs: "[{" }));
    expect(notJson.status).toBe("error");
    expect(await getCronJobs(getDb(), ownerCtx, app.id)).toEqual([]);
  });

  it("refuses a viewer and another team's member", async () => {
    const { user, ownerCtx, app, fields } = await appWith("viewer");
    session.user = user;
    expect((await saveCronAction(idle, form({ ...fields, jobs: JSON.stringify([nightly]) }))).status).toBe("error");
    const stranger = await createTestUser();
    await createTestTeam(stranger.id);
    session.user = stranger;
    const other = await saveCronAction(idle, form({ ...fields, jobs: JSON.stringify([nightly]) }));
    expect(other).toMatchObject({ status: "error", message: "Team not found." });
    expect(await getCronJobs(getDb(), ownerCtx, app.id)).toEqual([]);
  });
});

describe("loadAppCron", () => {
  async function cronRuns(app: { id: string }, teamId: string, jobId: string, count: number) {
    const made: { id: string }[] = [];
    for (let index = 0; index < count; index += 1) {
      const tick = new Date(Date.UTC(2026, 0, 1, index));
      made.push(
        await getDb().run.create({
          data: {
            appId: app.id,
            teamId,
            kind: "cron",
            cronJobId: jobId,
            tick,
            command: "true",
            timeoutSeconds: 60,
            status: index % 2 === 0 ? "succeeded" : "failed",
            exitCode: index % 2,
            createdAt: tick,
            queuedAt: tick,
          },
        }),
      );
    }
    return made;
  }

  it("loads each job's newest runs in the same number of queries for 1 job or 3 jobs with many runs", async () => {
    const small = await appWith("member");
    const large = await appWith("member");
    const [one] = await putCronJobs(getDb(), small.ownerCtx, small.app.id, { jobs: [nightly] });
    await cronRuns(small.app, small.team.id, one?.id ?? "", 1);
    const jobs = await putCronJobs(getDb(), large.ownerCtx, large.app.id, {
      jobs: ["a", "b", "c"].map((name) => ({ ...nightly, name })),
    });
    const made = new Map<string, string[]>();
    for (const job of jobs)
      made.set(
        job.id,
        (await cronRuns(large.app, large.team.id, job.id, 7)).map((run) => run.id),
      );

    const few = await countQueries(() => loadAppCron(getDb(), small.ownerCtx, small.app.id));
    const many = await countQueries(() => loadAppCron(getDb(), large.ownerCtx, large.app.id));
    expect(few.result[0]?.recentRuns).toHaveLength(1);
    expect(many.result).toHaveLength(3);
    for (const job of many.result) {
      const newest = (made.get(job.id) ?? []).reverse().slice(0, RECENT_RUNS_PER_JOB);
      expect(job.recentRuns.map((run) => run.id)).toEqual(newest);
      expect(job.nextRunAt).toBeInstanceOf(Date);
    }
    expect(many.count).toBe(few.count);
  });

  it("answers a viewer, and loads nothing of another team's app", async () => {
    const { ownerCtx, app, user, team } = await appWith("viewer");
    await putCronJobs(getDb(), ownerCtx, app.id, { jobs: [nightly] });
    const viewerJobs = await loadAppCron(getDb(), await userCtx(user.id, team.id), app.id);
    expect(viewerJobs.map((job) => job.name)).toEqual(["nightly"]);
    const other = await appWith("member");
    await expect(loadAppCron(getDb(), other.ownerCtx, app.id)).rejects.toMatchObject({ code: "not_found" });
  });
});
