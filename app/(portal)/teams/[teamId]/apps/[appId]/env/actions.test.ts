// Environment variables from the portal: set one, set many from KEY=value lines, remove one. Viewers are refused
// with nothing written; values are stored sealed and never come back in an answer.
import { randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { resolveEnvForRelease } from "@/lib/domain/env-vars";
import type { PublicUser } from "@/lib/domain/users";
import type { Role } from "@/lib/generated/prisma/enums";
import { form } from "@/test/actions";
import { addMember, createTestTeam, createTestUser, userCtx } from "@/test/factories";

const session = vi.hoisted(() => ({ user: null as PublicUser | null }));

vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => session.user,
  currentRequestMeta: async () => ({ requestId: randomUUID(), ip: "203.0.113.9", userAgent: "vitest" }),
}));
// refresh() needs a live Next request; there is no page to refresh in a test.
vi.mock("next/cache", () => ({ refresh: () => {}, revalidatePath: () => {} }));

const { bulkSetEnvAction, setEnvVarAction, unsetEnvVarAction } = await import(
  "@/app/(portal)/teams/[teamId]/apps/[appId]/env/actions"
);

const SECRET = "s3cr3t-value-that-must-not-leak";

async function appWith(role: Role) {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const user = await createTestUser();
  await addMember(team.id, user.id, role);
  const ownerCtx = await userCtx(owner.id, team.id);
  const app = await createApp(getDb(), ownerCtx, { name: "web" });
  return { team, user, app, fields: { teamId: team.id, appId: app.id } };
}

beforeEach(() => {
  session.user = null;
});

describe("setEnvVarAction", () => {
  it("refuses a viewer and stores nothing", async () => {
    const { user, app, fields } = await appWith("viewer");
    session.user = user;
    const state = await setEnvVarAction({ status: "idle" }, form({ ...fields, key: "SECRET_KEY", value: SECRET }));
    expect(state).toEqual({ status: "error", message: "Your role in this team does not allow this." });
    expect(await getDb().envVar.count({ where: { appId: app.id } })).toBe(0);
  });

  it("stores a member's value sealed and answers without it", async () => {
    const { user, app, fields } = await appWith("member");
    session.user = user;
    const state = await setEnvVarAction({ status: "idle" }, form({ ...fields, key: "SECRET_KEY", value: SECRET }));
    expect(state.status).toBe("success");
    expect(JSON.stringify(state)).not.toContain(SECRET);
    const row = await getDb().envVar.findFirstOrThrow({ where: { appId: app.id } });
    expect(row.valueEncrypted).not.toContain(SECRET);
    expect(await resolveEnvForRelease(getDb(), app.id)).toEqual({ SECRET_KEY: SECRET });
  });

  it("rejects reserved and malformed keys on the key field", async () => {
    const { user, app, fields } = await appWith("member");
    session.user = user;
    for (const key of ["PORT", "DATABASE_URL", "lower", "1X", "TUSSILAGO_X"]) {
      const state = await setEnvVarAction({ status: "idle" }, form({ ...fields, key, value: "x" }));
      expect(state.status).toBe("error");
      expect(state.fieldErrors).toHaveProperty("key");
    }
    expect(await getDb().envVar.count({ where: { appId: app.id } })).toBe(0);
  });

  it("answers not found for another team's app", async () => {
    const { user, fields } = await appWith("member");
    const other = await appWith("member");
    session.user = user;
    const state = await setEnvVarAction(
      { status: "idle" },
      form({ ...fields, appId: other.app.id, key: "SECRET_KEY", value: SECRET }),
    );
    expect(state).toEqual({ status: "error", message: "App not found." });
    expect(await getDb().envVar.count({ where: { appId: other.app.id } })).toBe(0);
  });
});

describe("bulkSetEnvAction", () => {
  it("refuses a viewer", async () => {
    const { user, app, fields } = await appWith("viewer");
    session.user = user;
    const state = await bulkSetEnvAction({ status: "idle" }, form({ ...fields, lines: "A=1\nB=2" }));
    expect(state).toEqual({ status: "error", message: "Your role in this team does not allow this." });
    expect(await getDb().envVar.count({ where: { appId: app.id } })).toBe(0);
  });

  it("sets every line, an empty value as an empty string, and leaves other keys alone", async () => {
    const { user, app, fields } = await appWith("member");
    session.user = user;
    await setEnvVarAction({ status: "idle" }, form({ ...fields, key: "KEEP", value: "kept" }));
    const state = await bulkSetEnvAction(
      { status: "idle" },
      form({ ...fields, lines: `# pasted\nA=1\nEMPTY=\nSECRET=${SECRET}\n` }),
    );
    expect(state).toEqual({
      status: "success",
      message: "Saved 3 variables: A, EMPTY, SECRET. They apply when the app starts.",
    });
    expect(await resolveEnvForRelease(getDb(), app.id)).toEqual({ A: "1", EMPTY: "", KEEP: "kept", SECRET });
  });

  it("writes nothing when a line is wrong, and says which", async () => {
    const { user, app, fields } = await appWith("member");
    session.user = user;
    const state = await bulkSetEnvAction({ status: "idle" }, form({ ...fields, lines: "A=1\nPORT=80" }));
    expect(state.status).toBe("error");
    expect(state.fieldErrors?.lines).toBe("Line 2: PORT: This variable is set by the platform.");
    expect(await getDb().envVar.count({ where: { appId: app.id } })).toBe(0);
  });
});

describe("unsetEnvVarAction", () => {
  it("refuses a viewer and keeps the variable; removes it for a member", async () => {
    const { team, user, app, fields } = await appWith("viewer");
    const member = await createTestUser();
    await addMember(team.id, member.id, "member");
    session.user = member;
    await setEnvVarAction({ status: "idle" }, form({ ...fields, key: "GONE", value: "soon" }));

    session.user = user;
    const refused = await unsetEnvVarAction({ status: "idle" }, form({ ...fields, key: "GONE" }));
    expect(refused).toEqual({ status: "error", message: "Your role in this team does not allow this." });
    expect(await getDb().envVar.count({ where: { appId: app.id } })).toBe(1);

    session.user = member;
    const removed = await unsetEnvVarAction({ status: "idle" }, form({ ...fields, key: "GONE" }));
    expect(removed.status).toBe("success");
    expect(await getDb().envVar.count({ where: { appId: app.id } })).toBe(0);
  });
});
