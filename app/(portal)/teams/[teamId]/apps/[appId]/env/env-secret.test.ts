// #18 point 6 on the real database: the plain/secret flag (portal and API), the audited reveal of a secret value
// (members and up, key in the audit row, never the value), "Save" beside "Save and restart" on a running app, the
// .env paste's preview (stores nothing, echoes no value), and the variables the platform injects with their source.
import { randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { GET as getEnvRoute, PUT as putEnvRoute } from "@/app/api/v1/apps/[appId]/env/route";
import { getEnvEndpoint } from "@/lib/api/endpoints/env";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { listInjectedEnv } from "@/lib/domain/env-injected";
import { listEnvVars, MASK, resolveEnvForRelease, setEnvVars } from "@/lib/domain/env-vars";
import type { PublicUser } from "@/lib/domain/users";
import type { Role } from "@/lib/generated/prisma/enums";
import { form } from "@/test/actions";
import { call } from "@/test/api";
import { expectAppError } from "@/test/errors";
import { addMember, createTestTeam, createTestToken, createTestUser, userCtx } from "@/test/factories";
import { pendingJobs } from "@/test/helpers";

const session = vi.hoisted(() => ({ user: null as PublicUser | null }));

vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => session.user,
  currentRequestMeta: async () => ({ requestId: randomUUID(), ip: "203.0.113.9", userAgent: "vitest" }),
}));
vi.mock("next/cache", () => ({ refresh: () => {}, revalidatePath: () => {} }));

const { bulkSetEnvAction, revealEnvVarAction, setEnvVarAction } = await import(
  "@/app/(portal)/teams/[teamId]/apps/[appId]/env/actions"
);

const SECRET = "s3cr3t-value-that-must-not-leak";

async function appWith(role: Role, options: { running?: boolean } = {}) {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const user = await createTestUser();
  await addMember(team.id, user.id, role);
  const ownerCtx = await userCtx(owner.id, team.id);
  const app = await createApp(getDb(), ownerCtx, { name: "web" });
  if (options.running) {
    const deployment = await getDb().deployment.create({
      data: { appId: app.id, teamId: team.id, sourceType: "upload", number: 1, status: "running" },
    });
    await getDb().app.update({
      where: { id: app.id },
      data: { status: "running", currentDeploymentId: deployment.id },
    });
  }
  return { team, user, owner, ownerCtx, app, fields: { teamId: team.id, appId: app.id } };
}

async function restartsOf(appId: string): Promise<number> {
  return await getDb().operation.count({ where: { targetId: appId, kind: "app.restart" } });
}

beforeEach(() => {
  session.user = null;
});

describe("the plain/secret flag", () => {
  it("keeps new variables secret unless ticked plain, shows plain values, and keeps a flag when only the value changes", async () => {
    const { user, ownerCtx, app, fields } = await appWith("member");
    session.user = user;
    await setEnvVarAction({ status: "idle" }, form({ ...fields, key: "TOKEN", value: SECRET }));
    await setEnvVarAction({ status: "idle" }, form({ ...fields, key: "MODE", value: "live", plain: "on" }));
    expect(await listEnvVars(getDb(), ownerCtx, app.id)).toEqual([
      { key: "MODE", value: "live", secret: false, updatedAt: expect.any(Date) },
      { key: "TOKEN", value: MASK, secret: true, updatedAt: expect.any(Date) },
    ]);
    // The API without a flag: the value changes, the flag stays.
    await setEnvVars(getDb(), ownerCtx, app.id, { MODE: "test" });
    expect((await listEnvVars(getDb(), ownerCtx, app.id))[0]).toMatchObject({
      key: "MODE",
      value: "test",
      secret: false,
    });
  });

  it("refuses a flag for a key the change does not set", async () => {
    const { ownerCtx, app } = await appWith("member");
    await setEnvVars(getDb(), ownerCtx, app.id, { TOKEN: SECRET });
    await expectAppError(
      setEnvVars(getDb(), ownerCtx, app.id, { OTHER: "1" }, { secret: { TOKEN: false } }),
      "invalid",
    );
    expect((await listEnvVars(getDb(), ownerCtx, app.id)).find((row) => row.key === "TOKEN")?.secret).toBe(true);
  });

  it("PUT /env takes secret flags, GET answers them with plain values shown and secret ones masked", async () => {
    const { team, app } = await appWith("member");
    const token = await createTestToken(team.id, ["write"]);
    const put = await call(putEnvRoute, `/api/v1/apps/${app.id}/env`, {
      method: "PUT",
      token,
      body: { env: { MODE: "live", TOKEN: SECRET }, secret: { MODE: false } },
      params: { appId: app.id },
    });
    expect(put.status).toBe(200);
    const response = await call(getEnvRoute, `/api/v1/apps/${app.id}/env`, { token, params: { appId: app.id } });
    const body = getEnvEndpoint.responses[200].schema.parse(await response.json());
    expect(body.env).toEqual({ MODE: "live", TOKEN: MASK });
    expect(body.variables.map(({ key, secret }) => ({ key, secret }))).toEqual([
      { key: "MODE", secret: false },
      { key: "TOKEN", secret: true },
    ]);
  });
});

