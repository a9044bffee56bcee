// App settings from the portal: each form sends its own fields and only real changes are written; viewers are
// refused with nothing changed; deleting needs the app's name typed exactly and a role that may delete.
import { randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import type { PublicUser } from "@/lib/domain/users";
import type { Role } from "@/lib/generated/prisma/enums";
import { form } from "@/test/actions";
import { addMember, createTestTeam, createTestUser, userCtx } from "@/test/factories";
import { pendingJobs } from "@/test/helpers";

const session = vi.hoisted(() => ({ user: null as PublicUser | null }));

vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => session.user,
  currentRequestMeta: async () => ({ requestId: randomUUID(), ip: "203.0.113.9", userAgent: "vitest" }),
}));
// refresh() needs a live Next request; there is no page to refresh in a test.
vi.mock("next/cache", () => ({ refresh: () => {}, revalidatePath: () => {} }));

const { deleteAppAction, updateAppAction } = await import(
  "@/app/(portal)/teams/[teamId]/apps/[appId]/settings/actions"
);

async function appWith(role: Role) {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const user = await createTestUser();
  await addMember(team.id, user.id, role);
  const app = await createApp(getDb(), await userCtx(owner.id, team.id), {
    name: "web",
    source: { url: "https://github.com/acme/web.git" },
  });
  return { team, user, app, fields: { teamId: team.id, appId: app.id } };
}

async function appRow(appId: string) {
  return await getDb().app.findUniqueOrThrow({ where: { id: appId } });
}

async function changedKeys(appId: string): Promise<unknown[]> {
  const events = await getDb().auditEvent.findMany({
    where: { action: "app.updated", targetId: appId },
    orderBy: { createdAt: "asc" },
  });
  return events.map((event) => (event.metadata as { changed?: unknown }).changed);
}

beforeEach(() => {
  session.user = null;
});

