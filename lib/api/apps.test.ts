// The apps endpoints through their route handlers: create, list, show, change, delete; hostile names, team scoping,
// token scopes, unknown fields, and the SQL statement count of the list — against this file's own database.
import { randomBytes, randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import {
  POST as createDeploymentRoute,
  GET as listDeploymentsRoute,
} from "@/app/api/v1/apps/[appId]/deployments/route";
import { GET as getEnvRoute, PUT as putEnvRoute } from "@/app/api/v1/apps/[appId]/env/route";
import { DELETE as deleteAppRoute, GET as getAppRoute, PATCH as patchAppRoute } from "@/app/api/v1/apps/[appId]/route";
import { POST as createAppRoute, GET as listAppsRoute } from "@/app/api/v1/apps/route";
import { GET as getOperationRoute } from "@/app/api/v1/operations/[id]/route";
import { createAppEndpoint, deleteAppEndpoint, listAppsEndpoint } from "@/lib/api/endpoints/apps";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import type { TeamView } from "@/lib/domain/teams";
import { apiCaller, BASE, errorOf } from "@/test/api";
import { createTestTeam, createTestToken, createTestUser } from "@/test/factories";
import { pendingJobs } from "@/test/helpers";

type AppJson = {
  id: string;
  name: string;
  status: string;
  url: string | null;
  replicas: number;
  processes?: Record<string, unknown>;
  currentDeploymentId: string | null;
  source: { type: string; url?: string; ref?: string } | null;
  settings: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
};

const REPO = "https://github.com/acme/shop.git";

const call = apiCaller({ headers: { "user-agent": "apps-test/1.0" } });

async function appOf(response: Response): Promise<AppJson> {
  return ((await response.json()) as { app: AppJson }).app;
}

function uniqueName(prefix = "app"): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** A team with its own write and read tokens, so each test starts from rows it made itself. */
async function freshTeam(): Promise<{ team: TeamView; write: string; read: string }> {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  return {
    team,
    write: await createTestToken(team.id, ["write"]),
    read: await createTestToken(team.id, ["read"]),
  };
}

async function createThroughApi(token: string, body: Record<string, unknown>): Promise<AppJson> {
  const response = await call(createAppRoute, "/api/v1/apps", { method: "POST", token, body });
  expect(response.status).toBe(201);
  return await appOf(response);
}

async function seedApps(teamId: string, count: number, createdAt?: Date): Promise<void> {
  await getDb().app.createMany({
    data: Array.from({ length: count }, () => ({
      teamId,
      name: uniqueName("seed"),
      ...(createdAt ? { createdAt } : {}),
    })),
  });
}

/** Replicas of several process types: web and worker serving, a crashed worker with its last exit. */
async function seedProcessReplicas(appId: string): Promise<void> {
  const deploymentId = randomUUID();
  const hex = appId.replaceAll("-", "");
  await getDb().replica.createMany({
    data: [
      { appId, deploymentId, process: "web", index: 0, containerName: `tsl-${hex}-1-0`, status: "healthy" },
      { appId, deploymentId, process: "worker", index: 0, containerName: `tsl-${hex}-1-w-0`, status: "healthy" },
      {
        appId,
        deploymentId,
        process: "worker",
        index: 1,
        containerName: `tsl-${hex}-1-w-1`,
        status: "crashed",
        restartCount: 5,
        lastExitCode: 137,
        lastExitAt: new Date("2026-01-02T03:04:05Z"),
        lastExitLog: "Traceback\nKilled",
      },
    ],
  });
}

/** Follows nextCursor to the end; the page count is bounded so a cursor that never ends fails instead of hanging. */
async function collectApps(token: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: string = cursor ? `?limit=${limit}&cursor=${encodeURIComponent(cursor)}` : `?limit=${limit}`;
    const response = await call(listAppsRoute, `/api/v1/apps${query}`, { token });
    expect(response.status).toBe(200);
    const body = listAppsEndpoint.responses[200].schema.parse(await response.json());
    ids.push(...body.items.map((item) => item.id));
    cursor = body.nextCursor;
    pages += 1;
  } while (cursor && pages < 50);
  return { ids, pages };
}

