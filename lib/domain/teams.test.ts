// Teams and their owners: creation, listing, renaming, the last-owner rules, ownership transfer, and deletion
// through the team__delete job.
import { randomUUID } from "node:crypto";
import { runOnce } from "graphile-worker";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { enqueue } from "@/jobs/enqueue";
import { buildTaskList } from "@/jobs/runner";
import { workerLogger } from "@/lib/database/migrate";
import { getDb } from "@/lib/db";
import { authenticateApiToken, createApiToken } from "@/lib/domain/api-tokens";
import { createApp } from "@/lib/domain/apps";
import { type Ctx, type RequestMeta, userContext } from "@/lib/domain/context";
import { createInvitation } from "@/lib/domain/invitations";
import { changeMemberRole, removeMember, transferOwnership } from "@/lib/domain/members";
import { createTeam, deleteTeam, getTeam, listTeamsForUser, renameTeam, slugFor } from "@/lib/domain/teams";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import type { Role } from "@/lib/generated/prisma/enums";
import { expectAppError } from "@/test/errors";
import { pendingJobs, withRawClient } from "@/test/helpers";

const log = pino({ level: "silent" });

function meta(): RequestMeta {
  return { requestId: randomUUID(), ip: "198.51.100.4", userAgent: "teams-test" };
}

function uniqueEmail(label: string): string {
  return `${label}-${randomUUID().slice(0, 12)}@example.test`;
}

async function newUser(label: string) {
  return await getDb().user.create({ data: { email: uniqueEmail(label) } });
}

type Seat = { userId: string; membershipId: string };

async function seat(teamId: string, userId: string): Promise<Seat> {
  const membership = await getDb().membership.findFirstOrThrow({ where: { teamId, userId } });
  return { userId, membershipId: membership.id };
}

async function addMember(teamId: string, role: Role): Promise<Seat> {
  const user = await newUser(role);
  const membership = await getDb().membership.create({ data: { teamId, userId: user.id, role } });
  return { userId: user.id, membershipId: membership.id };
}

async function newTeam(name = `Team ${randomUUID().slice(0, 8)}`) {
  const owner = await newUser("owner");
  const team = await createTeam(getDb(), { userId: owner.id, name, meta: meta() });
  return { team, owner: await seat(team.id, owner.id) };
}

async function ctxOf(teamId: string, person: Seat): Promise<Ctx> {
  return await userContext(getDb(), person.userId, teamId, meta());
}

async function roleOf(membershipId: string): Promise<Role | null> {
  const row = await getDb().membership.findUnique({ where: { id: membershipId } });
  return row?.role ?? null;
}

async function ownerCount(teamId: string): Promise<number> {
  return await getDb().membership.count({ where: { teamId, role: "owner" } });
}

/** Opens several pooled connections up front, so racing transactions overlap instead of queueing on connects. */
async function warmPool(): Promise<void> {
  await Promise.all(Array.from({ length: 8 }, () => getDb().$executeRaw`SELECT pg_sleep(0.05)`));
}

async function drain(): Promise<void> {
  const connectionString = getEnv().databaseDirectUrl;
  await runOnce({ connectionString, logger: workerLogger(log) }, buildTaskList({ db: getDb(), log, workerId: "test" }));
}

describe("createTeam", () => {
  it("makes the creator its owner, with a DNS-safe slug, and audits it", async () => {
    const { team, owner } = await newTeam("Ünïcødé & Co.");
    expect(team.name).toBe("Ünïcødé & Co.");
    expect(team.slug).toMatch(/^unic-de-co-[0-9a-f]{6}$/);
    expect(await roleOf(owner.membershipId)).toBe("owner");
    const audit = await getDb().auditEvent.findMany({ where: { teamId: team.id } });
    expect(audit.map((row) => row.action)).toEqual(["team.created"]);
  });

  it("rolls back entirely when the user does not exist", async () => {
    const teamsBefore = await getDb().team.count();
    await expect(createTeam(getDb(), { userId: randomUUID(), name: "Ghost", meta: meta() })).rejects.toThrow();
    expect(await getDb().team.count()).toBe(teamsBefore);
  });
});