describe("updateAppAction", () => {
  it("refuses a viewer and changes nothing, even when nothing would change", async () => {
    const { user, app, fields } = await appWith("viewer");
    session.user = user;
    const refused = { status: "error", message: "Your role in this team does not allow this." };
    expect(await updateAppAction({ status: "idle" }, form({ ...fields, name: "taken-over" }))).toEqual(refused);
    expect(await updateAppAction({ status: "idle" }, form({ ...fields, name: "web" }))).toEqual(refused);
    expect((await appRow(app.id)).name).toBe("web");
    expect(await changedKeys(app.id)).toEqual([]);
  });

  it("renames for a member and tells the new address", async () => {
    const { user, app, fields } = await appWith("member");
    session.user = user;
    const state = await updateAppAction({ status: "idle" }, form({ ...fields, name: "shop" }));
    expect(state.status).toBe("success");
    expect(state.message).toMatch(/^Renamed to shop; its address is now http:\/\/shop-/);
    expect((await appRow(app.id)).name).toBe("shop");
  });

  it("writes only the settings that changed, and clears an override left empty", async () => {
    const { user, app, fields } = await appWith("member");
    session.user = user;
    await updateAppAction(
      { status: "idle" },
      form({
        ...fields,
        pythonVersion: "3.12",
        installCommand: "",
        webCommand: "gunicorn app:app",
        releaseCommand: "",
      }),
    );
    expect(await appRow(app.id)).toMatchObject({ pythonVersion: "3.12", webCommand: "gunicorn app:app" });

    const resources = await updateAppAction(
      { status: "idle" },
      form({ ...fields, memoryMb: "1024", cpus: "0.5", replicas: "2", healthCheckPath: "/" }),
    );
    expect(resources.status).toBe("success");
    expect(await appRow(app.id)).toMatchObject({ memoryMb: 1024, cpuMillis: 500, replicas: 2 });

    await updateAppAction({ status: "idle" }, form({ ...fields, pythonVersion: "", webCommand: "gunicorn app:app" }));
    expect(await appRow(app.id)).toMatchObject({ pythonVersion: null, webCommand: "gunicorn app:app" });

    const unchanged = await updateAppAction({ status: "idle" }, form({ ...fields, memoryMb: "1024", cpus: "0.5" }));
    expect(unchanged).toEqual({ status: "success", message: "Nothing changed." });
    expect(await changedKeys(app.id)).toEqual([
      ["pythonVersion", "webCommand"],
      ["memoryMb", "cpuMillis", "replicas"],
      ["pythonVersion"],
    ]);
  });

  it("turns Django setup off with an unchecked box and on again; a form without the box leaves it (#20)", async () => {
    const { user, app, fields } = await appWith("member");
    session.user = user;
    expect((await appRow(app.id)).djangoSetup).toBe(true);
    await updateAppAction({ status: "idle" }, form({ ...fields, djangoSetupShown: "1" }));
    expect((await appRow(app.id)).djangoSetup).toBe(false);
    await updateAppAction({ status: "idle" }, form({ ...fields, memoryMb: "1024" }));
    expect((await appRow(app.id)).djangoSetup).toBe(false);
    await updateAppAction({ status: "idle" }, form({ ...fields, djangoSetupShown: "1", djangoSetup: "on" }));
    expect((await appRow(app.id)).djangoSetup).toBe(true);
    expect(await changedKeys(app.id)).toEqual([["djangoSetup"], ["memoryMb"], ["djangoSetup"]]);
  });

  it("changes and removes the git source", async () => {
    const { user, app, fields } = await appWith("member");
    session.user = user;
    await updateAppAction(
      { status: "idle" },
      form({ ...fields, gitUrl: "https://github.com/acme/web.git", gitRef: "release", subdirectory: "web" }),
    );
    expect(await appRow(app.id)).toMatchObject({ gitRef: "release", subdirectory: "web" });

    await updateAppAction({ status: "idle" }, form({ ...fields, gitUrl: "", gitRef: "", subdirectory: "" }));
    expect(await appRow(app.id)).toMatchObject({ sourceType: null, gitUrl: null, subdirectory: null });
  });

  it("reports the domain's rules on the fields at fault", async () => {
    const { user, app, fields } = await appWith("member");
    session.user = user;
    const memory = await updateAppAction({ status: "idle" }, form({ ...fields, memoryMb: "64" }));
    expect(memory.fieldErrors).toHaveProperty(["settings.memoryMb"]);
    const cpu = await updateAppAction({ status: "idle" }, form({ ...fields, cpus: "a lot" }));
    expect(cpu.fieldErrors).toHaveProperty("cpus");
    const path = await updateAppAction({ status: "idle" }, form({ ...fields, healthCheckPath: "/../admin" }));
    expect(path.fieldErrors).toHaveProperty(["settings.healthCheckPath"]);
    const git = await updateAppAction({ status: "idle" }, form({ ...fields, gitUrl: "ext::sh -c id" }));
    expect(git.fieldErrors).toHaveProperty("source");
    const python = await updateAppAction({ status: "idle" }, form({ ...fields, pythonVersion: "2.7; rm" }));
    expect(python.fieldErrors).toHaveProperty(["settings.pythonVersion"]);
    expect(await appRow(app.id)).toMatchObject({ memoryMb: 512, cpuMillis: 1000, healthCheckPath: "/" });
    expect(await changedKeys(app.id)).toEqual([]);
  });

  // #18: "Too small: expected number to be >=128" was shown, twice (banner and field).
  it("words the domain's range errors for people, in CPUs for the CPU field", async () => {
    const { user, fields } = await appWith("member");
    session.user = user;
    const memory = await updateAppAction({ status: "idle" }, form({ ...fields, memoryMb: "64" }));
    expect(memory.fieldErrors).toEqual({ "settings.memoryMb": "Use a number of at least 128." });
    const cpu = await updateAppAction({ status: "idle" }, form({ ...fields, cpus: "9" }));
    expect(cpu.fieldErrors).toEqual({ "settings.cpuMillis": "Use at most 8 CPUs." });
  });
});

describe("deleteAppAction", () => {
  it("refuses a viewer even with the right name", async () => {
    const { user, app, fields } = await appWith("viewer");
    session.user = user;
    const state = await deleteAppAction({ status: "idle" }, form({ ...fields, confirmName: "web" }));
    expect(state).toEqual({ status: "error", message: "Your role in this team does not allow this." });
    expect((await appRow(app.id)).status).toBe("created");
  });

  it("needs the name typed exactly", async () => {
    const { user, app, fields } = await appWith("member");
    session.user = user;
    const state = await deleteAppAction({ status: "idle" }, form({ ...fields, confirmName: "Web " }));
    expect(state.fieldErrors).toEqual({ confirmName: "Type “web” exactly to confirm." });
    expect((await appRow(app.id)).status).toBe("created");
  });

  it("marks the app for deletion for a member, queues the job and goes back to the apps", async () => {
    const { team, user, app, fields } = await appWith("member");
    session.user = user;
    const error: unknown = await deleteAppAction({ status: "idle" }, form({ ...fields, confirmName: "web" })).then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect((error as { digest?: string }).digest).toContain(`;/teams/${team.id}/apps;`);
    expect((await appRow(app.id)).status).toBe("deleting");
    const jobs = await pendingJobs("app__delete");
    expect(jobs.some((job) => (job.payload as { appId?: string }).appId === app.id)).toBe(true);
  });
});
