// Creating an app from the portal: the form is hidden from viewers, and the action refuses them too when called
// directly; a member's app is created and the browser is sent to its page; the domain's name rules come back per field.
import { randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { getDb } from "@/lib/db";
import type { PublicUser } from "@/lib/domain/users";
import type { Role } from "@/lib/generated/prisma/enums";
import { form, redirectTarget } from "@/test/actions";
import { addMember, createTestTeam, createTestUser } from "@/test/factories";

const session = vi.hoisted(() => ({ user: null as PublicUser | null }));

vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => session.user,
  currentRequestMeta: async () => ({ requestId: randomUUID(), ip: "203.0.113.9", userAgent: "vitest" }),
}));

const { createAppAction } = await import("@/app/(portal)/teams/[teamId]/apps/new/actions");

/** Where a server action's redirect() was sending the browser (it throws Next's redirect error). */
async function teamWith(role: Role) {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const user = await createTestUser();
  await addMember(team.id, user.id, role);
  return { team, user };
}

beforeEach(() => {
  session.user = null;
});

describe("createAppAction", () => {
  it("refuses a viewer and creates nothing", async () => {
    const { team, user } = await teamWith("viewer");
    session.user = user;
    const state = await createAppAction({ status: "idle" }, form({ teamId: team.id, name: "web" }));
    expect(state).toEqual({ status: "error", message: "Your role in this team does not allow this." });
    expect(await getDb().app.count({ where: { teamId: team.id } })).toBe(0);
  });

  it("answers not found to someone outside the team", async () => {
    const { team } = await teamWith("viewer");
    session.user = await createTestUser();
    const state = await createAppAction({ status: "idle" }, form({ teamId: team.id, name: "web" }));
    expect(state).toEqual({ status: "error", message: "Team not found." });
    expect(await getDb().app.count({ where: { teamId: team.id } })).toBe(0);
  });

  it("lets a member create an app with a git source and goes to its page", async () => {
    const { team, user } = await teamWith("member");
    session.user = user;
    const target = await redirectTarget(
      createAppAction(
        { status: "idle" },
        form({ teamId: team.id, name: "web", gitUrl: "https://github.com/acme/web.git", gitRef: "" }),
      ),
    );
    const app = await getDb().app.findFirstOrThrow({ where: { teamId: team.id } });
    expect(target).toBe(`/teams/${team.id}/apps/${app.id}`);
    expect(app).toMatchObject({ name: "web", sourceType: "git", gitUrl: "https://github.com/acme/web.git" });
    expect(app.gitRef).toBe("main");
  });

  it.each([
    ["../x", "name"],
    ["Web App", "name"],
    ["-rf", "name"],
    ["www", "name"],
  ])("rejects the name %j on the name field", async (name, field) => {
    const { team, user } = await teamWith("member");
    session.user = user;
    const state = await createAppAction({ status: "idle" }, form({ teamId: team.id, name }));
    expect(state.status).toBe("error");
    expect(state.fieldErrors).toHaveProperty(field);
    expect(await getDb().app.count({ where: { teamId: team.id } })).toBe(0);
  });

  it("rejects a git URL that is not https, a ref without a URL and smuggled fields", async () => {
    const { team, user } = await teamWith("member");
    session.user = user;
    const notHttps = await createAppAction(
      { status: "idle" },
      form({ teamId: team.id, name: "web", gitUrl: "file:///etc" }),
    );
    expect(notHttps.status).toBe("error");
    expect(notHttps.fieldErrors).toHaveProperty("source");

    const refOnly = await createAppAction({ status: "idle" }, form({ teamId: team.id, name: "web", gitRef: "main" }));
    expect(refOnly.fieldErrors).toHaveProperty("gitUrl");

    const smuggled = await createAppAction(
      { status: "idle" },
      form({ teamId: team.id, name: "web", status: "running" }),
    );
    expect(smuggled.status).toBe("error");
    expect(await getDb().app.count({ where: { teamId: team.id } })).toBe(0);
  });

  it("reports a name taken in the team", async () => {
    const { team, user } = await teamWith("member");
    session.user = user;
    await redirectTarget(createAppAction({ status: "idle" }, form({ teamId: team.id, name: "web" })));
    const again = await createAppAction({ status: "idle" }, form({ teamId: team.id, name: "web" }));
    expect(again).toEqual({ status: "error", message: 'An app named "web" already exists in this team.' });
  });
});