describe("revealEnvVarAction", () => {
  it("gives a member the value and audits the key, never the value", async () => {
    const { user, team, app, fields, ownerCtx } = await appWith("member");
    await setEnvVars(getDb(), ownerCtx, app.id, { TOKEN: SECRET });
    session.user = user;
    const state = await revealEnvVarAction({ status: "idle" }, form({ ...fields, key: "TOKEN" }));
    expect(state).toEqual({ status: "success", data: { value: SECRET } });
    const audit = await getDb().auditEvent.findFirstOrThrow({ where: { teamId: team.id, action: "app.env_revealed" } });
    expect(audit.metadata).toEqual({ key: "TOKEN" });
    expect(JSON.stringify(audit)).not.toContain(SECRET);
  });

  it("refuses a viewer, with no audit row; answers not found for another team's app and a missing key", async () => {
    const { user, team, app, fields, ownerCtx } = await appWith("viewer");
    await setEnvVars(getDb(), ownerCtx, app.id, { TOKEN: SECRET });
    session.user = user;
    const refused = await revealEnvVarAction({ status: "idle" }, form({ ...fields, key: "TOKEN" }));
    expect(refused).toEqual({ status: "error", message: "Your role in this team does not allow this." });
    expect(await getDb().auditEvent.count({ where: { teamId: team.id, action: "app.env_revealed" } })).toBe(0);

    const other = await appWith("member");
    await setEnvVars(getDb(), other.ownerCtx, other.app.id, { TOKEN: SECRET });
    session.user = other.user;
    const crossed = await revealEnvVarAction(
      { status: "idle" },
      form({ ...other.fields, appId: app.id, key: "TOKEN" }),
    );
    expect(crossed).toEqual({ status: "error", message: "App not found." });
    const missing = await revealEnvVarAction({ status: "idle" }, form({ ...other.fields, key: "NOPE" }));
    expect(missing).toEqual({ status: "error", message: "This variable is not set." });
  });
});

describe("Save and Save and restart", () => {
  it("Save leaves a running app alone; Save and restart requests one restart through the lifecycle", async () => {
    const { user, app, fields } = await appWith("member", { running: true });
    session.user = user;
    const saved = await setEnvVarAction({ status: "idle" }, form({ ...fields, key: "A", value: "1", intent: "save" }));
    expect(saved).toEqual({
      status: "success",
      message: "A saved. Running processes keep the old values until the app restarts.",
    });
    expect(await restartsOf(app.id)).toBe(0);

    const restarted = await bulkSetEnvAction(
      { status: "idle" },
      form({ ...fields, lines: "B=2\nC=3", intent: "restart" }),
    );
    expect(restarted).toEqual({
      status: "success",
      message: "Saved 2 variables: B, C. The app restarts with them (Operations on the overview).",
    });
    expect(await restartsOf(app.id)).toBe(1);
    const jobs = (await pendingJobs("app__lifecycle")).filter(
      (job) => (job.payload as { appId?: string }).appId === app.id,
    );
    expect(jobs).toHaveLength(1);
    expect(await resolveEnvForRelease(getDb(), app.id)).toEqual({ A: "1", B: "2", C: "3" });
  });

  it("says a stopped app gets them when it starts, with nothing queued", async () => {
    const { user, app, fields } = await appWith("member");
    session.user = user;
    const state = await setEnvVarAction(
      { status: "idle" },
      form({ ...fields, key: "A", value: "1", intent: "restart" }),
    );
    expect(state).toEqual({
      status: "success",
      message: "A saved. The app is not running: they apply when it starts.",
    });
    expect(await restartsOf(app.id)).toBe(0);
  });
});

describe("the .env paste preview", () => {
  it("lists the keys, new or replacing, with lengths, storing nothing and echoing no value", async () => {
    const { user, app, fields, ownerCtx } = await appWith("member");
    await setEnvVars(getDb(), ownerCtx, app.id, { OLD: "x" });
    session.user = user;
    const state = await bulkSetEnvAction(
      { status: "idle" },
      form({ ...fields, lines: `export OLD="${SECRET}"\nNEW='a b'`, intent: "preview" }),
    );
    expect(state).toEqual({
      status: "success",
      message: "2 variables read. Nothing is saved yet.",
      data: [
        { key: "OLD", change: "replace", length: SECRET.length },
        { key: "NEW", change: "new", length: 3 },
      ],
    });
    expect(JSON.stringify(state)).not.toContain(SECRET);
    expect(await resolveEnvForRelease(getDb(), app.id)).toEqual({ OLD: "x" });
  });
});

describe("listInjectedEnv", () => {
  it("names PORT with its value, and the attached database's keys with their source but no values, in constant queries", async () => {
    const { ownerCtx, app, team } = await appWith("viewer");
    const alone = await countQueries(() => listInjectedEnv(getDb(), ownerCtx, app.id));
    expect(alone.result).toEqual([{ key: "PORT", value: "8000", source: { kind: "platform" } }]);

    const database = await getDb().tenantDatabase.create({
      data: { teamId: team.id, appId: app.id, name: "main-db", status: "ready", passwordEncrypted: "sealed" },
    });
    const attached = await countQueries(() => listInjectedEnv(getDb(), ownerCtx, app.id));
    expect(attached.result.map((row) => row.key)).toEqual([
      "PORT",
      "DATABASE_URL",
      "PGHOST",
      "PGPORT",
      "PGUSER",
      "PGPASSWORD",
      "PGDATABASE",
    ]);
    for (const row of attached.result.slice(1)) {
      expect(row).toEqual({
        key: row.key,
        value: null,
        source: { kind: "database", id: database.id, name: "main-db" },
      });
    }
    expect(attached.count).toBe(alone.count);
  });
});
