// The databases pages' server actions, called directly as the browser would: admins create, attach, change limits,
// rotate, reveal and delete (typed confirmation); viewers and members are refused with nothing changed; another
// team's database is not found; the poll answers only for the team's own. No job runs here: the jobs are tested
// against the real tenant PostgreSQL in jobs/tasks/tenant_db.test.ts.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { getDb } from "@/lib/db";
import { createDatabase } from "@/lib/domain/databases";
import type { PublicUser } from "@/lib/domain/users";
import { resetEnvForTests } from "@/lib/env";
import type { Role } from "@/lib/generated/prisma/enums";
import { form, redirectTarget } from "@/test/actions";
import { addMember, createTestTeam, createTestUser, userCtx } from "@/test/factories";
import { pendingJobs } from "@/test/helpers";

const session = vi.hoisted(() => ({ user: null as PublicUser | null }));

vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => session.user,
  currentRequestMeta: async () => ({ requestId: randomUUID(), ip: "203.0.113.9", userAgent: "vitest" }),
}));
vi.mock("next/cache", () => ({ refresh: () => {}, revalidatePath: () => {} }));

const {
  attachDatabaseAction,
  changeDatabaseLimitsAction,
  createDatabaseAction,
  deleteDatabaseAction,
  pollDatabases,
  revealDatabaseCredentialsAction,
  rotateDatabaseAction,
} = await import("@/app/(portal)/teams/[teamId]/databases/actions");

const idle = { status: "idle" } as const;

let counter = 0;
function uniqueName(): string {
  counter += 1;
  return `db-${counter}-${randomUUID().slice(0, 6)}`;
}

/** A team with a user of `role`, an app, and a ready database made by the owner. */
async function teamWith(role: Role) {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const user = await createTestUser();
  await addMember(team.id, user.id, role);
  const app = await getDb().app.create({ data: { teamId: team.id, name: `app-${randomUUID().slice(0, 6)}` } });
  const { database, operation } = await createDatabase(getDb(), await userCtx(owner.id, team.id), {
    name: uniqueName(),
  });
  // As if tenant_db__provision had run.
  await getDb().tenantDatabase.update({ where: { id: database.id }, data: { status: "ready" } });
  await getDb().operation.update({ where: { id: operation.id }, data: { status: "succeeded" } });
  return { team, user, app, database, fields: { teamId: team.id, databaseId: database.id } };
}

const LIMITS = { connectionLimit: "7", statementTimeout: "2.5", idleInTransactionTimeout: "10" };

beforeAll(() => {
  process.env.TENANT_PG_ADMIN_URL = "postgresql://tussilago:admin-secret@127.0.0.1:55432/postgres";
  resetEnvForTests();
});

afterAll(() => {
  delete process.env.TENANT_PG_ADMIN_URL;
  resetEnvForTests();
});

beforeEach(() => {
  session.user = null;
});

