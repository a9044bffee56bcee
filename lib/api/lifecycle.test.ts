// The lifecycle actions and runtime logs through their route handlers: 202 with an operation and its job in the
// app's queue, the state checks (409), other teams' apps (404), read tokens and viewers (403), idempotency keys.
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { POST as restartRoute } from "@/app/api/v1/apps/[appId]/actions/restart/route";
import { POST as rollbackRoute } from "@/app/api/v1/apps/[appId]/actions/rollback/route";
import { POST as scaleRoute } from "@/app/api/v1/apps/[appId]/actions/scale/route";
import { POST as startRoute } from "@/app/api/v1/apps/[appId]/actions/start/route";
import { POST as stopRoute } from "@/app/api/v1/apps/[appId]/actions/stop/route";
import { GET as logsRoute } from "@/app/api/v1/apps/[appId]/logs/route";
import { appLogsEndpoint, startAppEndpoint } from "@/lib/api/endpoints/apps";
import { getDb } from "@/lib/db";
import { updateApp } from "@/lib/domain/apps";
import { userContext } from "@/lib/domain/context";
import { requestSystemRestart, restartApp, rollbackApp, scaleApp, startApp, stopApp } from "@/lib/domain/lifecycle";
import { collectAppLogs } from "@/lib/engine/app-logs";
import { getEnv } from "@/lib/env";
import { isAppError } from "@/lib/errors";
import type { App, DeploymentStatus } from "@/lib/generated/prisma/client";
import { BASE, call, errorOf, type Route } from "@/test/api";
import { addMember, createTestTeam, createTestToken, createTestUser, testMeta } from "@/test/factories";
import { withRawClient } from "@/test/helpers";

function post(
  route: Route,
  appId: string,
  action: string,
  token: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return call(route, `/api/v1/apps/${appId}/actions/${action}`, {
    method: "POST",
    token,
    body,
    params: { appId },
    headers,
  });
}

async function errorCode(response: Response): Promise<string> {
  return (await errorOf(response)).code;
}

type Job = { task: string; payload: Record<string, unknown>; queue: string | null; key: string | null };

async function jobsFor(appId: string): Promise<Job[]> {
  return await withRawClient(async (client) => {
    const result = await client.query<Job>(
      `SELECT t.identifier AS task, j.payload, q.queue_name AS queue, j.key
       FROM graphile_worker._private_jobs j
       JOIN graphile_worker._private_tasks t ON t.id = j.task_id
       LEFT JOIN graphile_worker._private_job_queues q ON q.id = j.job_queue_id
       WHERE j.payload->>'appId' = $1 ORDER BY j.id`,
      [appId],
    );
    return result.rows;
  });
}

async function freshTeam() {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  return {
    owner,
    team,
    write: await createTestToken(team.id, ["write"]),
    read: await createTestToken(team.id, ["read"]),
  };
}

/** An app that has been released: deployment #1 running and current, #2 superseded or in another state. */
async function releasedApp(teamId: string, status: App["status"] = "running") {
  const db = getDb();
  const app = await db.app.create({ data: { teamId, name: `life-${randomUUID().slice(0, 8)}`, status } });
  const deployment = async (number: number, deploymentStatus: DeploymentStatus) =>
    await db.deployment.create({
      data: {
        appId: app.id,
        teamId,
        number,
        status: deploymentStatus,
        sourceType: "upload",
        imageRef: `localhost/tsl-${app.id.replaceAll("-", "")}:${number}`,
      },
    });
  const old = await deployment(1, "superseded");
  const current = await deployment(2, "running");
  await db.app.update({ where: { id: app.id }, data: { currentDeploymentId: current.id } });
  return { app, old, current };
}