describe("slugFor", () => {
  it.each([
    ["My Team", /^my-team-[0-9a-f]{6}$/],
    ["  --Weird__Name--  ", /^weird-name-[0-9a-f]{6}$/],
    ["", /^team-[0-9a-f]{6}$/],
    ["!!!", /^team-[0-9a-f]{6}$/],
    ["日本語", /^team-[0-9a-f]{6}$/],
    ["../../etc", /^etc-[0-9a-f]{6}$/],
  ])("turns %j into a DNS label", (name, pattern) => {
    expect(slugFor(name)).toMatch(pattern);
  });

  it("stays a valid DNS label for long names, even when the cut lands on a separator", () => {
    // Single letters between spaces put a separator at every other position, so any even cut ends on one.
    const slug = slugFor("abcdefghijklmnopqrstuvwxyz".repeat(4).split("").join(" "));
    expect(slug).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(slug).not.toContain("--");
    expect(slug.length).toBeLessThanOrEqual(63);
  });

  it("differs between two teams of the same name", () => {
    expect(slugFor("Same")).not.toBe(slugFor("Same"));
  });
});

describe("listTeamsForUser", () => {
  it("lists the user's active teams with their role, oldest membership first", async () => {
    const user = await newUser("multi");
    const first = await createTeam(getDb(), { userId: user.id, name: "First", meta: meta() });
    const { team: second } = await newTeam("Second");
    await getDb().membership.create({ data: { teamId: second.id, userId: user.id, role: "viewer" } });
    const third = await createTeam(getDb(), { userId: user.id, name: "Third", meta: meta() });
    await getDb().team.update({ where: { id: third.id }, data: { status: "deleting" } });
    await newTeam("Not mine");
    const teams = await listTeamsForUser(getDb(), user.id);
    expect(teams.map((team) => [team.name, team.role])).toEqual([
      ["First", "owner"],
      ["Second", "viewer"],
    ]);
    expect(teams[0]?.id).toBe(first.id);
  });
});

describe("getTeam and renameTeam", () => {
  it("renames, keeps the slug, and getTeam sees it", async () => {
    const { team, owner } = await newTeam("Before");
    const ctx = await ctxOf(team.id, owner);
    const renamed = await renameTeam(getDb(), ctx, { name: "After" });
    expect(renamed).toMatchObject({ id: team.id, name: "After", slug: team.slug });
    expect(await getTeam(getDb(), ctx)).toMatchObject({ name: "After" });
    const audit = await getDb().auditEvent.findFirstOrThrow({ where: { teamId: team.id, action: "team.renamed" } });
    expect(audit.metadata).toEqual({ from: "Before", to: "After" });
  });
});

