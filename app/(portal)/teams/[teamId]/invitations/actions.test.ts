// The invite action must refuse a role that should not see its form even when called directly: the page hiding the
// form is not the protection, the action (membership) and the domain function (role) are.
import { randomBytes, randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { getDb } from "@/lib/db";
import { createTeam } from "@/lib/domain/teams";
import { createUser, type PublicUser } from "@/lib/domain/users";
import { form } from "@/test/actions";

const session = vi.hoisted(() => ({ user: null as PublicUser | null }));

vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => session.user,
  requireUser: async () => {
    if (!session.user) throw new Error("not signed in");
    return session.user;
  },
  currentRequestMeta: async () => ({ requestId: randomUUID(), ip: "203.0.113.9", userAgent: "vitest" }),
}));

// refresh() needs a live Next request; outside one it would throw, and there is no page to refresh in a test.
vi.mock("next/cache", () => ({ refresh: () => {}, revalidatePath: () => {} }));

const { createInvitationAction, revokeInvitationAction } = await import(
  "@/app/(portal)/teams/[teamId]/invitations/actions"
);

const meta = { requestId: randomUUID(), ip: null, userAgent: null };

function email(label: string): string {
  return `${label}-${randomBytes(5).toString("hex")}@example.test`;
}

async function teamWith(role: "admin" | "member" | "viewer") {
  const db = getDb();
  const owner = await createUser(db, { email: email("owner") });
  const team = await createTeam(db, { userId: owner.id, name: "Invite test", meta });
  const other = await createUser(db, { email: email(role) });
  await db.membership.create({ data: { teamId: team.id, userId: other.id, role } });
  return { owner, team, other };
}

beforeEach(() => {
  session.user = null;
});

describe("createInvitationAction", () => {
  it.each(["viewer", "member"] as const)("refuses a %s and creates nothing", async (role) => {
    const { team, other } = await teamWith(role);
    session.user = other;
    const invited = email("invited");

    const state = await createInvitationAction(
      { status: "idle" },
      form({ teamId: team.id, email: invited, role: "member" }),
    );

    expect(state).toEqual({ status: "error", message: "Your role in this team does not allow this." });
    expect(await getDb().invitation.count({ where: { teamId: team.id } })).toBe(0);
    expect(await getDb().auditEvent.count({ where: { teamId: team.id, action: "invitation.created" } })).toBe(0);
  });

  it("answers not found to someone outside the team", async () => {
    const { team } = await teamWith("viewer");
    session.user = await createUser(getDb(), { email: email("outsider") });

    const state = await createInvitationAction(
      { status: "idle" },
      form({ teamId: team.id, email: email("invited"), role: "member" }),
    );

    expect(state).toEqual({ status: "error", message: "Team not found." });
    expect(await getDb().invitation.count({ where: { teamId: team.id } })).toBe(0);
  });

  it("refuses when signed out", async () => {
    const { team } = await teamWith("viewer");
    const state = await createInvitationAction(
      { status: "idle" },
      form({ teamId: team.id, email: email("invited"), role: "member" }),
    );
    expect(state.status).toBe("error");
    expect(state.message).toBe("Your session has ended. Sign in again.");
    expect(await getDb().invitation.count({ where: { teamId: team.id } })).toBe(0);
  });

  it("rejects smuggled fields and an owner role", async () => {
    const { team, owner } = await teamWith("viewer");
    session.user = owner;

    const smuggled = await createInvitationAction(
      { status: "idle" },
      form({ teamId: team.id, email: email("invited"), role: "member", status: "accepted" }),
    );
    expect(smuggled.status).toBe("error");

    const asOwner = await createInvitationAction(
      { status: "idle" },
      form({ teamId: team.id, email: email("invited"), role: "owner" }),
    );
    expect(asOwner.status).toBe("error");
    expect(asOwner.fieldErrors).toHaveProperty("role");
    expect(await getDb().invitation.count({ where: { teamId: team.id } })).toBe(0);
  });

  it("lets an admin invite, and returns the link once when no mail is configured", async () => {
    const { team, other } = await teamWith("admin");
    session.user = other;
    const invited = email("invited");

    const state = await createInvitationAction(
      { status: "idle" },
      form({ teamId: team.id, email: invited.toUpperCase(), role: "viewer" }),
    );

    expect(state.status).toBe("success");
    expect(state.data?.link).toMatch(/\/invitations\/[A-Za-z0-9_-]{43}$/);
    const rows = await getDb().invitation.findMany({ where: { teamId: team.id } });
    expect(rows).toHaveLength(1);
    expect(rows[0]?.email).toBe(invited);
    expect(rows[0]?.role).toBe("viewer");
  });
});

describe("revokeInvitationAction", () => {
  it("refuses a viewer and leaves the invitation pending", async () => {
    const { team, owner, other } = await teamWith("viewer");
    session.user = owner;
    await createInvitationAction(
      { status: "idle" },
      form({ teamId: team.id, email: email("invited"), role: "member" }),
    );
    const invitation = await getDb().invitation.findFirstOrThrow({ where: { teamId: team.id } });

    session.user = other;
    const state = await revokeInvitationAction(
      { status: "idle" },
      form({ teamId: team.id, invitationId: invitation.id }),
    );

    expect(state).toEqual({ status: "error", message: "Your role in this team does not allow this." });
    const after = await getDb().invitation.findUniqueOrThrow({ where: { id: invitation.id } });
    expect(after.revokedAt).toBeNull();
  });
});