describe("POST /api/v1/apps/{appId}/actions/*", () => {
  let team: Awaited<ReturnType<typeof freshTeam>>;
  let other: Awaited<ReturnType<typeof freshTeam>>;

  beforeAll(async () => {
    team = await freshTeam();
    other = await freshTeam();
  });

  it.each([
    ["start", startRoute, undefined],
    ["stop", stopRoute, undefined],
    ["restart", restartRoute, undefined],
    ["scale", scaleRoute, { replicas: 3 }],
  ] as const)(
    "%s answers 202 with the operation and queues the job in the app's queue",
    async (action, route, body) => {
      const { app } = await releasedApp(team.team.id);
      const response = await post(route, app.id, action, team.write, body);
      expect(response.status).toBe(202);
      const json = startAppEndpoint.responses[202].schema.parse(await response.json());
      expect(json.operation).toMatchObject({ kind: `app.${action}`, status: "queued", targetId: app.id });
      expect(json.app.id).toBe(app.id);
      expect(response.headers.get("location")).toBe(`/api/v1/operations/${json.operation.id}`);
      expect(await jobsFor(app.id)).toEqual([
        {
          task: "app__lifecycle",
          payload: { operationId: json.operation.id, appId: app.id, action },
          queue: `app:${app.id}`,
          key: null,
        },
      ]);
      const audit = await getDb().auditEvent.findFirst({
        where: { targetId: app.id, action: `app.${action}_requested` },
      });
      expect(audit?.actorType).toBe("token");
    },
  );

  it("rolls back to an earlier successful deployment, by its id", async () => {
    const { app, old } = await releasedApp(team.team.id);
    const response = await post(rollbackRoute, app.id, "rollback", team.write, { deploymentId: old.id });
    expect(response.status).toBe(202);
    const [job] = await jobsFor(app.id);
    expect(job?.payload).toMatchObject({ action: "rollback", deploymentId: old.id });
    // The intent is the job: the current deployment only changes when the old image's containers pass.
    expect((await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).currentDeploymentId).not.toBe(old.id);
  });

  it("refuses to scale, start or restart an app that was never deployed: 409, in words, nothing queued (#18)", async () => {
    const app = await getDb().app.create({
      data: { teamId: team.team.id, name: `new-${randomUUID().slice(0, 8)}`, status: "created" },
    });
    const scaled = await post(scaleRoute, app.id, "scale", team.write, { replicas: 2 });
    expect(scaled.status).toBe(409);
    const error = await errorOf(scaled);
    expect(error.code).toBe("conflict");
    expect(error.message).toMatch(/not been deployed yet.*deploy it first/);
    for (const [action, route] of [
      ["start", startRoute],
      ["restart", restartRoute],
    ] as const) {
      const response = await post(route, app.id, action, team.write);
      expect(response.status, action).toBe(409);
      expect((await errorOf(response)).message, action).toMatch(/deploy it first|not running/);
    }
    expect(await jobsFor(app.id)).toEqual([]);
    expect((await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).replicas).toBe(app.replicas);
  });

  it("scales by storing the replica count with the job, within 0..20", async () => {
    const { app } = await releasedApp(team.team.id);
    expect((await post(scaleRoute, app.id, "scale", team.write, { replicas: 0 })).status).toBe(202);
    expect((await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).replicas).toBe(0);
    for (const body of [
      { replicas: 21 },
      { replicas: -1 },
      { replicas: 1.5 },
      { replicas: "2" },
      {},
      { replicas: 2, x: 1 },
    ]) {
      const response = await post(scaleRoute, app.id, "scale", team.write, body);
      expect(response.status, JSON.stringify(body)).toBe(422);
    }
    expect((await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).replicas).toBe(0);
    expect(await jobsFor(app.id)).toHaveLength(1);
  });

  it("scales per process type of the current release; another type is 422 (#15)", async () => {
    const { app, current } = await releasedApp(team.team.id);
    await getDb().deployment.update({
      where: { id: current.id },
      data: { plan: { builder: "python", processes: { web: "gunicorn x", worker: "celery w", bot: "python b" } } },
    });
    const response = await post(scaleRoute, app.id, "scale", team.write, { processes: { web: 2, worker: 3 } });
    expect(response.status).toBe(202);
    const row = await getDb().app.findUniqueOrThrow({ where: { id: app.id } });
    expect(row.replicas).toBe(2);
    expect(row.processes).toEqual({ worker: 3 });
    // {replicas} keeps meaning web and leaves the other types as they are.
    expect((await post(scaleRoute, app.id, "scale", team.write, { replicas: 1 })).status).toBe(202);
    expect(await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).toMatchObject({
      replicas: 1,
      processes: { worker: 3 },
    });
    for (const body of [
      { processes: { clock: 1 } },
      { processes: { worker: 21 } },
      { processes: { web: 2 }, replicas: 3 },
    ]) {
      const refused = await post(scaleRoute, app.id, "scale", team.write, body);
      expect(refused.status, JSON.stringify(body)).toBe(422);
    }
    const refused = await post(scaleRoute, app.id, "scale", team.write, { processes: { clock: 1, worker: 1 } });
    expect((await errorOf(refused)).details).toEqual([{ path: "processes.clock", message: expect.any(String) }]);
    expect(await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).toMatchObject({
      replicas: 1,
      processes: { worker: 3 },
    });
    expect(await jobsFor(app.id)).toHaveLength(2);
  });

  it("refuses what the app's state does not allow with 409 and queues nothing", async () => {
    const fresh = await getDb().app.create({ data: { teamId: team.team.id, name: `new-${randomUUID().slice(0, 8)}` } });
    expect(await errorCode(await post(startRoute, fresh.id, "start", team.write))).toBe("conflict");
    expect(await errorCode(await post(restartRoute, fresh.id, "restart", team.write))).toBe("conflict");

    const { app: stopped } = await releasedApp(team.team.id, "stopped");
    expect(await errorCode(await post(restartRoute, stopped.id, "restart", team.write))).toBe("conflict");

    const { app, current } = await releasedApp(team.team.id);
    const rollback = (deploymentId: string) => post(rollbackRoute, app.id, "rollback", team.write, { deploymentId });
    expect(await errorCode(await rollback(current.id))).toBe("conflict");
    const failed = await getDb().deployment.create({
      data: { appId: app.id, teamId: team.team.id, number: 3, status: "failed", sourceType: "upload" },
    });
    expect(await errorCode(await rollback(failed.id))).toBe("conflict");
    expect(await errorCode(await rollback(randomUUID()))).toBe("not_found");
    // Another team's deployment is "not found", never "forbidden".
    const foreign = await releasedApp(other.team.id);
    expect(await errorCode(await rollback(foreign.old.id))).toBe("not_found");

    const { app: deleting } = await releasedApp(team.team.id, "deleting");
    expect(await errorCode(await post(stopRoute, deleting.id, "stop", team.write))).toBe("conflict");

    for (const id of [fresh.id, stopped.id, app.id, deleting.id]) expect(await jobsFor(id)).toEqual([]);
  });

  it("answers 404 for another team's app and for an app that does not exist", async () => {
    const { app } = await releasedApp(other.team.id);
    for (const [action, route, body] of [
      ["start", startRoute, undefined],
      ["stop", stopRoute, undefined],
      ["restart", restartRoute, undefined],
      ["scale", scaleRoute, { replicas: 1 }],
    ] as const) {
      const response = await post(route, app.id, action, team.write, body);
      expect(response.status, action).toBe(404);
      expect((await post(route, randomUUID(), action, team.write, body)).status).toBe(404);
    }
    const rollback = await post(rollbackRoute, app.id, "rollback", team.write, { deploymentId: randomUUID() });
    expect(rollback.status).toBe(404);
    expect(await jobsFor(app.id)).toEqual([]);
    expect((await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).replicas).toBe(1);
  });

  it("refuses a read-only token with 403, and a viewer in the domain too", async () => {
    const { app, old } = await releasedApp(team.team.id);
    expect((await post(stopRoute, app.id, "stop", team.read)).status).toBe(403);
    expect((await post(scaleRoute, app.id, "scale", team.read, { replicas: 2 })).status).toBe(403);
    const viewer = await createTestUser();
    await addMember(team.team.id, viewer.id, "viewer");
    const ctx = await userContext(getDb(), viewer.id, team.team.id, testMeta());
    for (const attempt of [
      () => startApp(getDb(), ctx, app.id),
      () => stopApp(getDb(), ctx, app.id),
      () => restartApp(getDb(), ctx, app.id),
      () => rollbackApp(getDb(), ctx, app.id, { deploymentId: old.id }),
      () => scaleApp(getDb(), ctx, app.id, { replicas: 2 }),
    ]) {
      const error = await attempt().catch((err: unknown) => err);
      expect(isAppError(error) && error.code).toBe("forbidden");
    }
    expect(await jobsFor(app.id)).toEqual([]);
  });

  it("answers a repeated restart with the same operation (Idempotency-Key, and a restart already queued)", async () => {
    const { app } = await releasedApp(team.team.id);
    const key = { "idempotency-key": randomUUID() };
    const first = await post(restartRoute, app.id, "restart", team.write, undefined, key);
    const replay = await post(restartRoute, app.id, "restart", team.write, undefined, key);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    const firstId = ((await first.json()) as { operation: { id: string } }).operation.id;
    expect(((await replay.json()) as { operation: { id: string } }).operation.id).toBe(firstId);
    // Without the key, a restart still waiting in the queue is the answer too.
    const again = await post(restartRoute, app.id, "restart", team.write);
    expect(((await again.json()) as { operation: { id: string } }).operation.id).toBe(firstId);
    expect(await jobsFor(app.id)).toHaveLength(1);
  });
});

