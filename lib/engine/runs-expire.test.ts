// Runs have a time limit like deployments (lib/engine/expire.ts → expireRuns): a run left running by a killed worker
// ends timed_out past its own timeout plus the margin, one never started fails past the queued limit, their operations
// fail with the reason, and runs within their limits are left alone.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { createOperation } from "@/lib/domain/operations";
import { EXPIRY_MARGIN_MS, expireStuck } from "@/lib/engine/expire";
import { RUN_QUEUED_LIMIT_MS } from "@/lib/engine/runs";
import type { RunStatus } from "@/lib/generated/prisma/client";
import { createTestTeam, createTestUser, userCtx } from "@/test/factories";
import { silentLog } from "@/test/release-helpers";

const limits = { buildMs: 60_000, releaseMs: 60_000, marginMs: EXPIRY_MARGIN_MS };

async function seedRun(appId: string, teamId: string, status: RunStatus, at: { startedAt?: Date; queuedAt?: Date }) {
  const operation = await createOperation(getDb(), { kind: "app.run", teamId });
  await getDb().operation.update({ where: { id: operation.id }, data: { status: "running" } });
  return await getDb().run.create({
    data: {
      appId,
      teamId,
      kind: "oneoff",
      command: "sleep 1000",
      status,
      timeoutSeconds: 60,
      operationId: operation.id,
      ...(at.startedAt ? { startedAt: at.startedAt } : {}),
      ...(at.queuedAt ? { queuedAt: at.queuedAt, createdAt: at.queuedAt } : {}),
    },
  });
}

describe("expireStuck and runs", () => {
  it("ends runs past their limits with a reason and fails their operations; leaves the others", async () => {
    const user = await createTestUser();
    const team = await createTestTeam(user.id);
    const app = await createApp(getDb(), await userCtx(user.id, team.id), {
      name: `web-${randomBytes(3).toString("hex")}`,
    });
    const now = Date.now();
    const stuck = await seedRun(app.id, team.id, "running", {
      startedAt: new Date(now - 60_000 - EXPIRY_MARGIN_MS - 1_000),
    });
    const alive = await seedRun(app.id, team.id, "running", { startedAt: new Date(now - 60_000) });
    const lost = await seedRun(app.id, team.id, "queued", {
      queuedAt: new Date(now - RUN_QUEUED_LIMIT_MS - EXPIRY_MARGIN_MS - 1_000),
    });
    const waiting = await seedRun(app.id, team.id, "queued", { queuedAt: new Date(now - 60_000) });

    await expireStuck({ db: getDb(), log: silentLog, limits, now: () => now });

    const byId = async (id: string) => await getDb().run.findUniqueOrThrow({ where: { id } });
    expect(await byId(stuck.id)).toMatchObject({
      status: "timed_out",
      reason: "The run was interrupted and did not finish within its time limit.",
    });
    expect(await byId(lost.id)).toMatchObject({ status: "failed" });
    expect((await byId(alive.id)).status).toBe("running");
    expect((await byId(waiting.id)).status).toBe("queued");
    expect(await getDb().operation.findUniqueOrThrow({ where: { id: stuck.operationId ?? "" } })).toMatchObject({
      status: "failed",
      error: "The run was interrupted and did not finish within its time limit.",
    });
    expect((await getDb().operation.findUniqueOrThrow({ where: { id: alive.operationId ?? "" } })).status).toBe(
      "running",
    );
  });
});