describe("the last owner", () => {
  it("cannot be demoted", async () => {
    const { team, owner } = await newTeam();
    const error = await expectAppError(
      changeMemberRole(getDb(), await ctxOf(team.id, owner), { membershipId: owner.membershipId, role: "admin" }),
      "conflict",
    );
    expect(error.message).toMatch(/owner/i);
    expect(await roleOf(owner.membershipId)).toBe("owner");
    expect(await getDb().auditEvent.count({ where: { teamId: team.id, action: "member.role_changed" } })).toBe(0);
  });

  it("cannot leave", async () => {
    const { team, owner } = await newTeam();
    await addMember(team.id, "admin");
    await expectAppError(
      removeMember(getDb(), await ctxOf(team.id, owner), { membershipId: owner.membershipId }),
      "conflict",
    );
    expect(await roleOf(owner.membershipId)).toBe("owner");
  });

  it("cannot be removed by anyone else", async () => {
    const { team, owner } = await newTeam();
    const admin = await addMember(team.id, "admin");
    const { token } = await createApiToken(getDb(), await ctxOf(team.id, owner), {
      name: "w",
      scopes: ["read", "write"],
    });
    for (const ctx of [await ctxOf(team.id, admin), await authenticateApiToken(getDb(), token, meta())]) {
      await expectAppError(removeMember(getDb(), ctx, { membershipId: owner.membershipId }), "forbidden");
    }
    expect(await roleOf(owner.membershipId)).toBe("owner");
  });

  it("can leave once there is a second owner, who then is the last one", async () => {
    const { team, owner } = await newTeam();
    const second = await addMember(team.id, "owner");
    await removeMember(getDb(), await ctxOf(team.id, owner), { membershipId: owner.membershipId });
    expect(await roleOf(owner.membershipId)).toBeNull();
    expect(await ownerCount(team.id)).toBe(1);
    await expectAppError(
      removeMember(getDb(), await ctxOf(team.id, second), { membershipId: second.membershipId }),
      "conflict",
    );
  });

  it("can demote a co-owner, but not the last one", async () => {
    const { team, owner } = await newTeam();
    const second = await addMember(team.id, "owner");
    const ctx = await ctxOf(team.id, owner);
    await changeMemberRole(getDb(), ctx, { membershipId: second.membershipId, role: "admin" });
    expect(await roleOf(second.membershipId)).toBe("admin");
    await expectAppError(
      changeMemberRole(getDb(), ctx, { membershipId: owner.membershipId, role: "admin" }),
      "conflict",
    );
  });

  it("survives two owners removing each other at the same time", async () => {
    const { team, owner } = await newTeam();
    const second = await addMember(team.id, "owner");
    const [ctxA, ctxB] = [await ctxOf(team.id, owner), await ctxOf(team.id, second)];
    await warmPool();
    const results = await Promise.allSettled([
      removeMember(getDb(), ctxA, { membershipId: second.membershipId }),
      removeMember(getDb(), ctxB, { membershipId: owner.membershipId }),
    ]);
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    const rejected = results.find((result) => result.status === "rejected");
    expect(rejected?.reason).toBeInstanceOf(AppError);
    // The one who waited for the lock was removed meanwhile: the team no longer exists for them.
    expect(rejected?.reason).toMatchObject({ code: "not_found" });
    expect(await ownerCount(team.id)).toBe(1);
    expect(await getDb().auditEvent.count({ where: { teamId: team.id, action: "member.removed" } })).toBe(1);
  });

  it("survives two owners demoting each other, or both leaving, at the same time", async () => {
    const { team, owner } = await newTeam();
    const second = await addMember(team.id, "owner");
    const [ctxA, ctxB] = [await ctxOf(team.id, owner), await ctxOf(team.id, second)];
    await warmPool();
    await Promise.allSettled([
      changeMemberRole(getDb(), ctxA, { membershipId: second.membershipId, role: "member" }),
      changeMemberRole(getDb(), ctxB, { membershipId: owner.membershipId, role: "member" }),
    ]);
    expect(await ownerCount(team.id)).toBe(1);

    const other = await newTeam();
    const otherSecond = await addMember(other.team.id, "owner");
    const [ctxC, ctxD] = [await ctxOf(other.team.id, other.owner), await ctxOf(other.team.id, otherSecond)];
    await warmPool();
    await Promise.allSettled([
      removeMember(getDb(), ctxC, { membershipId: other.owner.membershipId }),
      removeMember(getDb(), ctxD, { membershipId: otherSecond.membershipId }),
    ]);
    expect(await ownerCount(other.team.id)).toBe(1);
  });
});

