// The app overview's summary (#18 point 7): attached databases and Redis by name with their IDs for links, the
// release's process types, domains and cron counts, in the same number of queries however many there are.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { overviewSummary } from "@/app/(portal)/teams/[teamId]/apps/[appId]/overview-data";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { expectAppError } from "@/test/errors";
import { createTestTeam, createTestUser, userCtx } from "@/test/factories";

describe("overviewSummary", () => {
  it("shows what is attached and configured, in constant queries", async () => {
    const owner = await createTestUser();
    const team = await createTestTeam(owner.id);
    const ctx = await userCtx(owner.id, team.id);
    const app = await createApp(getDb(), ctx, { name: "web" });
    const empty = await countQueries(() => overviewSummary(getDb(), ctx, app.id));
    expect(empty.result).toEqual({
      databases: [],
      redis: [],
      processTypes: [],
      domains: [],
      domainCount: 0,
      cron: { total: 0, enabled: 0 },
    });

    const db = getDb();
    await db.app.update({ where: { id: app.id }, data: { processTypes: ["web", "worker"] } });
    const database = await db.tenantDatabase.create({
      data: { teamId: team.id, appId: app.id, name: "main-db", status: "ready" },
    });
    const redis = await db.tenantRedis.create({
      data: { teamId: team.id, appId: app.id, name: "cache", status: "ready" },
    });
    // Hostnames are unique across the instance: a random suffix keeps this test's own.
    const suffix = randomBytes(4).toString("hex");
    const hostnames = ["a", "b", "c", "d"].map((label) => `${label}-${suffix}.example.test`);
    for (const hostname of hostnames) {
      await db.domain.create({ data: { appId: app.id, teamId: team.id, hostname, verificationToken: hostname } });
    }
    for (const [index, enabled] of [true, false].entries()) {
      await db.cronJob.create({
        data: {
          appId: app.id,
          name: `job-${index}`,
          schedule: "@daily",
          command: "true",
          timeoutSeconds: 60,
          lastTickAt: new Date(),
          enabled,
        },
      });
    }
    const full = await countQueries(() => overviewSummary(db, ctx, app.id));
    expect(full.result).toMatchObject({
      databases: [{ id: database.id, name: "main-db", status: "ready" }],
      redis: [{ id: redis.id, name: "cache", status: "ready" }],
      processTypes: ["web", "worker"],
      domainCount: 4,
      cron: { total: 2, enabled: 1 },
    });
    expect(full.result.domains.map((domain) => domain.hostname)).toEqual(hostnames.slice(0, 3));
    expect(full.count).toBe(empty.count);

    const stranger = await createTestUser();
    const other = await createTestTeam(stranger.id);
    await expectAppError(overviewSummary(db, await userCtx(stranger.id, other.id), app.id), "not_found");
  });
});
