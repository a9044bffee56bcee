// Renaming and deleting must be refused to roles the settings page shows no form to, when called directly.
import { randomBytes, randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { getDb } from "@/lib/db";
import { createTeam } from "@/lib/domain/teams";
import { createUser, type PublicUser } from "@/lib/domain/users";
import type { Role } from "@/lib/generated/prisma/enums";
import { form } from "@/test/actions";

const session = vi.hoisted(() => ({ user: null as PublicUser | null }));

vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => session.user,
  currentRequestMeta: async () => ({ requestId: randomUUID(), ip: "203.0.113.9", userAgent: "vitest" }),
}));
// refresh() needs a live Next request; there is no page to refresh in a test.
vi.mock("next/cache", () => ({ refresh: () => {}, revalidatePath: () => {} }));

const { deleteTeamAction, renameTeamAction } = await import("@/app/(portal)/teams/[teamId]/settings/actions");

async function teamWith(role: Role) {
  const db = getDb();
  const suffix = randomBytes(5).toString("hex");
  const owner = await createUser(db, { email: `owner-${suffix}@example.test` });
  const team = await createTeam(db, {
    userId: owner.id,
    name: "Settings test",
    meta: { requestId: randomUUID(), ip: null, userAgent: null },
  });
  const other = await createUser(db, { email: `${role}-${suffix}@example.test` });
  await db.membership.create({ data: { teamId: team.id, userId: other.id, role } });
  return { team, other };
}

beforeEach(() => {
  session.user = null;
});

describe("renameTeamAction", () => {
  it.each(["viewer", "member"] as const)("refuses a %s and keeps the name", async (role) => {
    const { team, other } = await teamWith(role);
    session.user = other;
    const state = await renameTeamAction({ status: "idle" }, form({ teamId: team.id, name: "Taken over" }));
    expect(state).toEqual({ status: "error", message: "Your role in this team does not allow this." });
    expect((await getDb().team.findUniqueOrThrow({ where: { id: team.id } })).name).toBe("Settings test");
  });

  it("lets an admin rename", async () => {
    const { team, other } = await teamWith("admin");
    session.user = other;
    const state = await renameTeamAction({ status: "idle" }, form({ teamId: team.id, name: "Renamed" }));
    expect(state.status).toBe("success");
    expect((await getDb().team.findUniqueOrThrow({ where: { id: team.id } })).name).toBe("Renamed");
  });
});

describe("deleteTeamAction", () => {
  it("refuses an admin even with the right name", async () => {
    const { team, other } = await teamWith("admin");
    session.user = other;
    const state = await deleteTeamAction({ status: "idle" }, form({ teamId: team.id, confirmName: "Settings test" }));
    expect(state).toEqual({ status: "error", message: "Your role in this team does not allow this." });
    expect((await getDb().team.findUniqueOrThrow({ where: { id: team.id } })).status).toBe("active");
  });
});
