// Cron jobs in the domain layer: schedule validation by croner (5 fields, nicknames, bad syntax, 6 fields, unknown
// zones), the set replaced by name (a rescheduled job starts from now, an unchanged one keeps its place), roles, the
// team quota, the audit row; and the scheduler (lib/domain/cron-ticks.ts): exactly one run per tick with two passes
// racing and a restart in between, DST in Europe/Stockholm, overlap → skipped, missed ticks bounded to one row.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { getCronJobs, putCronJobs, validateSchedule } from "@/lib/domain/cron";
import { dueTicks, scheduleCronTicks } from "@/lib/domain/cron-ticks";
import { expectAppError } from "@/test/errors";
import { addMember, createTestTeam, createTestUser, userCtx } from "@/test/factories";
import { pendingJobs } from "@/test/helpers";

async function teamWithApp(options: { released?: boolean } = {}) {
  const user = await createTestUser();
  const team = await createTestTeam(user.id);
  const ctx = await userCtx(user.id, team.id);
  const app = await createApp(getDb(), ctx, { name: `web-${randomBytes(3).toString("hex")}` });
  if (options.released !== false) {
    const deployment = await getDb().deployment.create({
      data: { appId: app.id, teamId: team.id, number: 1, status: "running", sourceType: "upload" },
    });
    await getDb().app.update({ where: { id: app.id }, data: { currentDeploymentId: deployment.id } });
  }
  return { user, team, ctx, app };
}

/** A job whose ticks up to `after` are dealt with. */
async function jobOf(appId: string, name: string, after: Date) {
  const job = await getDb().cronJob.findFirstOrThrow({ where: { appId, name } });
  return await getDb().cronJob.update({ where: { id: job.id }, data: { lastTickAt: after } });
}

async function runsOf(cronJobId: string) {
  return await getDb().run.findMany({ where: { cronJobId }, orderBy: [{ tick: "asc" }, { status: "asc" }] });
}

async function executeJobsFor(cronJobId: string) {
  const jobs = await pendingJobs("run__execute");
  const ids = new Set((await runsOf(cronJobId)).map((run) => run.id));
  return jobs.filter((job) => ids.has((job.payload as { runId: string }).runId));
}

const at = (iso: string) => new Date(iso);

describe("schedule validation", () => {
  it("accepts five fields and nicknames, and canonicalises the zone", () => {
    expect(validateSchedule("*/5 * * * *", "UTC")).toEqual({ timezone: "UTC" });
    expect(validateSchedule("0 3 * * 1-5", "Europe/Stockholm")).toEqual({ timezone: "Europe/Stockholm" });
    expect(validateSchedule("@daily", "europe/stockholm")).toEqual({ timezone: "Europe/Stockholm" });
    expect(validateSchedule("@hourly", "UTC")).toEqual({ timezone: "UTC" });
  });

  it.each([
    ["bad syntax", "every day", "UTC", "schedule"],
    ["out of range", "61 * * * *", "UTC", "schedule"],
    ["six fields (seconds)", "0 0 3 * * *", "UTC", "schedule"],
    ["an unknown zone", "0 3 * * *", "Mars/Olympus", "timezone"],
    ["a zone that is a path", "0 3 * * *", "../../etc/passwd", "timezone"],
  ])("refuses %s with 422 naming the field", async (_label, schedule, zone, field) => {
    const error = await expectAppError(
      Promise.resolve().then(() => validateSchedule(schedule, zone, "jobs.0.")),
      "invalid",
    );
    expect((error.details as { path: string }[])[0]?.path).toBe(`jobs.0.${field}`);
  });
});