describe("transferOwnership", () => {
  it("makes the target owner and the old owner admin, audited once", async () => {
    const { team, owner } = await newTeam();
    const target = await addMember(team.id, "viewer");
    const ctx = await ctxOf(team.id, owner);
    await transferOwnership(getDb(), ctx, { membershipId: target.membershipId });
    expect(await roleOf(target.membershipId)).toBe("owner");
    expect(await roleOf(owner.membershipId)).toBe("admin");
    expect(await ownerCount(team.id)).toBe(1);
    const audit = await getDb().auditEvent.findMany({
      where: { teamId: team.id, action: "team.ownership_transferred" },
    });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorId: owner.userId, targetId: target.membershipId });
    // The old owner's next request sees the new role: no more owner-only actions.
    const fresh = await ctxOf(team.id, owner);
    expect(fresh.role).toBe("admin");
    await expectAppError(deleteTeam(getDb(), fresh, { confirmName: team.name }), "forbidden");
  });

  // BUG (lib/domain/members.ts, transferOwnership, and the owner checks of changeMemberRole and removeMember): the
  // actor's role is taken from the Ctx built by userContext before the transaction, and never re-read after
  // lockTeam. lockTeam serialises membership changes, so an owner removed (or demoted) by a co-owner while their own
  // request waits on the lock still acts as owner: here a user who is no longer in the team makes someone owner.
  // Fix: after lockTeam, re-read the acting user's membership in the transaction and authorize with that role.
  it("refuses a transfer by an owner who was removed while the request was in flight", async () => {
    const { team, owner } = await newTeam();
    const second = await addMember(team.id, "owner");
    const target = await addMember(team.id, "viewer");
    // The second owner's request has authenticated; the first owner's removal of them commits first.
    const inFlight = await ctxOf(team.id, second);
    await removeMember(getDb(), await ctxOf(team.id, owner), { membershipId: second.membershipId });
    const error = await transferOwnership(getDb(), inFlight, { membershipId: target.membershipId }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(AppError);
    expect(await roleOf(target.membershipId)).toBe("viewer");
  });

  it("refuses a transfer to oneself and to someone outside the team", async () => {
    const { team, owner } = await newTeam();
    const ctx = await ctxOf(team.id, owner);
    await expectAppError(transferOwnership(getDb(), ctx, { membershipId: owner.membershipId }), "invalid");
    await expectAppError(transferOwnership(getDb(), ctx, { membershipId: randomUUID() }), "not_found");
    expect(await roleOf(owner.membershipId)).toBe("owner");
    expect(await getDb().auditEvent.count({ where: { teamId: team.id, action: "team.ownership_transferred" } })).toBe(
      0,
    );
  });
});

