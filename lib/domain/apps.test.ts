// Apps in the domain layer, which both the API and the portal's server actions call: role checks with no side
// effect, team scoping, idempotent deletion, and hostile input refused here too (docs/security.md: every layer).
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { createApp, deleteApp, getApp, listApps, updateApp } from "@/lib/domain/apps";
import type { Ctx } from "@/lib/domain/context";
import type { TeamView } from "@/lib/domain/teams";
import { AppError } from "@/lib/errors";
import type { Role } from "@/lib/generated/prisma/enums";
import { expectAppError, rejectionOf } from "@/test/errors";
import { addMember, createTestTeam, createTestUser, userCtx } from "@/test/factories";
import { pendingJobs } from "@/test/helpers";

function uniqueName(prefix = "app"): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

async function ctxWithRole(teamId: string, role: Role): Promise<Ctx> {
  const user = await createTestUser();
  await addMember(teamId, user.id, role);
  return await userCtx(user.id, teamId);
}

async function deleteJobsFor(appId: string): Promise<unknown[]> {
  return (await pendingJobs("app__delete")).filter((job) => (job.payload as { appId?: string }).appId === appId);
}

describe("apps domain", () => {
  let team: TeamView;
  let owner: Ctx;

  beforeAll(async () => {
    const user = await createTestUser();
    team = await createTestTeam(user.id);
    owner = await userCtx(user.id, team.id);
  });

  describe("roles", () => {
    it("refuses a viewer createApp: forbidden, no row, no audit", async () => {
      const viewer = await ctxWithRole(team.id, "viewer");
      const name = uniqueName("viewer");
      await expectAppError(createApp(getDb(), viewer, { name }), "forbidden");
      expect(await getDb().app.count({ where: { name } })).toBe(0);
      expect(await getDb().auditEvent.count({ where: { teamId: team.id, requestId: viewer.meta.requestId } })).toBe(0);
    });

    it("refuses a viewer updateApp: forbidden, nothing changed", async () => {
      const app = await createApp(getDb(), owner, { name: uniqueName() });
      const before = await getDb().app.findUniqueOrThrow({ where: { id: app.id } });
      const viewer = await ctxWithRole(team.id, "viewer");
      await expectAppError(
        updateApp(getDb(), viewer, app.id, { name: uniqueName("renamed"), settings: { memoryMb: 4096 } }),
        "forbidden",
      );
      expect(await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).toEqual(before);
    });

    it("refuses a viewer deleteApp: forbidden, status unchanged, no operation, no job", async () => {
      const app = await createApp(getDb(), owner, { name: uniqueName() });
      const viewer = await ctxWithRole(team.id, "viewer");
      await expectAppError(deleteApp(getDb(), viewer, app.id), "forbidden");
      expect((await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).status).toBe("created");
      expect(await getDb().operation.count({ where: { targetId: app.id } })).toBe(0);
      expect(await deleteJobsFor(app.id)).toEqual([]);
    });

    it("lets a viewer read apps", async () => {
      const app = await createApp(getDb(), owner, { name: uniqueName() });
      const viewer = await ctxWithRole(team.id, "viewer");
      expect((await getApp(getDb(), viewer, app.id)).name).toBe(app.name);
      expect((await listApps(getDb(), viewer, { limit: 200 })).items.map((item) => item.id)).toContain(app.id);
    });

    it("lets a member create, update and delete an app, audited under the member's name", async () => {
      const member = await ctxWithRole(team.id, "member");
      const created = await createApp(getDb(), member, { name: uniqueName("member") });
      expect(created.status).toBe("created");
      const renamed = uniqueName("member-renamed");
      const updated = await updateApp(getDb(), member, created.id, { name: renamed, settings: { replicas: 3 } });
      expect(updated).toMatchObject({ name: renamed, replicas: 3 });
      const { app, operation } = await deleteApp(getDb(), member, created.id);
      expect(app.status).toBe("deleting");
      expect(operation).toMatchObject({ kind: "app.delete", status: "queued", targetId: created.id });
      expect(await deleteJobsFor(created.id)).toHaveLength(1);

      const audit = await getDb().auditEvent.findMany({ where: { teamId: team.id, targetId: created.id } });
      // Sorted by action, not time: consecutive calls can share a millisecond.
      expect(audit.map((row) => row.action).sort()).toEqual(["app.created", "app.deletion_requested", "app.updated"]);
      expect(new Set(audit.map((row) => row.actorLabel))).toEqual(new Set([member.actor.label]));
      expect(audit.find((row) => row.action === "app.updated")?.metadata).toEqual({ changed: ["replicas", "name"] });
    });
  });

  describe("team scoping", () => {
    it("answers not_found for another team's app on every function and changes nothing", async () => {
      const app = await createApp(getDb(), owner, { name: uniqueName() });
      const before = await getDb().app.findUniqueOrThrow({ where: { id: app.id } });
      const stranger = await createTestUser();
      const otherTeam = await createTestTeam(stranger.id);
      const intruder = await userCtx(stranger.id, otherTeam.id);
      await expectAppError(getApp(getDb(), intruder, app.id), "not_found");
      await expectAppError(updateApp(getDb(), intruder, app.id, { settings: { memoryMb: 4096 } }), "not_found");
      await expectAppError(deleteApp(getDb(), intruder, app.id), "not_found");
      expect(await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).toEqual(before);
      expect((await listApps(getDb(), intruder, { limit: 200 })).items).toEqual([]);
    });
  });

  describe("changes", () => {
    async function changedLists(appId: string): Promise<unknown[]> {
      const events = await getDb().auditEvent.findMany({
        where: { action: "app.updated", targetId: appId },
        orderBy: { createdAt: "asc" },
      });
      return events.map((event) => (event.metadata as { changed?: unknown }).changed);
    }

    it("writes only what differs from the app as it is, and nothing at all when nothing differs", async () => {
      const app = await createApp(getDb(), owner, {
        name: uniqueName(),
        source: { url: "https://github.com/a/b.git" },
      });
      const same = { url: "https://github.com/a/b.git", ref: "main" };
      await updateApp(getDb(), owner, app.id, {
        name: app.name,
        source: same,
        settings: { memoryMb: 512, replicas: 2 },
      });
      expect(await changedLists(app.id)).toEqual([["replicas"]]);
      const before = await getDb().app.findUniqueOrThrow({ where: { id: app.id } });
      const unchanged = await updateApp(getDb(), owner, app.id, { source: same, settings: { replicas: 2 } });
      expect(unchanged.replicas).toBe(2);
      expect(await changedLists(app.id)).toEqual([["replicas"]]);
      expect((await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).updatedAt).toEqual(before.updatedAt);
    });

    it("reads `source: null` as no git source: an app deployed from uploads keeps its upload source", async () => {
      const app = await createApp(getDb(), owner, { name: uniqueName() });
      await getDb().app.update({ where: { id: app.id }, data: { sourceType: "upload" } });
      const updated = await updateApp(getDb(), owner, app.id, { source: null });
      expect(updated.source).toEqual({ type: "upload" });
      expect(await changedLists(app.id)).toEqual([]);

      const git = await createApp(getDb(), owner, {
        name: uniqueName(),
        source: { url: "https://github.com/a/b.git" },
      });
      expect((await updateApp(getDb(), owner, git.id, { source: null })).source).toBeNull();
      expect(await changedLists(git.id)).toEqual([["source"]]);
    });
  });

  describe("deletion", () => {
    it("is idempotent while the operation is pending, and starts a new one after a failed attempt", async () => {
      const app = await createApp(getDb(), owner, { name: uniqueName() });
      const first = await deleteApp(getDb(), owner, app.id);
      const second = await deleteApp(getDb(), owner, app.id);
      expect(second.operation.id).toBe(first.operation.id);
      expect(await deleteJobsFor(app.id)).toHaveLength(1);

      // A failed deletion must be retryable by asking again.
      await getDb().operation.update({ where: { id: first.operation.id }, data: { status: "failed" } });
      const third = await deleteApp(getDb(), owner, app.id);
      expect(third.operation.id).not.toBe(first.operation.id);
      expect(third.operation.status).toBe("queued");
    });

    it("needs the typed confirmation to match the name exactly when one is given", async () => {
      const app = await createApp(getDb(), owner, { name: uniqueName() });
      const refused = await expectAppError(
        deleteApp(getDb(), owner, app.id, { confirmName: ` ${app.name}` }),
        "invalid",
      );
      expect(refused.details).toEqual([{ path: "confirmName", message: `Type “${app.name}” exactly to confirm.` }]);
      expect((await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).status).toBe("created");
      expect(await deleteJobsFor(app.id)).toHaveLength(0);
      const { app: deleted } = await deleteApp(getDb(), owner, app.id, { confirmName: app.name });
      expect(deleted.status).toBe("deleting");
    });

    it("refuses updates once the app is being deleted", async () => {
      const app = await createApp(getDb(), owner, { name: uniqueName() });
      await deleteApp(getDb(), owner, app.id);
      await expectAppError(updateApp(getDb(), owner, app.id, { settings: { memoryMb: 1024 } }), "conflict");
    });
  });

  describe("hostile input reaching the domain directly", () => {
    // The portal's server actions call these functions too; a ZodError escaping here becomes a 500 ("Something went
    // wrong on our side") instead of the clear 4xx docs/security.md asks of every layer.
    const hostileNames = ["../x", "a;id", "$(id)", "-rf", "--privileged", "my app", "\u0430pp", "www", "a".repeat(40)];

    it.each(hostileNames)("createApp refuses the name %j with no row", async (name) => {
      const before = await getDb().app.count({ where: { teamId: team.id } });
      expect(await rejectionOf(createApp(getDb(), owner, { name }))).toBeInstanceOf(Error);
      expect(await getDb().app.count({ where: { teamId: team.id } })).toBe(before);
    });

    it("reports a hostile name as an AppError invalid with details, in createApp and updateApp", async () => {
      const app = await createApp(getDb(), owner, { name: uniqueName() });
      const outcomes = [];
      for (const name of hostileNames) {
        outcomes.push(await rejectionOf(createApp(getDb(), owner, { name })));
        outcomes.push(await rejectionOf(updateApp(getDb(), owner, app.id, { name })));
      }
      expect((await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).name).toBe(app.name);
      for (const error of outcomes) {
        expect(error).toBeInstanceOf(AppError);
        expect(error).toMatchObject({
          code: "invalid",
          details: expect.arrayContaining([expect.objectContaining({ path: "name" })]),
        });
      }
    });

    it("refuses hostile settings in createApp and updateApp, not only in the API's body schema", async () => {
      // The health check path reaches Caddy, where `{...}` is a placeholder; the subdirectory reaches the build.
      const name = uniqueName("settings");
      await expectAppError(
        createApp(getDb(), owner, { name, settings: { healthCheckPath: "/{env.TUSSILAGO_SECRET_KEY}" } }),
        "invalid",
      );
      expect(await getDb().app.count({ where: { name } })).toBe(0);
      const app = await createApp(getDb(), owner, { name: uniqueName() });
      await expectAppError(updateApp(getDb(), owner, app.id, { settings: { subdirectory: "../../etc" } }), "invalid");
      expect((await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).subdirectory).toBeNull();
    });

    it("refuses a hostile git source with an AppError invalid and no row", async () => {
      const name = uniqueName("git");
      await expectAppError(createApp(getDb(), owner, { name, source: { url: "ext::sh -c id" } }), "invalid");
      await expectAppError(
        createApp(getDb(), owner, {
          name,
          source: { url: "https://github.com/acme/shop.git", ref: "--upload-pack=id" },
        }),
        "invalid",
      );
      expect(await getDb().app.count({ where: { name } })).toBe(0);
    });
  });
});