// docs/security.md "Hostile inputs" for app names, plus look-alikes and the DNS-label rules of app-rules.ts.
const HOSTILE_NAMES: [string, string][] = [
  ["path traversal", "../x"],
  ["shell separator", "a;id"],
  ["command substitution", "$(id)"],
  ["backticks", "`id`"],
  ["an option", "-rf"],
  ["a long option", "--privileged"],
  ["a space", "my app"],
  ["a newline", "app\nx"],
  ["a NUL", "app\u0000x"],
  ["a bell", "app\u0007"],
  ["a tab", "a\tb"],
  ["a zero-width space", "shop\u200b"],
  ["upper case with a ring", "ÅPP"],
  ["a Cyrillic а", "\u0430pp"],
  ["a full-width letter", "\uff53hop"],
  ["upper case", "Shop"],
  ["a trailing hyphen", "app-"],
  ["a leading hyphen", "-app"],
  ["consecutive hyphens", "a--b"],
  ["a dot", "a.b"],
  ["an underscore", "a_b"],
  ["a leading digit", "1app"],
  ["a Caddy placeholder", "{http.host}"],
  ["40 characters", "a".repeat(40)],
  ["64 characters", "a".repeat(64)],
  ["the empty string", ""],
  ["reserved www", "www"],
  ["reserved api", "api"],
  ["reserved admin", "admin"],
  ["reserved localhost", "localhost"],
];

