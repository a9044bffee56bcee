// The app page's lifecycle actions (start, stop, restart, scale, rollback) and its polls (runtime, logs), on the real
// database: a viewer is refused with nothing queued, another team's app answers "not found", and a member's request
// writes its operation and queues app__lifecycle in the app's queue, like the API.
import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import type { PublicUser } from "@/lib/domain/users";
import { getEnv } from "@/lib/env";
import type { Role } from "@/lib/generated/prisma/enums";
import { form } from "@/test/actions";
import { addMember, createTestTeam, createTestUser, userCtx } from "@/test/factories";
import { pendingJobs, withRawClient } from "@/test/helpers";

const session = vi.hoisted(() => ({ user: null as PublicUser | null }));

vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => session.user,
  currentRequestMeta: async () => ({ requestId: randomUUID(), ip: "203.0.113.9", userAgent: "vitest" }),
}));

// revalidatePath() needs a live Next request; there is no page to revalidate in a test.
vi.mock("next/cache", () => ({ refresh: () => {}, revalidatePath: () => {} }));

const actions = await import("@/app/(portal)/teams/[teamId]/apps/[appId]/actions");

/** An app running deployment #2, with #1 superseded (a rollback target), and a member of `role`. */
async function runningAppWith(role: Role) {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const user = await createTestUser();
  await addMember(team.id, user.id, role);
  const view = await createApp(getDb(), await userCtx(owner.id, team.id), { name: "web" });
  const db = getDb();
  const base = { appId: view.id, teamId: team.id, sourceType: "upload" as const };
  const first = await db.deployment.create({
    data: { ...base, number: 1, status: "superseded", imageRef: `localhost/tsl-${view.id.replaceAll("-", "")}:1` },
  });
  const second = await db.deployment.create({
    data: { ...base, number: 2, status: "running", imageRef: `localhost/tsl-${view.id.replaceAll("-", "")}:2` },
  });
  await db.app.update({ where: { id: view.id }, data: { status: "running", currentDeploymentId: second.id } });
  for (const index of [0, 1]) {
    await db.replica.create({
      data: {
        appId: view.id,
        deploymentId: second.id,
        index,
        containerName: `tsl-${view.id.replaceAll("-", "")}-2-${index}`,
        hostPort: 40_000 + index,
        status: "healthy",
      },
    });
  }
  return { team, user, app: view, first, second };
}

async function lifecycleJobs(appId: string) {
  const jobs = await pendingJobs("app__lifecycle");
  return jobs.filter((job) => (job.payload as { appId?: string }).appId === appId);
}

async function queueOf(appId: string): Promise<string[]> {
  return await withRawClient(async (client) => {
    const result = await client.query<{ queue_name: string }>(
      `SELECT q.queue_name FROM graphile_worker._private_jobs j
       JOIN graphile_worker._private_job_queues q ON q.id = j.job_queue_id
       WHERE j.payload->>'appId' = $1`,
      [appId],
    );
    return result.rows.map((row) => row.queue_name);
  });
}

beforeEach(() => {
  session.user = null;
});

describe("lifecycle actions", () => {
  it("refuses a viewer for every action, queueing nothing", async () => {
    const { team, user, app, first } = await runningAppWith("viewer");
    session.user = user;
    const fields = { teamId: team.id, appId: app.id };
    const refused = { status: "error", message: "Your role in this team does not allow this." };
    expect(await actions.startAppAction({ status: "idle" }, form(fields))).toEqual(refused);
    expect(await actions.stopAppAction({ status: "idle" }, form(fields))).toEqual(refused);
    expect(await actions.restartAppAction({ status: "idle" }, form(fields))).toEqual(refused);
    expect(await actions.scaleAppAction({ status: "idle" }, form({ ...fields, replicas: "3" }))).toEqual(refused);
    expect(await actions.rollbackAppAction({ status: "idle" }, form({ ...fields, deploymentId: first.id }))).toEqual(
      refused,
    );
    expect(await lifecycleJobs(app.id)).toEqual([]);
    expect((await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).replicas).not.toBe(3);
    expect(await getDb().operation.count({ where: { targetId: app.id } })).toBe(0);
  });

  it("answers not found for another team's app", async () => {
    const { team, user } = await runningAppWith("member");
    const other = await runningAppWith("member");
    session.user = user;
    const fields = { teamId: team.id, appId: other.app.id };
    for (const state of [
      await actions.restartAppAction({ status: "idle" }, form(fields)),
      await actions.stopAppAction({ status: "idle" }, form(fields)),
      await actions.scaleAppAction({ status: "idle" }, form({ ...fields, replicas: "1" })),
      await actions.rollbackAppAction({ status: "idle" }, form({ ...fields, deploymentId: other.first.id })),
    ]) {
      expect(state).toEqual({ status: "error", message: "App not found." });
    }
    expect(await lifecycleJobs(other.app.id)).toEqual([]);
    // The other team's ID in the team field: no membership, so not found either.
    const foreign = await actions.restartAppAction(
      { status: "idle" },
      form({ teamId: other.team.id, appId: other.app.id }),
    );
    expect(foreign.status).toBe("error");
    expect(await lifecycleJobs(other.app.id)).toEqual([]);
  });

  it("queues restart, scale, rollback and stop for a member, each with its operation, in the app's queue", async () => {
    const { team, user, app, first } = await runningAppWith("member");
    session.user = user;
    const fields = { teamId: team.id, appId: app.id };

    expect((await actions.restartAppAction({ status: "idle" }, form(fields))).status).toBe("success");
    const scaled = await actions.scaleAppAction({ status: "idle" }, form({ ...fields, replicas: "3" }));
    expect(scaled).toMatchObject({ status: "success", message: "Scaling to 3 replicas." });
    expect((await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).replicas).toBe(3);
    expect(
      (await actions.rollbackAppAction({ status: "idle" }, form({ ...fields, deploymentId: first.id }))).status,
    ).toBe("success");
    expect((await actions.stopAppAction({ status: "idle" }, form(fields))).status).toBe("success");

    const jobs = await lifecycleJobs(app.id);
    expect(jobs.map((job) => (job.payload as { action: string }).action)).toEqual([
      "restart",
      "scale",
      "rollback",
      "stop",
    ]);
    expect(jobs[2]?.payload).toMatchObject({ deploymentId: first.id });
    expect(new Set(await queueOf(app.id)).size).toBe(1);
    const operations = await getDb().operation.findMany({ where: { targetId: app.id }, orderBy: { createdAt: "asc" } });
    expect(operations.map((operation) => [operation.kind, operation.status])).toEqual([
      ["app.restart", "queued"],
      ["app.scale", "queued"],
      ["app.rollback", "queued"],
      ["app.stop", "queued"],
    ]);
  });

  it("refuses a scale out of range and a rollback to the current release, with a message", async () => {
    const { team, user, app, second } = await runningAppWith("member");
    session.user = user;
    const fields = { teamId: team.id, appId: app.id };
    const tooMany = await actions.scaleAppAction({ status: "idle" }, form({ ...fields, replicas: "21" }));
    expect(tooMany.status).toBe("error");
    expect(tooMany.fieldErrors?.replicas).toBeDefined();
    const current = await actions.rollbackAppAction({ status: "idle" }, form({ ...fields, deploymentId: second.id }));
    expect(current).toEqual({
      status: "error",
      message: "Deployment #2 is already the current release: restart instead.",
    });
    expect(await lifecycleJobs(app.id)).toEqual([]);
  });
});