describe("routing after a change of name or health check path", () => {
  async function syncJobs(): Promise<{ queue: string | null; key: string | null }[]> {
    return await withRawClient(async (client) => {
      const result = await client.query<{ queue: string | null; key: string | null }>(
        `SELECT q.queue_name AS queue, j.key FROM graphile_worker._private_jobs j
         JOIN graphile_worker._private_tasks t ON t.id = j.task_id
         LEFT JOIN graphile_worker._private_job_queues q ON q.id = j.job_queue_id
         WHERE t.identifier = 'caddy__sync'`,
      );
      return result.rows;
    });
  }

  it("queues one caddy__sync in the caddy queue for a routed app, none for an app without a route", async () => {
    const { owner, team: owned } = await freshTeam();
    const ctx = await userContext(getDb(), owner.id, owned.id, testMeta());
    const { app } = await releasedApp(owned.id);
    const { app: unrouted } = await releasedApp(owned.id, "created");
    const before = (await syncJobs()).length;
    await updateApp(getDb(), ctx, unrouted.id, { name: `renamed-${randomUUID().slice(0, 6)}` });
    await updateApp(getDb(), ctx, app.id, { settings: { memoryMb: 256 } });
    expect(await syncJobs()).toHaveLength(before);
    await updateApp(getDb(), ctx, app.id, { name: `renamed-${randomUUID().slice(0, 6)}` });
    await updateApp(getDb(), ctx, app.id, { settings: { healthCheckPath: "/healthz" } });
    // Pending syncs collapse into one (job key): each renders the whole current state anyway.
    expect(await syncJobs()).toEqual([{ queue: "caddy", key: "caddy-sync" }]);
  });
});

