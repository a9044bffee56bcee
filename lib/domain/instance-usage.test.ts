// The instance admin's usage view: each team's resources against its quotas, in a constant number of queries, and
// only for instance administrators (anyone else is answered not_found, with nothing queued).
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { instanceUsageState, requestInstanceUsage, teamUsage } from "@/lib/domain/instance-usage";
import { getEnv } from "@/lib/env";
import { isAppError } from "@/lib/errors";
import { createTestTeam, createTestUser } from "@/test/factories";
import { pendingJobs } from "@/test/helpers";

async function seedTeam(shape: { apps: number; withResources: boolean }) {
  const db = getDb();
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const teamId = team.id;
  const apps = [];
  for (let i = 0; i < shape.apps; i += 1) {
    apps.push(
      await db.app.create({
        data: {
          teamId,
          name: `app-${i}-${randomUUID().slice(0, 8)}`,
          // Two web replicas and a worker: three containers.
          replicas: 2,
          processTypes: ["web", "worker"],
        },
      }),
    );
  }
  if (shape.withResources) {
    const app = apps[0];
    if (!app) throw new Error("needs an app");
    const suffix = randomUUID().slice(0, 8);
    await db.tenantDatabase.create({ data: { teamId, name: `db-${suffix}` } });
    await db.tenantRedis.create({ data: { teamId, name: `redis-${suffix}` } });
    await db.domain.create({
      data: { teamId, appId: app.id, hostname: `${suffix}.example.test`, verificationToken: suffix },
    });
    for (const name of ["nightly", "hourly"]) {
      await db.cronJob.create({
        data: { appId: app.id, name, schedule: "@daily", command: "true", timeoutSeconds: 60, lastTickAt: new Date() },
      });
    }
    // One manual backup counts; a failed one and a scheduled one do not (the backup quota's rule).
    await db.backup.createMany({
      data: [
        { teamId, kind: "postgres", sourceName: "db", trigger: "manual", status: "succeeded" },
        { teamId, kind: "postgres", sourceName: "db", trigger: "manual", status: "failed" },
        { teamId, kind: "postgres", sourceName: "db", trigger: "scheduled", status: "succeeded" },
      ],
    });
    await db.notificationChannel.create({
      data: { teamId, kind: "email", name: "ops", targetSealed: "sealed", events: ["deploy.failed"] },
    });
    await db.teamQuota.create({ data: { teamId, apps: 7, domains: 3 } });
  }
  return teamId;
}

describe("team usage against quotas", () => {
  it("counts each team's resources against its own quotas, in the same number of queries for one team or more", async () => {
    const admin = await createTestUser({ admin: true });
    const busy = await seedTeam({ apps: 2, withResources: true });
    const one = await countQueries(() => teamUsage(getDb(), admin));
    const idle = await seedTeam({ apps: 1, withResources: false });
    const two = await countQueries(() => teamUsage(getDb(), admin));
    expect(two.count).toBe(one.count);
    expect(two.count).toBeLessThanOrEqual(10);

    const rows = new Map(two.result.map((row) => [row.id, row]));
    const defaults = getEnv().quotaDefaults;
    expect(rows.get(busy)?.usage).toEqual({
      apps: 2,
      databases: 1,
      redis: 1,
      domains: 1,
      processes: 6,
      cronJobs: 2,
      backups: 1,
      notificationChannels: 1,
    });
    expect(rows.get(busy)?.quotas).toMatchObject({ apps: 7, domains: 3, databases: defaults.databases });
    expect(rows.get(idle)?.usage).toEqual({
      apps: 1,
      databases: 0,
      redis: 0,
      domains: 0,
      processes: 3,
      cronJobs: 0,
      backups: 0,
      notificationChannels: 0,
    });
    expect(rows.get(idle)?.quotas.apps).toBe(defaults.apps);
  });

  it("shows the newest stored report with its time", async () => {
    const admin = await createTestUser({ admin: true });
    const usage = { images: null, builds: { bytes: 5, files: 1, truncated: false }, logs: null, backups: null };
    await getDb().instanceUsageReport.create({
      data: { usage: { ...usage, errors: ["old"] }, createdAt: new Date(Date.now() - 60_000) },
    });
    const newest = await getDb().instanceUsageReport.create({ data: { usage: { ...usage, errors: [] } } });
    const state = await instanceUsageState(getDb(), admin);
    expect(state.report).toEqual({ usage: { ...usage, errors: [] }, createdAt: newest.createdAt });
  });

  it("answers not_found to anyone but an instance administrator, queueing nothing", async () => {
    const member = await createTestUser({ admin: false });
    for (const call of [
      () => teamUsage(getDb(), member),
      () => instanceUsageState(getDb(), null),
      () => requestInstanceUsage(getDb(), member),
    ]) {
      const error = await call().catch((caught: unknown) => caught);
      expect(isAppError(error) && error.code).toBe("not_found");
    }
    expect(await pendingJobs("instance__usage")).toEqual([]);
  });

  it("queues one measurement however often an administrator asks", async () => {
    const admin = await createTestUser({ admin: true });
    await requestInstanceUsage(getDb(), admin);
    await requestInstanceUsage(getDb(), admin);
    expect(await pendingJobs("instance__usage")).toHaveLength(1);
  });
});
