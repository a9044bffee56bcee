// Every mutation of an app being deleted answers 409 in the error shape, and `stop` on an app that never ran answers
// 409 like `start` does (issue #22): checked through the route handlers, each test on its own app.
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { POST as restartRoute } from "@/app/api/v1/apps/[appId]/actions/restart/route";
import { POST as rollbackRoute } from "@/app/api/v1/apps/[appId]/actions/rollback/route";
import { POST as scaleRoute } from "@/app/api/v1/apps/[appId]/actions/scale/route";
import { POST as startRoute } from "@/app/api/v1/apps/[appId]/actions/start/route";
import { POST as stopRoute } from "@/app/api/v1/apps/[appId]/actions/stop/route";
import { POST as deployRoute } from "@/app/api/v1/apps/[appId]/deployments/route";
import { PUT as putEnvRoute } from "@/app/api/v1/apps/[appId]/env/route";
import { PATCH as patchAppRoute } from "@/app/api/v1/apps/[appId]/route";
import { errorBody } from "@/lib/api/endpoint";
import { getDb } from "@/lib/db";
import type { App } from "@/lib/generated/prisma/client";
import { call, type Route } from "@/test/api";
import { createTestTeam, createTestToken, createTestUser } from "@/test/factories";

let teamId: string;
let write: string;

/** An app released once (deployment #1 superseded, #2 current), in the given state. */
async function appIn(status: App["status"]): Promise<{ appId: string; oldId: string }> {
  const db = getDb();
  const app = await db.app.create({
    data: {
      teamId,
      name: `guard-${randomUUID().slice(0, 8)}`,
      status,
      sourceType: "git",
      gitUrl: "https://github.com/acme/shop.git",
      gitRef: "main",
    },
  });
  const deployment = (number: number, deploymentStatus: "superseded" | "running") =>
    db.deployment.create({
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
  return { appId: app.id, oldId: old.id };
}

async function expectConflict(response: Response): Promise<string> {
  expect(response.status).toBe(409);
  const body = errorBody.parse(await response.json());
  expect(body.error.code).toBe("conflict");
  return body.error.message;
}

beforeAll(async () => {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  teamId = team.id;
  write = await createTestToken(team.id, ["write"]);
});

type Mutation = { name: string; route: Route; method: string; path: string; body?: (oldId: string) => unknown };
const MUTATIONS: Mutation[] = [
  { name: "rename", route: patchAppRoute, method: "PATCH", path: "", body: () => ({ name: "renamed-app" }) },
  {
    name: "settings",
    route: patchAppRoute,
    method: "PATCH",
    path: "",
    body: () => ({ settings: { memoryMb: 1024 } }),
  },
  { name: "deploy", route: deployRoute, method: "POST", path: "/deployments", body: () => ({}) },
  { name: "env", route: putEnvRoute, method: "PUT", path: "/env", body: () => ({ env: { FOO: "bar" } }) },
  { name: "env unset", route: putEnvRoute, method: "PUT", path: "/env", body: () => ({ env: { FOO: null } }) },
  { name: "start", route: startRoute, method: "POST", path: "/actions/start" },
  { name: "stop", route: stopRoute, method: "POST", path: "/actions/stop" },
  { name: "restart", route: restartRoute, method: "POST", path: "/actions/restart" },
  {
    name: "rollback",
    route: rollbackRoute,
    method: "POST",
    path: "/actions/rollback",
    body: (oldId) => ({ deploymentId: oldId }),
  },
  { name: "scale", route: scaleRoute, method: "POST", path: "/actions/scale", body: () => ({ replicas: 2 }) },
];

describe("an app being deleted", () => {
  for (const mutation of MUTATIONS) {
    it(`refuses ${mutation.name} with 409 and changes nothing`, async () => {
      const { appId, oldId } = await appIn("deleting");
      const before = await getDb().app.findUniqueOrThrow({ where: { id: appId }, include: { envVars: true } });
      const response = await call(mutation.route, `/api/v1/apps/${appId}${mutation.path}`, {
        method: mutation.method,
        token: write,
        params: { appId },
        ...(mutation.body ? { body: mutation.body(oldId) } : {}),
      });
      expect(await expectConflict(response)).toBe("This app is being deleted.");
      const after = await getDb().app.findUniqueOrThrow({ where: { id: appId }, include: { envVars: true } });
      expect(after).toEqual(before);
      expect(await getDb().operation.count({ where: { targetId: appId } })).toBe(0);
    });
  }
});

describe("stop", () => {
  it("refuses an app that never ran with 409, as start does", async () => {
    const app = await getDb().app.create({ data: { teamId, name: `never-${randomUUID().slice(0, 8)}` } });
    const appId = app.id;
    const start = await call(startRoute, `/api/v1/apps/${appId}/actions/start`, {
      method: "POST",
      token: write,
      params: { appId },
    });
    await expectConflict(start);
    const stop = await call(stopRoute, `/api/v1/apps/${appId}/actions/stop`, {
      method: "POST",
      token: write,
      params: { appId },
    });
    expect(await expectConflict(stop)).toMatch(/never run/);
    expect(await getDb().operation.count({ where: { targetId: appId } })).toBe(0);
  });

  it("still stops a released app", async () => {
    const { appId } = await appIn("running");
    const stop = await call(stopRoute, `/api/v1/apps/${appId}/actions/stop`, {
      method: "POST",
      token: write,
      params: { appId },
    });
    expect(stop.status).toBe(202);
  });
});
