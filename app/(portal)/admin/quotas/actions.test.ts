// The quotas page and its actions: only instance administrators read or change quotas (anyone else: "not found",
// nothing stored); overrides take effect at once and are recorded (QuotaChange, and the team's audit log); the page's
// data costs the same number of queries for one team as for many.
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, describe, expect, it, vi } from "vitest";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { quotaAdminState } from "@/lib/domain/quota-admin";
import { effectiveQuotas, INSTANCE_QUOTA_ID } from "@/lib/domain/quotas";
import type { PublicUser } from "@/lib/domain/users";
import { getEnv } from "@/lib/env";
import { form } from "@/test/actions";
import { createTestTeam, createTestUser } from "@/test/factories";

const session = vi.hoisted(() => ({ user: null as PublicUser | null }));

vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => session.user,
  requireUser: async () => {
    if (!session.user) throw new Error("redirect to sign-in");
    return session.user;
  },
  currentRequestMeta: async () => ({ requestId: randomUUID(), ip: "203.0.113.9", userAgent: "vitest" }),
}));

// The page's header brings the sign-out actions, and with them next-auth, which needs Next's server runtime.
vi.mock("@/app/(portal)/actions", () => ({
  signOutAction: async () => undefined,
  signOutEverywhereAction: async () => undefined,
}));

const { saveInstanceQuotasAction, saveTeamQuotasAction } = await import("@/app/(portal)/admin/quotas/actions");
const { default: QuotasPage } = await import("@/app/(portal)/admin/quotas/page");

afterAll(() => {
  session.user = null;
});

async function newTeam() {
  const owner = await createTestUser();
  return await createTestTeam(owner.id);
}

describe("who may use the quotas page", () => {
  it("answers not found to a user who is not an instance administrator, storing nothing", async () => {
    const team = await newTeam();
    session.user = await createTestUser({ admin: false });
    expect(await saveTeamQuotasAction({ status: "idle" }, form({ teamId: team.id, apps: "1000" }))).toMatchObject({
      status: "error",
      message: "Page not found.",
    });
    expect(await saveInstanceQuotasAction({ status: "idle" }, form({ apps: "1000" }))).toMatchObject({
      status: "error",
      message: "Page not found.",
    });
    await expect(quotaAdminState(getDb(), session.user)).rejects.toMatchObject({ code: "not_found" });
    // The page itself: Next's notFound() (a 404), before anything is read.
    await expect(QuotasPage({ searchParams: Promise.resolve({}) })).rejects.toMatchObject({
      digest: expect.stringContaining("404"),
    });
    expect(await getDb().teamQuota.count({ where: { teamId: team.id } })).toBe(0);
    expect(await getDb().instanceQuota.count()).toBe(0);
    expect(await getDb().quotaChange.count()).toBe(0);
  });

  it("refuses a signed-out visitor", async () => {
    session.user = null;
    expect((await saveInstanceQuotasAction({ status: "idle" }, form({ apps: "1" }))).status).toBe("error");
    expect(await getDb().instanceQuota.count()).toBe(0);
  });
});

describe("an instance administrator", () => {
  it("overrides a team's quotas, which take effect at once and are recorded, and clears them again", async () => {
    const team = await newTeam();
    const admin = await createTestUser({ admin: true });
    session.user = admin;
    const saved = await saveTeamQuotasAction({ status: "idle" }, form({ teamId: team.id, apps: "3", uploadMb: "7" }));
    expect(saved).toMatchObject({ status: "success" });
    expect(await effectiveQuotas(getDb(), team.id)).toMatchObject({ apps: 3, uploadBytes: 7 * 1024 * 1024 });
    expect(await getDb().quotaChange.findFirst({ where: { teamId: team.id } })).toMatchObject({
      actorId: admin.id,
      actorLabel: admin.email,
      after: { apps: 3, uploadMb: 7 },
    });
    expect(
      await getDb().auditEvent.findFirst({ where: { teamId: team.id, action: "team.quotas_changed" } }),
    ).toMatchObject({ actorId: admin.id, metadata: { before: {}, after: { apps: 3, uploadMb: 7 } } });

    await saveTeamQuotasAction({ status: "idle" }, form({ teamId: team.id, apps: "", uploadMb: "" }));
    expect(await effectiveQuotas(getDb(), team.id)).toEqual(getEnv().quotaDefaults);
  });

  it("changes the instance defaults, which a team without overrides follows", async () => {
    const team = await newTeam();
    session.user = await createTestUser({ admin: true });
    try {
      expect(
        await saveInstanceQuotasAction({ status: "idle" }, form({ databases: "2", teamsPerUser: "4" })),
      ).toMatchObject({ status: "success" });
      expect(await effectiveQuotas(getDb(), team.id)).toMatchObject({ databases: 2, teamsPerUser: 4 });
      expect(await getDb().quotaChange.findFirst({ where: { teamId: null } })).toMatchObject({
        after: { databases: 2, teamsPerUser: 4 },
      });
    } finally {
      await getDb().instanceQuota.deleteMany({ where: { id: INSTANCE_QUOTA_ID } });
    }
  });

  it("is told which field is wrong, and nothing changes", async () => {
    const team = await newTeam();
    session.user = await createTestUser({ admin: true });
    const result = await saveTeamQuotasAction({ status: "idle" }, form({ teamId: team.id, apps: "-1", redis: "x" }));
    expect(result.status).toBe("error");
    expect(Object.keys(result.fieldErrors ?? {})).toEqual(expect.arrayContaining(["apps", "redis"]));
    expect(await getDb().teamQuota.count({ where: { teamId: team.id } })).toBe(0);
    expect(await saveTeamQuotasAction({ status: "idle" }, form({ teamId: randomUUID(), apps: "1" }))).toMatchObject({
      status: "error",
      message: "Team not found.",
    });
  });

  it("reads the page's data in the same number of queries for one team as for many", async () => {
    const admin = await createTestUser({ admin: true });
    const marker = `Quota ${randomBytes(4).toString("hex")}`;
    const owner = await createTestUser();
    const first = await createTestTeam(owner.id, `${marker} 0`);
    const one = await countQueries(() => quotaAdminState(getDb(), admin, { search: marker }));
    expect(one.result.teams).toHaveLength(1);
    for (let i = 1; i <= 5; i++) {
      const team = await createTestTeam(owner.id, `${marker} ${i}`);
      await getDb().app.create({ data: { teamId: team.id, name: `app-${i}` } });
      await getDb().tenantDatabase.create({ data: { teamId: team.id, name: `db-${i}`, connectionLimit: 4 } });
      await getDb().teamQuota.create({ data: { teamId: team.id, apps: i } });
    }
    const many = await countQueries(() => quotaAdminState(getDb(), admin, { search: marker }));
    expect(many.result.teams).toHaveLength(6);
    expect(many.count).toBe(one.count);
    const row = many.result.teams.find((team) => team.name === `${marker} 3`);
    expect(row).toMatchObject({ overrides: { apps: 3 }, effective: { apps: 3 }, usage: { apps: 1, dbConnections: 4 } });
    expect(many.result.teams.find((team) => team.id === first.id)?.usage.apps).toBe(0);
  });
});