describe("pollAppRuntime", () => {
  it("shows a viewer the replicas and their states without host ports, in a constant number of queries", async () => {
    const { team, user, app } = await runningAppWith("viewer");
    session.user = user;
    const { result, count } = await countQueries(() => actions.pollAppRuntime(team.id, app.id));
    expect(result.status).toBe("success");
    expect(result.data).toMatchObject({
      status: "running",
      replicas: 1,
      activeDeployment: null,
      pendingOperations: [],
    });
    expect(result.data?.running.map((replica) => [replica.status, replica.deploymentNumber])).toEqual([
      ["healthy", 2],
      ["healthy", 2],
    ]);
    expect(JSON.stringify(result.data)).not.toMatch(/4000[01]|tsl-/);

    // Ten more replicas cost no more queries.
    const deploymentId = result.data?.running[0]?.deploymentId as string;
    for (let index = 2; index < 12; index += 1) {
      await getDb().replica.create({
        data: {
          appId: app.id,
          deploymentId,
          index,
          containerName: `tsl-${randomUUID().replaceAll("-", "")}-2-${index}`,
        },
      });
    }
    const again = await countQueries(() => actions.pollAppRuntime(team.id, app.id));
    expect(again.result.data?.running).toHaveLength(12);
    expect(again.count).toBe(count);
  });

  it("answers not found for another team's app", async () => {
    const { team, user } = await runningAppWith("viewer");
    const other = await runningAppWith("viewer");
    session.user = user;
    expect(await actions.pollAppRuntime(team.id, other.app.id)).toEqual({ status: "error", message: "App not found." });
  });
});

describe("pollAppLogs", () => {
  it("gives a viewer the collected lines from a time on, and asks the worker for new ones", async () => {
    const { team, user, app } = await runningAppWith("viewer");
    session.user = user;
    const file = path.join(getEnv().dataDir, "logs", "apps", `${app.id}.log`);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const lines = [
      { t: "2026-11-28T12:00:00.000000001Z", r: 0, s: "stdout", m: "booting" },
      { t: "2026-11-28T12:00:01.000000001Z", r: 1, s: "stderr", m: "GET / 200" },
    ];
    await fs.writeFile(file, `${lines.map((line) => JSON.stringify(line)).join("\n")}\n`);

    const all = await actions.pollAppLogs(team.id, app.id, { tail: 200 });
    expect(all.data?.lines.map((line) => line.text)).toEqual(["booting", "GET / 200"]);
    const newer = await actions.pollAppLogs(team.id, app.id, { tail: 200, since: "2026-11-28T12:00:01.000000001Z" });
    expect(newer.data?.lines.map((line) => [line.replica, line.stream, line.text])).toEqual([
      [1, "stderr", "GET / 200"],
    ]);
    expect((await pendingJobs("app__collect_logs")).length).toBeGreaterThan(0);
  });

  it("refuses another team's app and a malformed time", async () => {
    const { team, user } = await runningAppWith("member");
    const other = await runningAppWith("member");
    session.user = user;
    expect(await actions.pollAppLogs(team.id, other.app.id, { tail: 10 })).toEqual({
      status: "error",
      message: "App not found.",
    });
    const bad = await actions.pollAppLogs(team.id, other.app.id, { tail: 10, since: "yesterday" });
    expect(bad.status).toBe("error");
  });
});