describe("apps API", () => {
  let team: TeamView;
  let write: string;
  let read: string;

  beforeAll(async () => {
    ({ team, write, read } = await freshTeam());
  });

  describe("POST /api/v1/apps", () => {
    it("creates an app: 201, the documented shape, the URL Caddy serves it at, and an audit row", async () => {
      const name = uniqueName("shop");
      const response = await call(createAppRoute, "/api/v1/apps", { method: "POST", token: write, body: { name } });
      expect(response.status).toBe(201);
      const body = createAppEndpoint.responses[201].schema.parse(await response.json());
      expect(body.app).toEqual({
        id: expect.any(String),
        name,
        status: "created",
        url: `http://${name}-${team.slug}.localhost`,
        replicas: 1,
        currentDeploymentId: null,
        source: null,
        settings: {
          subdirectory: null,
          pythonVersion: null,
          installCommand: null,
          webCommand: null,
          releaseCommand: null,
          djangoSetup: true,
          memoryMb: 512,
          cpuMillis: 1000,
          healthCheckPath: "/",
          processes: null,
        },
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      const row = await getDb().app.findUniqueOrThrow({ where: { id: body.app.id } });
      expect(row.teamId).toBe(team.id);
      const audit = await getDb().auditEvent.findFirst({ where: { teamId: team.id, targetId: body.app.id } });
      expect(audit).toMatchObject({ action: "app.created", actorType: "token", metadata: { name } });
    });

    it("stores a git source and settings given at creation", async () => {
      const app = await createThroughApi(write, {
        name: uniqueName(),
        source: { type: "git", url: REPO, ref: "v1.2" },
        settings: { memoryMb: 1024, webCommand: "gunicorn app:app", healthCheckPath: "/healthz", replicas: 2 },
      });
      expect(app.source).toEqual({ type: "git", url: REPO, ref: "v1.2", autoDeploy: false });
      expect(app.settings).toMatchObject({
        memoryMb: 1024,
        webCommand: "gunicorn app:app",
        healthCheckPath: "/healthz",
      });
      expect(app.replicas).toBe(2);
    });

    it.each(HOSTILE_NAMES)("refuses a name with %s: 422 with details and no row", async (_label, name) => {
      // Counted, not looked up by name: PostgreSQL cannot even compare a text with a NUL in it.
      const before = await getDb().app.count();
      const response = await call(createAppRoute, "/api/v1/apps", { method: "POST", token: write, body: { name } });
      expect(response.status).toBe(422);
      const error = await errorOf(response);
      expect(error.code).toBe("invalid");
      expect(error.details?.some((detail) => detail.path === "name")).toBe(true);
      expect(await getDb().app.count()).toBe(before);
    });

    it("accepts the longest allowed name (39 characters), which keeps the hostname label within 63", async () => {
      const name = `a${"b".repeat(30)}${randomBytes(4).toString("hex")}`;
      expect(name).toHaveLength(39);
      const app = await createThroughApi(write, { name });
      expect(new URL(app.url ?? "").hostname.split(".")[0]?.length).toBeLessThanOrEqual(63);
    });

    it("refuses a duplicate name in the same team with 409, and allows the same name in another team", async () => {
      const name = uniqueName("dup");
      await createThroughApi(write, { name });
      const duplicate = await call(createAppRoute, "/api/v1/apps", { method: "POST", token: write, body: { name } });
      expect(duplicate.status).toBe(409);
      expect((await errorOf(duplicate)).code).toBe("conflict");
      expect(await getDb().app.count({ where: { teamId: team.id, name } })).toBe(1);

      const other = await freshTeam();
      const elsewhere = await createThroughApi(other.write, { name });
      expect(elsewhere.url).toBe(`http://${name}-${other.team.slug}.localhost`);
    });

    it("answers two concurrent creates of one name with one 201 and one 409", async () => {
      const name = uniqueName("same");
      const responses = await Promise.all(
        [0, 1].map(() => call(createAppRoute, "/api/v1/apps", { method: "POST", token: write, body: { name } })),
      );
      expect(responses.map((response) => response.status).sort()).toEqual([201, 409]);
      expect(await getDb().app.count({ where: { teamId: team.id, name } })).toBe(1);
    });

    it.each([
      ["teamId", { teamId: randomUUID() }],
      ["status", { status: "running" }],
      ["currentDeploymentId", { currentDeploymentId: randomUUID() }],
      ["settings.status", { settings: { status: "running" } }],
    ])("refuses the unknown field %s with 422 and no row", async (_field, extra) => {
      const name = uniqueName("smuggle");
      const response = await call(createAppRoute, "/api/v1/apps", {
        method: "POST",
        token: write,
        body: { name, ...extra },
      });
      expect(response.status).toBe(422);
      expect((await errorOf(response)).code).toBe("invalid");
      expect(await getDb().app.count({ where: { name } })).toBe(0);
    });

    it.each([
      ["plain http", "http://github.com/acme/shop.git"],
      ["a file URL", "file:///etc"],
      ["a transport helper", "ext::sh -c id"],
      ["an option", "--upload-pack=id"],
      ["loopback", "https://127.0.0.1/x.git"],
      ["credentials", "https://user:pass@github.com/x"],
    ])("refuses a git source with %s: 422 and no row", async (_label, url) => {
      const name = uniqueName("src");
      const response = await call(createAppRoute, "/api/v1/apps", {
        method: "POST",
        token: write,
        body: { name, source: { type: "git", url } },
      });
      expect(response.status).toBe(422);
      expect(await getDb().app.count({ where: { name } })).toBe(0);
    });

    it("answers malformed JSON with 400", async () => {
      const request = new Request(`${BASE}/api/v1/apps`, {
        method: "POST",
        headers: { authorization: `Bearer ${write}`, "content-type": "application/json" },
        body: "{not json",
      });
      const response = await createAppRoute(request, { params: Promise.resolve({}) });
      expect(response.status).toBe(400);
    });
  });

  describe("GET /api/v1/apps", () => {
    it("pages through every app exactly once, newest first, even when they share a creation time", async () => {
      const fresh = await freshTeam();
      // One timestamp for all: the keyset must fall back to the id, or pages would repeat or skip rows.
      await seedApps(fresh.team.id, 7, new Date("2026-01-01T00:00:00.000Z"));
      const newest = await createThroughApi(fresh.write, { name: uniqueName("newest") });
      const all = await collectApps(fresh.read, 3);
      expect(all.pages).toBe(3);
      expect(all.ids).toHaveLength(8);
      expect(new Set(all.ids).size).toBe(8);
      expect(all.ids[0]).toBe(newest.id);
      const rows = await getDb().app.findMany({ where: { teamId: fresh.team.id }, select: { id: true } });
      expect(new Set(all.ids)).toEqual(new Set(rows.map((row) => row.id)));
    });

    it("lists only the token's team's apps", async () => {
      const other = await freshTeam();
      const theirs = await createThroughApi(other.write, { name: uniqueName("theirs") });
      const ours = await collectApps(read, 200);
      expect(ours.ids).not.toContain(theirs.id);
      const teams = await getDb().app.findMany({ where: { id: { in: ours.ids } }, select: { teamId: true } });
      expect(new Set(teams.map((row) => row.teamId))).toEqual(new Set([team.id]));
    });

    it("issues the same number of SQL statements for 2 apps as for 25", async () => {
      const fresh = await freshTeam();
      // The first authenticated request writes lastUsedAt; warm the token so both measurements are alike.
      expect((await call(listAppsRoute, "/api/v1/apps", { token: fresh.read })).status).toBe(200);
      const measure = async () => {
        const { result, count, statements } = await countQueries(() =>
          call(listAppsRoute, "/api/v1/apps", { token: fresh.read }),
        );
        const body = (await result.json()) as { items: unknown[] };
        return { count, items: body.items.length, statements };
      };
      await seedApps(fresh.team.id, 2);
      const seeded = async () => {
        const rows = await getDb().app.findMany({ where: { teamId: fresh.team.id }, select: { id: true } });
        for (const row of rows) {
          if ((await getDb().replica.count({ where: { appId: row.id } })) === 0) await seedProcessReplicas(row.id);
        }
      };
      await seeded();
      const small = await measure();
      expect(small.items).toBe(2);
      await seedApps(fresh.team.id, 23);
      await seeded();
      const large = await measure();
      expect(large.items).toBe(25);
      expect(large.count, large.statements.join("\n")).toBe(small.count);
      expect(small.count).toBeGreaterThan(0);
    });

    it.each(["0", "201", "abc"])("refuses limit=%s with 422", async (limit) => {
      const response = await call(listAppsRoute, `/api/v1/apps?limit=${limit}`, { token: read });
      expect(response.status).toBe(422);
    });

    it("refuses a forged cursor with 422", async () => {
      const response = await call(listAppsRoute, "/api/v1/apps?cursor=bm90LWEtY3Vyc29y", { token: read });
      expect(response.status).toBe(422);
    });
  });

  describe("GET /api/v1/apps/{appId}", () => {
    it("answers the app under its name, with a read token", async () => {
      const created = await createThroughApi(write, { name: uniqueName() });
      const response = await call(getAppRoute, `/api/v1/apps/${created.id}`, {
        token: read,
        params: { appId: created.id },
      });
      expect(response.status).toBe(200);
      // Before its first release an app is a web app: one web container wanted, none running.
      expect(await appOf(response)).toEqual({
        ...created,
        processes: { web: { desired: 1, running: 0, crashed: 0, lastCrash: null } },
      });
    });

    it("answers per process type desired, running and crashed counts and the last crash (#15)", async () => {
      const created = await createThroughApi(write, { name: uniqueName() });
      const db = getDb();
      await db.app.update({
        where: { id: created.id },
        data: { status: "running", processTypes: ["web", "worker", "bot"], replicas: 2, processes: { worker: 3 } },
      });
      await seedProcessReplicas(created.id);
      const response = await call(getAppRoute, `/api/v1/apps/${created.id}`, {
        token: read,
        params: { appId: created.id },
      });
      const app = await appOf(response);
      expect(app.url).toBe(created.url);
      expect(app.processes).toEqual({
        web: { desired: 2, running: 1, crashed: 0, lastCrash: null },
        worker: {
          desired: 3,
          running: 1,
          crashed: 1,
          lastCrash: { exitCode: 137, at: "2026-01-02T03:04:05.000Z", logTail: "Traceback\nKilled" },
        },
        bot: { desired: 1, running: 0, crashed: 0, lastCrash: null },
      });
    });

    it("answers url null for a worker-only app (#15)", async () => {
      const created = await createThroughApi(write, { name: uniqueName() });
      await getDb().app.update({ where: { id: created.id }, data: { status: "running", processTypes: ["worker"] } });
      const response = await call(getAppRoute, `/api/v1/apps/${created.id}`, {
        token: read,
        params: { appId: created.id },
      });
      const app = await appOf(response);
      expect(app.url).toBeNull();
      expect(Object.keys(app.processes ?? {})).toEqual(["worker"]);
    });

    it.each([randomUUID(), "not-a-uuid", "../../etc/passwd"])("answers an unknown id (%s) with 404", async (appId) => {
      const response = await call(getAppRoute, `/api/v1/apps/${encodeURIComponent(appId)}`, {
        token: read,
        params: { appId },
      });
      expect(response.status).toBe(404);
      expect((await errorOf(response)).code).toBe("not_found");
    });
  });

  describe("PATCH /api/v1/apps/{appId}", () => {
    const patch = (appId: string, body: unknown, token = write) =>
      call(patchAppRoute, `/api/v1/apps/${appId}`, { method: "PATCH", token, body, params: { appId } });

    it("turns Django setup off and on with settings.djangoSetup, refusing a non-boolean (#20)", async () => {
      const created = await createThroughApi(write, { name: uniqueName() });
      const off = await patch(created.id, { settings: { djangoSetup: false } });
      expect(off.status).toBe(200);
      expect((await appOf(off)).settings.djangoSetup).toBe(false);
      expect((await patch(created.id, { settings: { djangoSetup: "no" } })).status).toBe(422);
      const on = await patch(created.id, { settings: { djangoSetup: true } });
      expect((await appOf(on)).settings.djangoSetup).toBe(true);
    });

    it("sets process types in settings, refuses bad names and too many, and clears them with null (#15)", async () => {
      const created = await createThroughApi(write, { name: uniqueName() });
      const processes = { worker: "celery -A proj worker", "slack-bot": "python bot.py" };
      const response = await patch(created.id, { settings: { processes } });
      expect(response.status).toBe(200);
      expect((await appOf(response)).settings.processes).toEqual(processes);
      const audit = await getDb().auditEvent.findFirst({
        where: { targetId: created.id, action: "app.updated" },
        orderBy: { createdAt: "desc" },
      });
      expect(audit?.metadata).toEqual({ changed: ["processes"] });
      const tooMany = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`p${i}`, "python x.py"]));
      for (const bad of [
        { web: "gunicorn x" },
        { release: "migrate" },
        { Worker: "x" },
        { "-rf": "x" },
        { "a--b": "x" },
        { w_1: "x" },
        { ["x".repeat(31)]: "x" },
        { worker: "" },
        { worker: "a\nb" },
        tooMany,
      ]) {
        const refused = await patch(created.id, { settings: { processes: bad } });
        expect(refused.status, JSON.stringify(bad)).toBe(422);
      }
      const cleared = await patch(created.id, { settings: { processes: null } });
      expect((await appOf(cleared)).settings.processes).toBeNull();
    });

    it("renames the app, which moves its URL, and audits what changed", async () => {
      const created = await createThroughApi(write, { name: uniqueName("before") });
      const name = uniqueName("after");
      const response = await patch(created.id, { name });
      expect(response.status).toBe(200);
      const app = await appOf(response);
      expect(app.name).toBe(name);
      expect(app.url).toBe(`http://${name}-${team.slug}.localhost`);
      const audit = await getDb().auditEvent.findFirst({
        where: { teamId: team.id, targetId: created.id, action: "app.updated" },
      });
      expect(audit?.metadata).toEqual({ changed: ["name"] });
    });

    it("changes settings and leaves the others alone", async () => {
      const created = await createThroughApi(write, { name: uniqueName(), settings: { cpuMillis: 500 } });
      const response = await patch(created.id, {
        settings: { memoryMb: 2048, webCommand: "uvicorn main:app", healthCheckPath: "/up", subdirectory: "web" },
      });
      expect(response.status).toBe(200);
      const app = await appOf(response);
      expect(app.settings).toMatchObject({
        memoryMb: 2048,
        cpuMillis: 500,
        webCommand: "uvicorn main:app",
        healthCheckPath: "/up",
        subdirectory: "web",
      });
      expect(app.name).toBe(created.name);
    });

    it("sets and clears the git source", async () => {
      const created = await createThroughApi(write, { name: uniqueName() });
      const set = await patch(created.id, { source: { type: "git", url: REPO, ref: "release/1" } });
      expect(set.status).toBe(200);
      expect((await appOf(set)).source).toEqual({ type: "git", url: REPO, ref: "release/1", autoDeploy: false });
      const cleared = await patch(created.id, { source: null });
      expect(cleared.status).toBe(200);
      expect((await appOf(cleared)).source).toBeNull();
    });

    it.each(HOSTILE_NAMES)("refuses a rename to a name with %s and keeps the old name", async (_label, name) => {
      const created = await createThroughApi(write, { name: uniqueName("keep") });
      const response = await patch(created.id, { name });
      expect(response.status).toBe(422);
      expect((await errorOf(response)).details?.some((detail) => detail.path === "name")).toBe(true);
      expect((await getDb().app.findUniqueOrThrow({ where: { id: created.id } })).name).toBe(created.name);
    });

    it.each([
      ["memory below the minimum", { memoryMb: 1 }],
      ["a fractional replica count", { replicas: 1.5 }],
      ["a health check path with a placeholder", { healthCheckPath: "/{http.request.host}" }],
      ["a health check path with '..'", { healthCheckPath: "/a/../b" }],
      ["a subdirectory outside the source", { subdirectory: "../other" }],
      ["an absolute subdirectory", { subdirectory: "/etc" }],
      ["a multi-line command", { webCommand: "gunicorn app:app\nrm -rf /" }],
      ["a bad Python version", { pythonVersion: "2.7; id" }],
    ])("refuses settings with %s and changes nothing", async (_label, settings) => {
      const created = await createThroughApi(write, { name: uniqueName() });
      const before = await getDb().app.findUniqueOrThrow({ where: { id: created.id } });
      const response = await patch(created.id, { settings });
      expect(response.status).toBe(422);
      expect(await getDb().app.findUniqueOrThrow({ where: { id: created.id } })).toEqual(before);
    });

    it("refuses a hostile git source and keeps the old one", async () => {
      const created = await createThroughApi(write, { name: uniqueName(), source: { type: "git", url: REPO } });
      const response = await patch(created.id, { source: { type: "git", url: "https://169.254.169.254/latest" } });
      expect(response.status).toBe(422);
      expect((await getDb().app.findUniqueOrThrow({ where: { id: created.id } })).gitUrl).toBe(REPO);
    });

    it("refuses a rename to a name taken in the team with 409", async () => {
      const taken = await createThroughApi(write, { name: uniqueName("taken") });
      const created = await createThroughApi(write, { name: uniqueName("mine") });
      const response = await patch(created.id, { name: taken.name });
      expect(response.status).toBe(409);
      expect((await getDb().app.findUniqueOrThrow({ where: { id: created.id } })).name).toBe(created.name);
    });

    it.each([
      ["teamId", { teamId: randomUUID() }],
      ["status", { status: "running" }],
      ["currentDeploymentId", { currentDeploymentId: randomUUID() }],
    ])("refuses the unknown field %s with 422 and changes nothing", async (_field, body) => {
      const created = await createThroughApi(write, { name: uniqueName() });
      const before = await getDb().app.findUniqueOrThrow({ where: { id: created.id } });
      const response = await patch(created.id, { name: uniqueName("renamed"), ...body });
      expect(response.status).toBe(422);
      expect(await getDb().app.findUniqueOrThrow({ where: { id: created.id } })).toEqual(before);
    });
  });

  describe("DELETE /api/v1/apps/{appId}", () => {
    const remove = (appId: string, token = write) =>
      call(deleteAppRoute, `/api/v1/apps/${appId}`, { method: "DELETE", token, params: { appId } });

    it("answers 202 with the operation and its Location, marks the app deleting and queues app__delete", async () => {
      const created = await createThroughApi(write, { name: uniqueName("doomed") });
      const response = await remove(created.id);
      expect(response.status).toBe(202);
      const body = deleteAppEndpoint.responses[202].schema.parse(await response.json());
      expect(body.operation).toMatchObject({ kind: "app.delete", status: "queued", targetId: created.id });
      expect(response.headers.get("location")).toBe(`/api/v1/operations/${body.operation.id}`);
      expect(body.app).toMatchObject({ id: created.id, status: "deleting" });
      expect((await getDb().app.findUniqueOrThrow({ where: { id: created.id } })).status).toBe("deleting");

      const jobs = (await pendingJobs("app__delete")).filter(
        (job) => (job.payload as { appId?: string }).appId === created.id,
      );
      expect(jobs.map((job) => job.payload)).toEqual([{ operationId: body.operation.id, appId: created.id }]);

      // The Location answers with the same operation.
      const operation = await call(getOperationRoute, `/api/v1/operations/${body.operation.id}`, {
        token: read,
        params: { id: body.operation.id },
      });
      expect(operation.status).toBe(200);
      expect(((await operation.json()) as { operation: { id: string } }).operation.id).toBe(body.operation.id);
    });

    it("answers a second DELETE with the same operation and queues no second job", async () => {
      const created = await createThroughApi(write, { name: uniqueName("twice") });
      const first = deleteAppEndpoint.responses[202].schema.parse(await (await remove(created.id)).json());
      const again = await remove(created.id);
      expect(again.status).toBe(202);
      const second = deleteAppEndpoint.responses[202].schema.parse(await again.json());
      expect(second.operation.id).toBe(first.operation.id);
      expect(again.headers.get("location")).toBe(`/api/v1/operations/${first.operation.id}`);
      const jobs = (await pendingJobs("app__delete")).filter(
        (job) => (job.payload as { appId?: string }).appId === created.id,
      );
      expect(jobs).toHaveLength(1);
      expect(await getDb().operation.count({ where: { targetId: created.id, kind: "app.delete" } })).toBe(1);
    });

    it("answers two concurrent DELETEs with one operation and one job", async () => {
      const created = await createThroughApi(write, { name: uniqueName("race") });
      // The window between reading the app and committing is short; a trigger in this file's own database holds the
      // first transaction open for a second after it marked the app. Correct code makes the second request wait for
      // the first (a lock on the app row) and then find its operation, whatever the timing.
      await getDb().$executeRawUnsafe(`
        CREATE FUNCTION test_slow_delete_audit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.action = 'app.deletion_requested' THEN PERFORM pg_sleep(1); END IF;
          RETURN NEW;
        END $$`);
      await getDb().$executeRawUnsafe(
        `CREATE TRIGGER test_slow_delete_audit BEFORE INSERT ON "AuditEvent"
         FOR EACH ROW EXECUTE FUNCTION test_slow_delete_audit()`,
      );
      try {
        const responses = await Promise.all([remove(created.id), remove(created.id)]);
        expect(responses.map((response) => response.status)).toEqual([202, 202]);
        const bodies = await Promise.all(
          responses.map(async (response) => deleteAppEndpoint.responses[202].schema.parse(await response.json())),
        );
        expect(await getDb().operation.count({ where: { targetId: created.id, kind: "app.delete" } })).toBe(1);
        expect(bodies[1]?.operation.id).toBe(bodies[0]?.operation.id);
        const jobs = (await pendingJobs("app__delete")).filter(
          (job) => (job.payload as { appId?: string }).appId === created.id,
        );
        expect(jobs).toHaveLength(1);
      } finally {
        await getDb().$executeRawUnsafe(`DROP TRIGGER test_slow_delete_audit ON "AuditEvent"`);
        await getDb().$executeRawUnsafe("DROP FUNCTION test_slow_delete_audit()");
      }
    });

    it("refuses changes to an app being deleted with 409", async () => {
      const created = await createThroughApi(write, { name: uniqueName("going") });
      expect((await remove(created.id)).status).toBe(202);
      const response = await call(patchAppRoute, `/api/v1/apps/${created.id}`, {
        method: "PATCH",
        token: write,
        body: { settings: { memoryMb: 1024 } },
        params: { appId: created.id },
      });
      expect(response.status).toBe(409);
    });
  });

  describe("team scoping", () => {
    type Probe = { name: string; run: (appId: string, token: string) => Promise<Response> };
    const probes: Probe[] = [
      {
        name: "GET /apps/{appId}",
        run: (appId, token) => call(getAppRoute, `/api/v1/apps/${appId}`, { token, params: { appId } }),
      },
      {
        name: "PATCH /apps/{appId}",
        run: (appId, token) =>
          call(patchAppRoute, `/api/v1/apps/${appId}`, {
            method: "PATCH",
            token,
            body: { name: uniqueName("hijack"), settings: { memoryMb: 4096 } },
            params: { appId },
          }),
      },
      {
        name: "DELETE /apps/{appId}",
        run: (appId, token) =>
          call(deleteAppRoute, `/api/v1/apps/${appId}`, { method: "DELETE", token, params: { appId } }),
      },
      {
        name: "GET /apps/{appId}/env",
        run: (appId, token) => call(getEnvRoute, `/api/v1/apps/${appId}/env`, { token, params: { appId } }),
      },
      {
        name: "PUT /apps/{appId}/env",
        run: (appId, token) =>
          call(putEnvRoute, `/api/v1/apps/${appId}/env`, {
            method: "PUT",
            token,
            body: { env: { INJECTED: "x" } },
            params: { appId },
          }),
      },
      {
        name: "GET /apps/{appId}/deployments",
        run: (appId, token) =>
          call(listDeploymentsRoute, `/api/v1/apps/${appId}/deployments`, { token, params: { appId } }),
      },
      {
        name: "POST /apps/{appId}/deployments",
        run: (appId, token) =>
          call(createDeploymentRoute, `/api/v1/apps/${appId}/deployments`, {
            method: "POST",
            token,
            body: { source: { type: "git", url: REPO } },
            params: { appId },
          }),
      },
    ];

    it.each(probes)("$name with another team's app id answers 404 and changes nothing", async ({ run }) => {
      const victim = await createThroughApi(write, { name: uniqueName("victim") });
      const before = await getDb().app.findUniqueOrThrow({ where: { id: victim.id } });
      const intruder = await freshTeam();
      const response = await run(victim.id, intruder.write);
      expect(response.status).toBe(404);
      const error = await errorOf(response);
      expect(error.code).toBe("not_found");
      expect(JSON.stringify(error)).not.toContain(victim.name);
      expect(await getDb().app.findUniqueOrThrow({ where: { id: victim.id } })).toEqual(before);
      expect(await getDb().envVar.count({ where: { appId: victim.id } })).toBe(0);
      expect(await getDb().deployment.count({ where: { appId: victim.id } })).toBe(0);
      expect(await getDb().operation.count({ where: { targetId: victim.id } })).toBe(0);
    });
  });

  describe("token scopes", () => {
    it("lets a read token list and show apps", async () => {
      const created = await createThroughApi(write, { name: uniqueName() });
      expect((await call(listAppsRoute, "/api/v1/apps", { token: read })).status).toBe(200);
      expect(
        (await call(getAppRoute, `/api/v1/apps/${created.id}`, { token: read, params: { appId: created.id } })).status,
      ).toBe(200);
    });

    it("refuses a read token on POST /apps with 403 and no row", async () => {
      const name = uniqueName("reader");
      const response = await call(createAppRoute, "/api/v1/apps", { method: "POST", token: read, body: { name } });
      expect(response.status).toBe(403);
      expect((await errorOf(response)).code).toBe("forbidden");
      expect(await getDb().app.count({ where: { name } })).toBe(0);
    });

    it("refuses a read token on PATCH, DELETE, PUT env and POST deployments with 403 and changes nothing", async () => {
      const created = await createThroughApi(write, {
        name: uniqueName("guarded"),
        source: { type: "git", url: REPO },
      });
      const before = await getDb().app.findUniqueOrThrow({ where: { id: created.id } });
      const params = { appId: created.id };
      const responses = [
        await call(patchAppRoute, `/api/v1/apps/${created.id}`, {
          method: "PATCH",
          token: read,
          body: { name: uniqueName("renamed") },
          params,
        }),
        await call(deleteAppRoute, `/api/v1/apps/${created.id}`, { method: "DELETE", token: read, params }),
        await call(putEnvRoute, `/api/v1/apps/${created.id}/env`, {
          method: "PUT",
          token: read,
          body: { env: { FOO: "bar" } },
          params,
        }),
        await call(createDeploymentRoute, `/api/v1/apps/${created.id}/deployments`, {
          method: "POST",
          token: read,
          body: {},
          params,
        }),
      ];
      for (const response of responses) {
        expect(response.status).toBe(403);
        expect((await errorOf(response)).code).toBe("forbidden");
      }
      expect(await getDb().app.findUniqueOrThrow({ where: { id: created.id } })).toEqual(before);
      expect(await getDb().envVar.count({ where: { appId: created.id } })).toBe(0);
      expect(await getDb().deployment.count({ where: { appId: created.id } })).toBe(0);
      expect(await getDb().operation.count({ where: { targetId: created.id } })).toBe(0);
    });
  });

  describe("unknown fields on the other app endpoints", () => {
    it("refuses teamId next to env changes with 422 and stores nothing", async () => {
      const created = await createThroughApi(write, { name: uniqueName() });
      const response = await call(putEnvRoute, `/api/v1/apps/${created.id}/env`, {
        method: "PUT",
        token: write,
        body: { env: { FOO: "bar" }, teamId: randomUUID() },
        params: { appId: created.id },
      });
      expect(response.status).toBe(422);
      expect(await getDb().envVar.count({ where: { appId: created.id } })).toBe(0);
    });

    it("refuses status next to a deployment source with 422 and creates no deployment", async () => {
      const created = await createThroughApi(write, { name: uniqueName(), source: { type: "git", url: REPO } });
      const response = await call(createDeploymentRoute, `/api/v1/apps/${created.id}/deployments`, {
        method: "POST",
        token: write,
        body: { source: { type: "git" }, status: "running" },
        params: { appId: created.id },
      });
      expect(response.status).toBe(422);
      expect(await getDb().deployment.count({ where: { appId: created.id } })).toBe(0);
    });
  });
});