describe("requestSystemRestart", () => {
  it("queues a restart of a running app audited as the system, reusing one already waiting", async () => {
    const { team: owned } = await freshTeam();
    const { app } = await releasedApp(owned.id);
    const first = await getDb().$transaction((tx) => requestSystemRestart(tx, app.id, "database ready"));
    const second = await getDb().$transaction((tx) => requestSystemRestart(tx, app.id, "redis ready"));
    expect(first).toMatchObject({ kind: "app.restart", status: "queued", targetId: app.id });
    expect(second?.id).toBe(first?.id);
    expect((await jobsFor(app.id)).map((job) => job.payload)).toEqual([
      { operationId: first?.id, appId: app.id, action: "restart" },
    ]);
    const audit = await getDb().auditEvent.findMany({ where: { targetId: app.id, action: "app.restart_requested" } });
    expect(audit.map((event) => [event.actorType, event.actorLabel, event.metadata])).toEqual([
      ["system", "platform", { reason: "database ready", operationId: first?.id }],
      ["system", "platform", { reason: "redis ready", operationId: first?.id }],
    ]);

    const { app: stopped } = await releasedApp(owned.id, "stopped");
    expect(await getDb().$transaction((tx) => requestSystemRestart(tx, stopped.id, "database ready"))).toBeNull();
    expect(await jobsFor(stopped.id)).toEqual([]);
  });
});