describe("deleteTeam", () => {
  async function populatedTeam() {
    const { team, owner } = await newTeam();
    const ctx = await ctxOf(team.id, owner);
    const member = await addMember(team.id, "member");
    await createInvitation(getDb(), ctx, { email: uniqueEmail("invitee"), role: "viewer" });
    await createApiToken(getDb(), ctx, { name: "ci", scopes: ["read"] });
    return { team, owner, member, ctx };
  }

  async function teamRows(teamId: string) {
    const db = getDb();
    return {
      team: await db.team.findUnique({ where: { id: teamId } }),
      memberships: await db.membership.count({ where: { teamId } }),
      invitations: await db.invitation.count({ where: { teamId } }),
      apiTokens: await db.apiToken.count({ where: { teamId } }),
      auditEvents: await db.auditEvent.count({ where: { teamId } }),
      operations: await db.operation.count({ where: { targetId: teamId } }),
      jobs: (await pendingJobs("team__delete")).length,
    };
  }

  it.each([
    ["another name", () => "Something else"],
    ["the name with a leading space", (name: string) => ` ${name}`],
    ["the name in upper case", (name: string) => name.toUpperCase()],
    ["an empty string", () => ""],
  ])("typed as %s is invalid and changes nothing", async (_label, typed) => {
    const { team, ctx } = await populatedTeam();
    const before = await teamRows(team.id);
    const error = await expectAppError(deleteTeam(getDb(), ctx, { confirmName: typed(team.name) }), "invalid");
    expect(error.details).toEqual([expect.objectContaining({ path: "confirmName" })]);
    expect(await teamRows(team.id)).toEqual(before);
  });

  it("marks the team deleting and queues one job with an operation that outlives the team", async () => {
    const { team, ctx } = await populatedTeam();
    const operation = await deleteTeam(getDb(), ctx, { confirmName: team.name });
    expect(operation).toMatchObject({
      kind: "team.delete",
      teamId: null,
      targetType: "team",
      targetId: team.id,
      status: "queued",
      requestId: ctx.meta.requestId,
    });
    expect((await getDb().team.findUniqueOrThrow({ where: { id: team.id } })).status).toBe("deleting");
    const jobs = (await pendingJobs("team__delete")).filter(
      (job) => (job.payload as { teamId?: string }).teamId === team.id,
    );
    expect(jobs.map((job) => job.payload)).toEqual([{ operationId: operation.id, teamId: team.id }]);
    // A second request for the same team finds nothing to delete.
    await expectAppError(deleteTeam(getDb(), ctx, { confirmName: team.name }), "not_found");
  });

  it("runs: the job removes the team and everything it owns, marks the operation succeeded, and is harmless twice", async () => {
    const { team, owner, member, ctx } = await populatedTeam();
    const operation = await deleteTeam(getDb(), ctx, { confirmName: team.name });
    await drain();
    const after = await teamRows(team.id);
    expect(after).toEqual({
      team: null,
      memberships: 0,
      invitations: 0,
      apiTokens: 0,
      auditEvents: 0,
      operations: 1,
      jobs: 0,
    });
    const finished = await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } });
    expect(finished).toMatchObject({ status: "succeeded", attempts: 1, error: null });
    // People are not deleted with a team.
    expect(await getDb().user.count({ where: { id: { in: [owner.userId, member.userId] } } })).toBe(2);

    // A duplicated or retried job must neither fail nor touch the finished operation.
    await getDb().$transaction((tx) => enqueue(tx, "team__delete", { operationId: operation.id, teamId: team.id }));
    await drain();
    expect(await pendingJobs("team__delete")).toEqual([]);
    expect(await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } })).toEqual(finished);
  });

  it("tears the team's apps down through their own app__delete jobs before the team goes", async () => {
    const { team, ctx } = await populatedTeam();
    const app = await createApp(getDb(), ctx, { name: "web" });
    const operation = await deleteTeam(getDb(), ctx, { confirmName: team.name });
    expect((await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).status).toBe("deleting");
    expect((await pendingJobs("app__delete")).map((job) => job.payload)).toContainEqual(
      expect.objectContaining({ appId: app.id }),
    );
    await drain();
    expect(await getDb().app.findUnique({ where: { id: app.id } })).toBeNull();
    expect(await getDb().team.findUnique({ where: { id: team.id } })).toBeNull();
    expect((await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } })).status).toBe("succeeded");
  });

  it("keeps a team whose apps are not removed yet (their containers must not lose their owner)", async () => {
    const { team, ctx } = await populatedTeam();
    const app = await createApp(getDb(), ctx, { name: "web" });
    const operation = await deleteTeam(getDb(), ctx, { confirmName: team.name });
    // The app's own deletion has not run (its queue is busy with a release, say).
    await withRawClient((client) =>
      client.query(
        `DELETE FROM graphile_worker._private_jobs j USING graphile_worker._private_tasks t
         WHERE t.id = j.task_id AND t.identifier = 'app__delete' AND j.payload->>'appId' = $1`,
        [app.id],
      ),
    );
    await drain();
    expect(await getDb().team.findUnique({ where: { id: team.id } })).not.toBeNull();
    expect(await getDb().app.findUnique({ where: { id: app.id } })).not.toBeNull();
    expect((await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } })).status).toBe("running");
  });

  it("leaves a team alone that is no longer marked for deletion, and fails the operation", async () => {
    const { team, ctx } = await populatedTeam();
    const operation = await deleteTeam(getDb(), ctx, { confirmName: team.name });
    await getDb().team.update({ where: { id: team.id }, data: { status: "active" } });
    await drain();
    expect(await getDb().team.findUnique({ where: { id: team.id } })).not.toBeNull();
    expect(await getDb().membership.count({ where: { teamId: team.id } })).toBe(2);
    const failed = await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } });
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(/no longer marked for deletion/);
  });
});
