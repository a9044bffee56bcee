// Time limits on states (lib/engine/expire.ts) against the real database: a deployment left in queued, building or
// releasing by a dead worker ends past its limit with a reason, its operation too, and its app settles; one within
// its limit and a finished one are never touched; a job that wrote meanwhile wins; the statements do not grow with
// the number of stuck rows; operations of other kinds wait for their job's whole retry span.
import { randomBytes, randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { catalog } from "@/jobs/catalog";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { initialPhases, parsePhases } from "@/lib/domain/deployment-phases";
import { createOperation } from "@/lib/domain/operations";
import {
  deploymentLimitMs,
  type ExpiryLimits,
  expireStuck,
  expiryLimitsFromConfig,
  operationLimitMs,
} from "@/lib/engine/expire";
import { expireDeployments, markBuilt, startBuilding } from "@/lib/engine/state";
import type { AppStatus, DeploymentStatus } from "@/lib/generated/prisma/enums";
import { createTestTeam, createTestUser } from "@/test/factories";
import { silentLog } from "@/test/release-helpers";

const limits: ExpiryLimits = expiryLimitsFromConfig({
  buildTimeoutMs: 900_000,
  releaseCommandTimeoutMs: 600_000,
  healthTimeoutMs: 60_000,
  drainMs: 10_000,
});
const MINUTE = 60_000;

let teamId: string;

beforeAll(async () => {
  const user = await createTestUser();
  teamId = (await createTestTeam(user.id)).id;
});

/** Moves a row's clock back: what a worker killed `ms` ago leaves behind. */
async function age(table: "Deployment" | "Operation", id: string, ms: number): Promise<void> {
  const at = new Date(Date.now() - ms);
  if (table === "Deployment")
    await getDb().$executeRaw`UPDATE "Deployment" SET "updatedAt" = ${at} WHERE id = ${id}::uuid`;
  else await getDb().$executeRaw`UPDATE "Operation" SET "updatedAt" = ${at} WHERE id = ${id}::uuid`;
}

async function seed(
  status: DeploymentStatus,
  options: { ago: number; appStatus?: AppStatus; previous?: boolean; cancel?: boolean },
) {
  const db = getDb();
  const app = await db.app.create({
    data: { teamId, name: `x-${randomBytes(4).toString("hex")}`, status: options.appStatus ?? "deploying" },
  });
  let number = 1;
  if (options.previous) {
    const previous = await db.deployment.create({
      data: { appId: app.id, teamId, number: number++, status: "running", sourceType: "upload" },
    });
    await db.app.update({ where: { id: app.id }, data: { currentDeploymentId: previous.id } });
  }
  const operation = await createOperation(db, {
    kind: "app.deploy",
    teamId,
    target: { type: "deployment", id: app.id }, // the deployment's id once it exists
  });
  await db.operation.update({
    where: { id: operation.id },
    data: { status: status === "queued" ? "queued" : "running" },
  });
  const phases = initialPhases(new Date()).map((phase) =>
    status === "building" && phase.name === "building" ? { ...phase, status: "running" as const } : phase,
  );
  const deployment = await db.deployment.create({
    data: {
      appId: app.id,
      teamId,
      number,
      status,
      sourceType: "upload",
      operationId: operation.id,
      phases,
      cancelRequestedAt: options.cancel ? new Date() : null,
    },
  });
  await db.operation.update({ where: { id: operation.id }, data: { targetId: deployment.id } });
  await age("Deployment", deployment.id, options.ago);
  await age("Operation", operation.id, options.ago);
  return { app, deployment, operation };
}

async function rows(seeded: Awaited<ReturnType<typeof seed>>) {
  const db = getDb();
  return {
    app: await db.app.findUniqueOrThrow({ where: { id: seeded.app.id } }),
    deployment: await db.deployment.findUniqueOrThrow({ where: { id: seeded.deployment.id } }),
    operation: await db.operation.findUniqueOrThrow({ where: { id: seeded.operation.id } }),
  };
}

const expire = () => expireStuck({ db: getDb(), log: silentLog, limits });

describe("deployments past their time limit", () => {
  it("a building deployment is failed with the reason, its operation too, and a first-time app fails", async () => {
    const seeded = await seed("building", { ago: deploymentLimitMs("building", limits) + MINUTE });
    const report = await expire();
    const after = await rows(seeded);
    expect(report.deployments).toContain(seeded.deployment.id);
    expect(after.deployment.status).toBe("failed");
    expect(after.deployment.error).toBe(
      "The build was interrupted and did not finish within its time limit. Deploy again.",
    );
    expect(after.deployment.finishedAt).not.toBeNull();
    expect(parsePhases(after.deployment.phases).find((p) => p.name === "building")?.status).toBe("failed");
    expect(after.operation.status).toBe("failed");
    expect(after.operation.error).toBe(after.deployment.error);
    expect(after.app.status).toBe("failed");
  });

  it("a releasing deployment of a running app fails, the app keeps running, its starting replicas go", async () => {
    const seeded = await seed("releasing", {
      ago: deploymentLimitMs("releasing", limits) + MINUTE,
      appStatus: "running",
      previous: true,
    });
    await getDb().replica.create({
      data: {
        appId: seeded.app.id,
        deploymentId: seeded.deployment.id,
        index: 0,
        containerName: `tsl-${randomBytes(6).toString("hex")}-2-0`,
        status: "starting",
      },
    });
    await expire();
    const after = await rows(seeded);
    expect(after.deployment.status).toBe("failed");
    expect(after.deployment.error).toBe(
      "The release was interrupted and did not finish within its time limit; the previous release keeps serving.",
    );
    expect(after.operation.status).toBe("failed");
    expect(after.app.status).toBe("running");
    expect(await getDb().replica.count({ where: { deploymentId: seeded.deployment.id } })).toBe(0);
  });

  it("a queued deployment fails; a stopped app with an earlier release becomes stopped", async () => {
    const seeded = await seed("queued", { ago: deploymentLimitMs("queued", limits) + MINUTE, previous: true });
    await expire();
    const after = await rows(seeded);
    expect(after.deployment.status).toBe("failed");
    expect(after.deployment.error).toMatch(/did not start within its time limit/);
    expect(after.operation.status).toBe("failed");
    expect(after.app.status).toBe("stopped");
  });

  it("a stuck deployment whose cancel was asked ends cancelled and a first-time app is back to created", async () => {
    const seeded = await seed("building", { ago: deploymentLimitMs("building", limits) + MINUTE, cancel: true });
    await expire();
    const after = await rows(seeded);
    expect(after.deployment.status).toBe("cancelled");
    expect(after.operation.status).toBe("failed");
    expect(after.app.status).toBe("created");
  });

  it("leaves deployments within their limit untouched", async () => {
    const building = await seed("building", { ago: deploymentLimitMs("building", limits) - MINUTE });
    const releasing = await seed("releasing", { ago: deploymentLimitMs("releasing", limits) - MINUTE });
    const queued = await seed("queued", { ago: deploymentLimitMs("queued", limits) - MINUTE });
    await expire();
    for (const seeded of [building, releasing, queued]) {
      const after = await rows(seeded);
      expect(after.deployment.status).toBe(seeded.deployment.status);
      expect(after.deployment.error).toBeNull();
      expect(after.operation.status).not.toBe("failed");
      expect(after.app.status).toBe("deploying");
    }
  });

  it("never touches a finished deployment, however old", async () => {
    const finished = await Promise.all(
      (["running", "superseded", "failed", "cancelled"] as const).map((status) =>
        seed(status, { ago: 30 * 24 * 60 * MINUTE, appStatus: "running" }),
      ),
    );
    // Their operations are another matter (below): only the deployment and its app are compared.
    const read = async () =>
      (await Promise.all(finished.map((seeded) => rows(seeded)))).map(({ app, deployment }) => ({ app, deployment }));
    const before = await read();
    await expire();
    expect(await read()).toEqual(before);
  });

  it("a job that wrote after the row was read wins: the guarded write leaves its row alone", async () => {
    const seeded = await seed("building", { ago: deploymentLimitMs("building", limits) + MINUTE });
    const read = await getDb().deployment.findUniqueOrThrow({ where: { id: seeded.deployment.id } });
    // The build was alive after all: it finishes between the reconciler's read and its write.
    expect(await markBuilt(getDb(), seeded.deployment.id)).toBe(true);
    const moved = await expireDeployments(getDb(), [{ ...read, outcome: "failed", reason: "too late" }]);
    expect(moved).toEqual([]);
    expect((await rows(seeded)).deployment.status).toBe("built");
  });

  it("a job that recorded a step after the row was read wins, though its status did not change", async () => {
    const seeded = await seed("building", { ago: deploymentLimitMs("building", limits) + MINUTE });
    const read = await getDb().deployment.findUniqueOrThrow({ where: { id: seeded.deployment.id } });
    // Still building, but alive: it entered a phase between the reconciler's read and its write.
    await getDb().deployment.update({ where: { id: seeded.deployment.id }, data: { commitSha: "a".repeat(40) } });
    expect(await expireDeployments(getDb(), [{ ...read, outcome: "failed", reason: "too late" }])).toEqual([]);
    expect((await rows(seeded)).deployment.status).toBe("building");
  });

  it("a job that writes after the expiry is refused by its own guard", async () => {
    const seeded = await seed("queued", { ago: deploymentLimitMs("queued", limits) + MINUTE });
    await expire();
    expect(await startBuilding(getDb(), seeded.deployment.id)).toBe(false);
    expect((await rows(seeded)).deployment.status).toBe("failed");
  });

  it("issues the same number of statements for one stuck deployment as for five", async () => {
    const ago = deploymentLimitMs("building", limits) + MINUTE;
    await seed("building", { ago });
    const one = await countQueries(expire);
    for (let i = 0; i < 5; i++) await seed("building", { ago });
    const five = await countQueries(expire);
    expect(one.result.deployments).toHaveLength(1);
    expect(five.result.deployments).toHaveLength(5);
    expect(five.count).toBe(one.count);
  });
});

describe("deploy operations whose deployment already ended", () => {
  it("end as their deployment did, once quiet for the margin", async () => {
    const failed = await seed("failed", { ago: 2 * limits.marginMs });
    await getDb().deployment.update({ where: { id: failed.deployment.id }, data: { error: "The build failed." } });
    await age("Operation", failed.operation.id, 2 * limits.marginMs);
    const live = await seed("running", { ago: 2 * limits.marginMs, appStatus: "running" });
    const recent = await seed("failed", { ago: 0 });
    const db = getDb();
    const report = await expire();
    expect(report.operations).toEqual(expect.arrayContaining([failed.operation.id, live.operation.id]));
    const failedOp = await db.operation.findUniqueOrThrow({ where: { id: failed.operation.id } });
    expect(failedOp.status).toBe("failed");
    expect(failedOp.error).toBe("The build failed.");
    expect((await db.operation.findUniqueOrThrow({ where: { id: live.operation.id } })).status).toBe("succeeded");
    expect((await db.operation.findUniqueOrThrow({ where: { id: recent.operation.id } })).status).toBe("running");
  });
});

describe("operations of other kinds", () => {
  async function provisioning(ago: number) {
    const db = getDb();
    const database = await db.tenantDatabase.create({
      data: { teamId, name: `db${randomBytes(3).toString("hex")}`, status: "provisioning" },
    });
    const operation = await createOperation(db, {
      kind: "database.provision",
      teamId,
      target: { type: "database", id: database.id },
    });
    await db.operation.update({ where: { id: operation.id }, data: { status: "running" } });
    await age("Operation", operation.id, ago);
    return { database, operation };
  }

  it("waits for the job's whole retry span: the limit covers every attempt and the backoff between them", () => {
    const span = operationLimitMs("database.provision", limits);
    // Eight attempts with e^1..e^7 seconds between them: over half an hour.
    expect(catalog.tenant_db__provision.maxAttempts).toBe(8);
    expect(span).toBeGreaterThan(30 * MINUTE);
    expect(operationLimitMs("team.delete", limits)).toBeGreaterThan(3 * 60 * MINUTE);
  });

  it("a provisioning past its limit fails with a reason and so does its database; one within it is untouched", async () => {
    const limit = operationLimitMs("database.provision", limits);
    const stuck = await provisioning(limit + MINUTE);
    const alive = await provisioning(limit - MINUTE);
    const report = await expire();
    const db = getDb();
    expect(report.operations).toContain(stuck.operation.id);
    expect(report.operations).not.toContain(alive.operation.id);
    const failed = await db.operation.findUniqueOrThrow({ where: { id: stuck.operation.id } });
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(/did not finish within its time limit/);
    expect((await db.tenantDatabase.findUniqueOrThrow({ where: { id: stuck.database.id } })).status).toBe("failed");
    expect((await db.operation.findUniqueOrThrow({ where: { id: alive.operation.id } })).status).toBe("running");
    expect((await db.tenantDatabase.findUniqueOrThrow({ where: { id: alive.database.id } })).status).toBe(
      "provisioning",
    );
  });

  it("never touches a finished operation", async () => {
    const db = getDb();
    const operation = await createOperation(db, {
      kind: "app.restart",
      teamId,
      target: { type: "app", id: randomUUID() },
    });
    await db.operation.update({ where: { id: operation.id }, data: { status: "succeeded" } });
    await age("Operation", operation.id, 30 * 24 * 60 * MINUTE);
    await expire();
    expect((await db.operation.findUniqueOrThrow({ where: { id: operation.id } })).status).toBe("succeeded");
  });
});