describe("GET /api/v1/apps/{appId}/logs", () => {
  function get(appId: string, token: string, query = ""): Promise<Response> {
    const request = new Request(`${BASE}/api/v1/apps/${appId}/logs${query}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return logsRoute(request, { params: Promise.resolve({ appId }) });
  }

  it("returns the collected lines by replica, and asks the worker for fresh ones (once per app)", async () => {
    const { team: owned, read } = await freshTeam();
    const { app, current } = await releasedApp(owned.id);
    const containerName = `tsl-${app.id.replaceAll("-", "")}-2-0`;
    await getDb().replica.create({
      data: { appId: app.id, deploymentId: current.id, index: 0, containerName, hostPort: 41_234, status: "healthy" },
    });
    const stdout = ["2030-01-01T00:00:01.000000000Z one", "2030-01-01T00:00:02.000000000Z two", ""].join("\n");
    await collectAppLogs(
      {
        db: getDb(),
        dataDir: getEnv().dataDir,
        podman: { logs: async () => ({ stdout, stderr: "2030-01-01T00:00:03.000000000Z oops\n" }) },
      },
      app.id,
    );

    const response = await get(app.id, read, "?tail=2");
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain(containerName);
    expect(text).not.toContain("41234");
    expect(appLogsEndpoint.responses[200].schema.parse(JSON.parse(text))).toEqual({
      lines: [
        { time: "2030-01-01T00:00:02.000Z", replica: 0, process: "web", stream: "stdout", text: "two" },
        { time: "2030-01-01T00:00:03.000Z", replica: 0, process: "web", stream: "stderr", text: "oops" },
      ],
    });
    const since = await get(app.id, read, `?since=${encodeURIComponent("2030-01-01T00:00:03.000Z")}`);
    expect(((await since.json()) as { lines: unknown[] }).lines).toHaveLength(1);

    await get(app.id, read);
    expect(await jobsFor(app.id)).toEqual([
      { task: "app__collect_logs", payload: { appId: app.id }, queue: null, key: `app-logs:${app.id}` },
    ]);
  });

  it("answers 404 for another team's app, 422 for a bad query, and asks nothing of a stopped app", async () => {
    const mine = await freshTeam();
    const theirs = await releasedApp((await freshTeam()).team.id);
    expect((await get(theirs.app.id, mine.read)).status).toBe(404);
    expect(await jobsFor(theirs.app.id)).toEqual([]);
    const { app } = await releasedApp(mine.team.id, "stopped");
    for (const query of ["?tail=0", "?tail=1001", "?since=yesterday", "?other=1"]) {
      expect((await get(app.id, mine.read, query)).status, query).toBe(422);
    }
    const response = await get(app.id, mine.read);
    expect(await response.json()).toEqual({ lines: [] });
    expect(await jobsFor(app.id)).toEqual([]);
  });
});
