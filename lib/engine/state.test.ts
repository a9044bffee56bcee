// The engine's status transitions (lib/engine/state.ts) against the real database: every write moves a row only from
// a status its table allows, and a refused transition changes nothing (status, error, phases, app status stay).
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { initialPhases } from "@/lib/domain/deployment-phases";
import {
  APP_TRANSITIONS,
  canMoveDeployment,
  DEPLOYMENT_TRANSITIONS,
  endDeployment,
  markAppStopped,
  markBuilt,
  markReleased,
  markServingAgain,
  settleDeployingApp,
  startBuilding,
  startReleasing,
  supersedeOthers,
  switchAppTo,
} from "@/lib/engine/state";
import type { AppStatus, DeploymentStatus } from "@/lib/generated/prisma/enums";
import { createTestTeam, createTestUser } from "@/test/factories";

const DEPLOYMENT_STATUSES = Object.keys(DEPLOYMENT_TRANSITIONS) as DeploymentStatus[];
const APP_STATUSES = Object.keys(APP_TRANSITIONS) as AppStatus[];

let teamId: string;

beforeAll(async () => {
  const user = await createTestUser();
  teamId = (await createTestTeam(user.id)).id;
});

async function seed(deploymentStatus: DeploymentStatus, appStatus: AppStatus = "deploying", current = false) {
  const db = getDb();
  const app = await db.app.create({
    data: { teamId, name: `s-${randomBytes(4).toString("hex")}`, status: appStatus },
  });
  const deployment = await db.deployment.create({
    data: {
      appId: app.id,
      teamId,
      number: 1,
      status: deploymentStatus,
      sourceType: "upload",
      error: "before",
      phases: initialPhases(new Date("2026-01-01T00:00:00Z")),
    },
  });
  if (current) await db.app.update({ where: { id: app.id }, data: { currentDeploymentId: deployment.id } });
  return { app, deployment };
}

async function rowsOf(appId: string, deploymentId: string) {
  const db = getDb();
  return {
    app: await db.app.findUniqueOrThrow({ where: { id: appId } }),
    deployment: await db.deployment.findUniqueOrThrow({ where: { id: deploymentId } }),
  };
}

type DeploymentMove = {
  to: DeploymentStatus;
  run: (appId: string, deployment: { id: string; status: DeploymentStatus; phases: unknown }) => Promise<unknown>;
};

const DEPLOYMENT_MOVES: Record<string, DeploymentMove> = {
  startBuilding: { to: "building", run: (_app, d) => startBuilding(getDb(), d.id) },
  markBuilt: { to: "built", run: (_app, d) => markBuilt(getDb(), d.id) },
  startReleasing: { to: "releasing", run: (_app, d) => startReleasing(getDb(), d) },
  endDeployment_failed: { to: "failed", run: (_app, d) => endDeployment(getDb(), d.id, "failed", "broke") },
  endDeployment_cancelled: { to: "cancelled", run: (_app, d) => endDeployment(getDb(), d.id, "cancelled", "stop") },
};

// markReleased, markServingAgain and supersedeOthers are narrower than the table (one source each, by design).
const NARROW_MOVES: Record<string, { to: DeploymentStatus; from: DeploymentStatus[]; run: DeploymentMove["run"] }> = {
  markReleased: { to: "running", from: ["releasing"], run: (_app, d) => markReleased(getDb(), d.id) },
  markServingAgain: {
    to: "running",
    from: ["running", "superseded"],
    run: (_app, d) => markServingAgain(getDb(), d.id),
  },
  supersedeOthers: {
    to: "superseded",
    from: ["running"],
    run: (appId) => supersedeOthers(getDb(), appId, "00000000-0000-4000-8000-000000000000"),
  },
};

describe("deployment transitions", () => {
  for (const [name, move] of Object.entries(DEPLOYMENT_MOVES)) {
    it.each(DEPLOYMENT_STATUSES)(`${name}: from %s only when the table allows it`, async (from) => {
      // The app is not waiting for this deployment: endDeployment settles a "deploying" app even after a refusal.
      const { app, deployment } = await seed(from, "stopped");
      const before = await rowsOf(app.id, deployment.id);
      const result = await move.run(app.id, deployment);
      const after = await rowsOf(app.id, deployment.id);
      if (canMoveDeployment(from, move.to)) {
        expect(result).toBe(true);
        expect(after.deployment.status).toBe(move.to);
      } else {
        expect(result).toBe(false);
        expect(after.deployment).toEqual(before.deployment);
        expect(after.app).toEqual(before.app);
      }
    });
  }

  for (const [name, move] of Object.entries(NARROW_MOVES)) {
    it.each(DEPLOYMENT_STATUSES)(`${name}: from %s only from its own sources`, async (from) => {
      const { app, deployment } = await seed(from);
      const before = await rowsOf(app.id, deployment.id);
      await move.run(app.id, deployment);
      const after = await rowsOf(app.id, deployment.id);
      if (move.from.includes(from)) {
        expect(canMoveDeployment(from, move.to)).toBe(true);
        expect(after.deployment.status).toBe(move.to);
      } else {
        expect(after.deployment).toEqual(before.deployment);
      }
    });
  }

  it("failed and cancelled are final", () => {
    expect(DEPLOYMENT_TRANSITIONS.failed).toEqual([]);
    expect(DEPLOYMENT_TRANSITIONS.cancelled).toEqual([]);
  });

  it("a deployment that did not make it settles its waiting app: stopped, failed, or created when cancelled", async () => {
    const first = await seed("building", "deploying");
    await endDeployment(getDb(), first.deployment.id, "failed", "broke");
    expect((await rowsOf(first.app.id, first.deployment.id)).app.status).toBe("failed");

    const cancelled = await seed("building", "deploying");
    await endDeployment(getDb(), cancelled.deployment.id, "cancelled", "stop");
    expect((await rowsOf(cancelled.app.id, cancelled.deployment.id)).app.status).toBe("created");

    const released = await seed("building", "deploying", true);
    await endDeployment(getDb(), released.deployment.id, "failed", "broke");
    expect((await rowsOf(released.app.id, released.deployment.id)).app.status).toBe("stopped");
  });
});

describe("app transitions", () => {
  it.each(APP_STATUSES)("switchAppTo and markAppStopped: from %s only when the table allows it", async (from) => {
    for (const [to, run] of [
      ["running", (appId: string, deploymentId: string) => switchAppTo(getDb(), appId, deploymentId)],
      ["stopped", (appId: string) => markAppStopped(getDb(), appId)],
    ] as const) {
      const { app, deployment } = await seed("running", from);
      const moved = await run(app.id, deployment.id);
      const after = await rowsOf(app.id, deployment.id);
      expect(moved).toBe(APP_TRANSITIONS[from].includes(to));
      expect(after.app.status).toBe(moved ? to : from);
      if (!moved) expect(after.app.currentDeploymentId).toBe(app.currentDeploymentId);
    }
  });

  it.each(APP_STATUSES)("settleDeployingApp changes only a deploying app (from %s)", async (from) => {
    const { app, deployment } = await seed("failed", from);
    const moved = await settleDeployingApp(getDb(), app.id, "failed");
    expect(moved).toBe(from === "deploying");
    expect((await rowsOf(app.id, deployment.id)).app.status).toBe(from === "deploying" ? "failed" : from);
  });

  it("deleting is never left by the worker", () => {
    expect(APP_TRANSITIONS.deleting).toEqual([]);
  });
});