describe("putCronJobs", () => {
  it("replaces the set by name, keeps an unchanged job's place in time, audits, and refuses viewers", async () => {
    const { ctx, app, team } = await teamWithApp();
    const first = await putCronJobs(getDb(), ctx, app.id, {
      jobs: [
        { name: "nightly", schedule: "0 3 * * *", command: "python manage.py clearsessions" },
        { name: "digest", schedule: "@weekly", command: "python digest.py", timezone: "Europe/Stockholm" },
      ],
    });
    expect(first.map((job) => job.name)).toEqual(["digest", "nightly"]);
    expect(first[0]).toMatchObject({ timezone: "Europe/Stockholm", timeoutSeconds: 600, enabled: true });
    expect(first[1]?.nextRunAt).toBeInstanceOf(Date);
    const nightly = await jobOf(app.id, "nightly", at("2026-01-01T00:00:00Z"));

    await putCronJobs(getDb(), ctx, app.id, {
      jobs: [{ name: "nightly", schedule: "0 3 * * *", command: "python manage.py clearsessions --verbose" }],
    });
    const after = await getCronJobs(getDb(), ctx, app.id);
    expect(after.map((job) => [job.name, job.command])).toEqual([
      ["nightly", "python manage.py clearsessions --verbose"],
    ]);
    // Same schedule: still dealt with up to where it was. A new schedule starts from now.
    expect((await getDb().cronJob.findUniqueOrThrow({ where: { id: nightly.id } })).lastTickAt).toEqual(
      at("2026-01-01T00:00:00Z"),
    );
    await putCronJobs(getDb(), ctx, app.id, { jobs: [{ name: "nightly", schedule: "0 4 * * *", command: "x" }] });
    expect(
      (await getDb().cronJob.findUniqueOrThrow({ where: { id: nightly.id } })).lastTickAt.getTime(),
    ).toBeGreaterThan(at("2026-01-01T00:00:00Z").getTime());

    const audits = await getDb().auditEvent.findMany({ where: { teamId: team.id, action: "cron.update" } });
    expect(audits).toHaveLength(3);

    const viewer = await createTestUser();
    await addMember(team.id, viewer.id, "viewer");
    const viewerCtx = await userCtx(viewer.id, team.id);
    await expectAppError(putCronJobs(getDb(), viewerCtx, app.id, { jobs: [] }), "forbidden");
    expect(await getCronJobs(getDb(), viewerCtx, app.id)).toHaveLength(1);
  });

  it("refuses duplicate names, hostile names and commands, a timeout past the maximum, and another team's app", async () => {
    const { ctx, app } = await teamWithApp();
    const job = { name: "a", schedule: "@daily", command: "true" };
    await expectAppError(putCronJobs(getDb(), ctx, app.id, { jobs: [job, job] }), "invalid");
    await expectAppError(putCronJobs(getDb(), ctx, app.id, { jobs: [{ ...job, name: "../x" }] }), "invalid");
    await expectAppError(putCronJobs(getDb(), ctx, app.id, { jobs: [{ ...job, name: "-rf" }] }), "invalid");
    await expectAppError(putCronJobs(getDb(), ctx, app.id, { jobs: [{ ...job, command: "a\nb" }] }), "invalid");
    await expectAppError(putCronJobs(getDb(), ctx, app.id, { jobs: [{ ...job, timeoutSeconds: 3601 }] }), "invalid");
    const other = await teamWithApp();
    await expectAppError(putCronJobs(getDb(), other.ctx, app.id, { jobs: [job] }), "not_found");
    expect(await getDb().cronJob.count({ where: { appId: app.id } })).toBe(0);
  });

  it("holds the team to its cron job quota across its apps", async () => {
    const { ctx, app, team } = await teamWithApp();
    const second = await createApp(getDb(), ctx, { name: `two-${randomBytes(3).toString("hex")}` });
    await getDb().teamQuota.create({ data: { teamId: team.id, cronJobs: 2 } });
    const job = (name: string) => ({ name, schedule: "@daily", command: "true" });
    await putCronJobs(getDb(), ctx, app.id, { jobs: [job("a")] });
    await putCronJobs(getDb(), ctx, second.id, { jobs: [job("b")] });
    await expectAppError(putCronJobs(getDb(), ctx, second.id, { jobs: [job("b"), job("c")] }), "quota_exceeded");
    // Replacing within the limit is fine: the app's own jobs do not count twice.
    await putCronJobs(getDb(), ctx, app.id, { jobs: [job("x")] });
  });
});

describe("dueTicks", () => {
  it("Europe/Stockholm, a 02:30 daily job: 03:00 on the spring-forward day, once on the fall-back day", () => {
    // 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist that day.
    const spring = dueTicks("30 2 * * *", "Europe/Stockholm", at("2026-03-28T12:00:00Z"), at("2026-03-29T01:00:30Z"));
    expect(spring?.run).toEqual(at("2026-03-29T01:00:00Z"));
    // 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice, the job runs at the first.
    const fall = dueTicks("30 2 * * *", "Europe/Stockholm", at("2026-10-24T12:00:00Z"), at("2026-10-25T00:30:30Z"));
    expect(fall?.run).toEqual(at("2026-10-25T00:30:00Z"));
    expect(dueTicks("30 2 * * *", "Europe/Stockholm", at("2026-10-25T00:30:00Z"), at("2026-10-25T01:30:30Z"))).toBe(
      null,
    );
    const next = dueTicks("30 2 * * *", "Europe/Stockholm", at("2026-10-25T00:30:00Z"), at("2026-10-26T01:30:30Z"));
    expect(next?.run).toEqual(at("2026-10-26T01:30:00Z"));
  });

  it("runs the latest tick after an outage when it is less than one period late; the rest is one missed entry", () => {
    const due = dueTicks("* * * * *", "UTC", at("2026-01-01T00:00:00Z"), at("2026-01-01T01:30:10Z"));
    expect(due?.run).toEqual(at("2026-01-01T01:30:00Z"));
    expect(due?.missed).toMatchObject({
      count: 89,
      first: at("2026-01-01T00:01:00Z"),
      last: at("2026-01-01T01:29:00Z"),
    });
    // Ticks an hour apart, seen 19 hours after the last one: too late to run.
    const late = dueTicks("0 3,4 * * *", "UTC", at("2026-01-01T00:00:00Z"), at("2026-01-01T23:00:00Z"));
    expect(late?.run).toBe(null);
    expect(late?.missed).toMatchObject({
      count: 2,
      first: at("2026-01-01T03:00:00Z"),
      last: at("2026-01-01T04:00:00Z"),
    });
  });
});