describe("database actions", () => {
  it("refuse viewers and members on every change, with nothing changed and nothing audited", async () => {
    for (const role of ["viewer", "member"] as const) {
      const { team, user, app, database, fields } = await teamWith(role);
      session.user = user;
      const refused = { status: "error", message: "Your role in this team does not allow this." };
      const before = await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: database.id } });
      const auditBefore = await getDb().auditEvent.count({ where: { teamId: team.id } });

      expect(await createDatabaseAction(idle, form({ teamId: team.id, name: "x", appId: "", ...LIMITS }))).toEqual(
        refused,
      );
      expect(await attachDatabaseAction(idle, form({ ...fields, appId: app.id }))).toEqual(refused);
      expect(await changeDatabaseLimitsAction(idle, form({ ...fields, ...LIMITS }))).toEqual(refused);
      expect(await rotateDatabaseAction(idle, form(fields))).toEqual(refused);
      expect(await revealDatabaseCredentialsAction(idle, form(fields))).toEqual(refused);
      expect(await deleteDatabaseAction(idle, form({ ...fields, confirmName: database.name }))).toEqual(refused);

      expect(await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: database.id } })).toEqual(before);
      expect(await getDb().tenantDatabase.count({ where: { teamId: team.id } })).toBe(1);
      expect(await getDb().auditEvent.count({ where: { teamId: team.id } })).toBe(auditBefore);
      // Reading stays allowed: the page polls.
      const polled = await pollDatabases(team.id, [database.id]);
      expect(polled.data?.[database.id]).toEqual({ status: "ready", pending: null, error: null });
    }
  });

  it("answer not found for another team's database and to people outside the team", async () => {
    const mine = await teamWith("admin");
    const theirs = await teamWith("admin");
    session.user = mine.user;
    const crossed = { teamId: mine.team.id, databaseId: theirs.database.id };
    for (const state of [
      await attachDatabaseAction(idle, form({ ...crossed, appId: "" })),
      await changeDatabaseLimitsAction(idle, form({ ...crossed, ...LIMITS })),
      await rotateDatabaseAction(idle, form(crossed)),
      await revealDatabaseCredentialsAction(idle, form(crossed)),
      await deleteDatabaseAction(idle, form({ ...crossed, confirmName: theirs.database.name })),
    ]) {
      expect(state).toMatchObject({ status: "error", message: "Database not found." });
    }
    // Attaching to another team's app is refused the same way.
    expect(await attachDatabaseAction(idle, form({ ...mine.fields, appId: theirs.app.id }))).toMatchObject({
      status: "error",
      message: "App not found.",
    });
    // The poll does not tell another team's database from one that does not exist.
    expect((await pollDatabases(mine.team.id, [theirs.database.id, mine.database.id])).data).toEqual({
      [theirs.database.id]: null,
      [mine.database.id]: { status: "ready", pending: null, error: null },
    });
    expect(await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: theirs.database.id } })).toMatchObject({
      status: "ready",
      appId: null,
    });

    session.user = await createTestUser();
    expect(await rotateDatabaseAction(idle, form(mine.fields))).toMatchObject({
      status: "error",
      message: "Team not found.",
    });
  });

  it("create a database for an admin and go to its page; limits arrive in milliseconds", async () => {
    const { team, user, app } = await teamWith("admin");
    session.user = user;
    const name = uniqueName();
    const target = await redirectTarget(
      createDatabaseAction(idle, form({ teamId: team.id, name, appId: app.id, ...LIMITS })),
    );
    const row = await getDb().tenantDatabase.findFirstOrThrow({ where: { teamId: team.id, name } });
    expect(target).toBe(`/teams/${team.id}/databases/${row.id}`);
    expect(row).toMatchObject({
      status: "provisioning",
      appId: app.id,
      connectionLimit: 7,
      statementTimeoutMs: 2_500,
      idleInTransactionMs: 10_000,
    });
    expect((await pendingJobs("tenant_db__provision")).map((job) => job.payload)).toContainEqual(
      expect.objectContaining({ databaseId: row.id }),
    );
    expect((await pollDatabases(team.id, [row.id])).data?.[row.id]).toEqual({
      status: "provisioning",
      pending: "database.provision",
      error: null,
    });

    const invalid = await createDatabaseAction(
      idle,
      form({ teamId: team.id, name: "Not A Name", appId: "", ...LIMITS, connectionLimit: "0" }),
    );
    expect(invalid.status).toBe("error");
    expect(invalid.fieldErrors).toHaveProperty("connectionLimit");
    const badName = await createDatabaseAction(
      idle,
      form({ teamId: team.id, name: "Not A Name", appId: "", ...LIMITS }),
    );
    expect(badName.fieldErrors).toHaveProperty("name");
  });

  it("attach, detach, change limits, rotate and reveal for an admin", async () => {
    const { team, user, app, database, fields } = await teamWith("admin");
    session.user = user;

    expect(await attachDatabaseAction(idle, form({ ...fields, appId: app.id }))).toMatchObject({ status: "success" });
    expect((await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: database.id } })).appId).toBe(app.id);
    expect(await attachDatabaseAction(idle, form({ ...fields, appId: "" }))).toMatchObject({ status: "success" });
    expect((await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: database.id } })).appId).toBeNull();

    const limits = await changeDatabaseLimitsAction(idle, form({ ...fields, ...LIMITS }));
    expect(limits).toMatchObject({ status: "success", message: expect.stringContaining("Applying") });
    expect(await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: database.id } })).toMatchObject({
      connectionLimit: 7,
      statementTimeoutMs: 2_500,
      idleInTransactionMs: 10_000,
    });
    expect((await pollDatabases(team.id, [database.id])).data?.[database.id]?.pending).toBe("database.limits");
    const tooLong = await changeDatabaseLimitsAction(idle, form({ ...fields, ...LIMITS, statementTimeout: "90000" }));
    expect(tooLong.fieldErrors).toHaveProperty("statementTimeout");

    const revealed = await revealDatabaseCredentialsAction(idle, form(fields));
    expect(revealed.status).toBe("success");
    expect(revealed.data).toMatchObject({ host: "127.0.0.1", port: 55432, user: expect.stringMatching(/^t_/) });
    expect(revealed.data?.password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const audit = await getDb().auditEvent.findMany({ where: { teamId: team.id, targetId: database.id } });
    expect(audit.map((event) => event.action)).toContain("database.credentials_revealed");
    expect(JSON.stringify(audit)).not.toContain(revealed.data?.password);

    expect(await rotateDatabaseAction(idle, form(fields))).toMatchObject({ status: "success" });
    const after = await revealDatabaseCredentialsAction(idle, form(fields));
    expect(after.data?.password).not.toBe(revealed.data?.password);
  });

  it("delete only with the name typed exactly, then back to the list", async () => {
    const { team, user, database, fields } = await teamWith("owner");
    session.user = user;
    const wrong = await deleteDatabaseAction(idle, form({ ...fields, confirmName: `${database.name} ` }));
    expect(wrong.status).toBe("error");
    expect(wrong.fieldErrors).toHaveProperty("confirmName");
    expect((await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: database.id } })).status).toBe("ready");

    const target = await redirectTarget(deleteDatabaseAction(idle, form({ ...fields, confirmName: database.name })));
    expect(target).toBe(`/teams/${team.id}/databases`);
    expect((await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: database.id } })).status).toBe("deleting");
    expect((await pendingJobs("tenant_db__deprovision")).map((job) => job.payload)).toContainEqual(
      expect.objectContaining({ databaseId: database.id }),
    );
  });
});