describe("scheduleCronTicks", () => {
  it("queues exactly one run per tick with two passes racing and a restart in between", async () => {
    const { ctx, app } = await teamWithApp();
    await putCronJobs(getDb(), ctx, app.id, { jobs: [{ name: "every", schedule: "* * * * *", command: "echo hi" }] });
    const job = await jobOf(app.id, "every", at("2030-01-01T00:00:00Z"));
    const now = at("2030-01-01T00:01:05Z");
    await Promise.all([scheduleCronTicks(getDb(), now), scheduleCronTicks(getDb(), now)]);
    // A restarted worker that somehow read the job before the pass committed (its lastTickAt as it was): the
    // unique (cronJobId, tick) and the job key still give one run and one job.
    await getDb().cronJob.update({ where: { id: job.id }, data: { lastTickAt: at("2030-01-01T00:00:00Z") } });
    await scheduleCronTicks(getDb(), now);
    await scheduleCronTicks(getDb(), now);
    const runs = await runsOf(job.id);
    expect(runs.map((run) => [run.tick, run.status])).toEqual([[at("2030-01-01T00:01:00Z"), "queued"]]);
    expect(runs[0]).toMatchObject({ kind: "cron", command: "echo hi", appId: app.id, timeoutSeconds: 600 });
    expect(await executeJobsFor(job.id)).toHaveLength(1);
  });

  it("records skipped when the previous run is still going, and missed once for an outage", async () => {
    const { ctx, app } = await teamWithApp();
    await putCronJobs(getDb(), ctx, app.id, { jobs: [{ name: "every", schedule: "* * * * *", command: "sleep 100" }] });
    const job = await jobOf(app.id, "every", at("2030-02-01T00:00:00Z"));
    await scheduleCronTicks(getDb(), at("2030-02-01T00:01:01Z"));
    await scheduleCronTicks(getDb(), at("2030-02-01T00:02:01Z"));
    let runs = await runsOf(job.id);
    expect(runs.map((run) => run.status)).toEqual(["queued", "skipped"]);
    expect(runs[1]?.reason).toMatch(/previous run/);
    expect(await executeJobsFor(job.id)).toHaveLength(1);

    // The first run ends; the platform is then down for three hours.
    await getDb().run.updateMany({ where: { cronJobId: job.id, status: "queued" }, data: { status: "succeeded" } });
    await scheduleCronTicks(getDb(), at("2030-02-01T03:02:20Z"));
    runs = await runsOf(job.id);
    expect(runs.map((run) => run.status)).toEqual(["succeeded", "skipped", "missed", "queued"]);
    expect(runs[2]?.reason).toMatch(/^179 scheduled ticks from 2030-02-01T00:03:00.000Z to 2030-02-01T03:01:00.000Z/);
    expect(runs[3]?.tick).toEqual(at("2030-02-01T03:02:00Z"));
  });

  it("skips a tick of an app without a release, and one past the team's concurrent run quota", async () => {
    const bare = await teamWithApp({ released: false });
    await putCronJobs(getDb(), bare.ctx, bare.app.id, { jobs: [{ name: "a", schedule: "* * * * *", command: "x" }] });
    const bareJob = await jobOf(bare.app.id, "a", at("2030-03-01T00:00:00Z"));
    await scheduleCronTicks(getDb(), at("2030-03-01T00:01:01Z"));
    expect((await runsOf(bareJob.id)).map((run) => [run.status, run.reason])).toEqual([
      ["skipped", "The app has no release to run the command in yet."],
    ]);

    const busy = await teamWithApp();
    await getDb().teamQuota.create({ data: { teamId: busy.team.id, concurrentRuns: 0 } });
    await putCronJobs(getDb(), busy.ctx, busy.app.id, { jobs: [{ name: "a", schedule: "* * * * *", command: "x" }] });
    const busyJob = await jobOf(busy.app.id, "a", at("2030-03-01T00:00:00Z"));
    await scheduleCronTicks(getDb(), at("2030-03-01T00:01:01Z"));
    const [skipped] = await runsOf(busyJob.id);
    expect(skipped).toMatchObject({ status: "skipped" });
    expect(skipped?.reason).toMatch(/quota of 0 concurrent runs/);
  });
});
