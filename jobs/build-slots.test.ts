// Build slots: a team's builds go to at most concurrentBuilds graphile-worker queues, so with a quota of 1 two builds
// of one team never run at once, while another team's build runs beside them. Run through a real graphile-worker
// with a probe in place of deployment__build (the build itself is tested in jobs/tasks/deployment__build.test.ts).
import { randomBytes, randomUUID } from "node:crypto";
import { run } from "graphile-worker";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { enqueue } from "@/jobs/enqueue";
import { buildQueue } from "@/jobs/queues";
import { workerLogger } from "@/lib/database/migrate";
import { getDb } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { createTestTeam, createTestUser } from "@/test/factories";
import { withRawClient } from "@/test/helpers";

async function teamWithBuildQuota(concurrentBuilds: number): Promise<{ teamId: string; appId: string }> {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  await getDb().teamQuota.create({ data: { teamId: team.id, concurrentBuilds } });
  const app = await getDb().app.create({ data: { teamId: team.id, name: `app-${randomBytes(4).toString("hex")}` } });
  return { teamId: team.id, appId: app.id };
}

let number = 0;
/** A deployment and its build job, enqueued the way createDeployment does (no queue given). */
async function queueBuild(team: { teamId: string; appId: string }): Promise<string> {
  number += 1;
  const deployment = await getDb().deployment.create({
    data: { appId: team.appId, teamId: team.teamId, number, sourceType: "upload" },
  });
  await getDb().$transaction(async (tx) => {
    await enqueue(tx, "deployment__build", { deploymentId: deployment.id, operationId: randomUUID() });
  });
  return deployment.id;
}

async function queueOf(deploymentId: string): Promise<string | null> {
  return await withRawClient(async (client) => {
    const result = await client.query<{ queue_name: string | null }>(
      // The public view hides payloads: read graphile-worker's private tables (tests only).
      `SELECT q.queue_name FROM graphile_worker._private_jobs j
       LEFT JOIN graphile_worker._private_job_queues q ON q.id = j.job_queue_id
       WHERE j.payload->>'deploymentId' = $1`,
      [deploymentId],
    );
    return result.rows[0]?.queue_name ?? null;
  });
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe("build slots", () => {
  it("spreads a team's builds over its slots, least busy first, and keeps teams apart", async () => {
    const two = await teamWithBuildQuota(2);
    const other = await teamWithBuildQuota(2);
    try {
      const first = await queueBuild(two);
      const second = await queueBuild(two);
      const third = await queueBuild(two);
      const elsewhere = await queueBuild(other);
      expect(await queueOf(first)).toBe(buildQueue(two.teamId, 0));
      expect(await queueOf(second)).toBe(buildQueue(two.teamId, 1));
      expect(await queueOf(third)).toBe(buildQueue(two.teamId, 0));
      expect(await queueOf(elsewhere)).toBe(buildQueue(other.teamId, 0));
    } finally {
      // Not for the next test's worker to run.
      await withRawClient((client) => client.query("DELETE FROM graphile_worker._private_jobs"));
    }
  });

  it("with a quota of 1, never runs two builds of a team at once, while another team's build runs", async () => {
    const teamA = await teamWithBuildQuota(1);
    const teamB = await teamWithBuildQuota(1);
    const a1 = await queueBuild(teamA);
    const a2 = await queueBuild(teamA);
    const b1 = await queueBuild(teamB);
    const teamOf = new Map([
      [a1, "A"],
      [a2, "A"],
      [b1, "B"],
    ]);

    const started: string[] = [];
    const running = new Map<string, number>();
    let mostOfOneTeam = 0;
    const release = new Map<string, () => void>();
    const runner = await run({
      connectionString: getEnv().databaseDirectUrl,
      concurrency: 3,
      pollInterval: 50,
      noHandleSignals: true,
      logger: workerLogger(pino({ level: "silent" })),
      taskList: {
        deployment__build: async (payload) => {
          const id = (payload as { deploymentId: string }).deploymentId;
          const team = teamOf.get(id) ?? "?";
          running.set(team, (running.get(team) ?? 0) + 1);
          mostOfOneTeam = Math.max(mostOfOneTeam, running.get(team) ?? 0);
          started.push(id);
          await new Promise<void>((resolve) => release.set(id, resolve));
          running.set(team, (running.get(team) ?? 0) - 1);
        },
      },
    });
    try {
      await until(() => started.includes(a1) && started.includes(b1));
      // A worker that is free asks for a job after both started and gets none: A's second build waits.
      let emptyPolls = 0;
      runner.events.on("worker:getJob:empty", () => {
        emptyPolls += 1;
      });
      await until(() => emptyPolls >= 2 || started.includes(a2));
      expect(started).not.toContain(a2);
      expect(running.get("B")).toBe(1);

      release.get(a1)?.();
      await until(() => started.includes(a2));
      // B's build ran beside both of A's.
      expect(running.get("B")).toBe(1);
      release.get(a2)?.();
      release.get(b1)?.();
      await until(() => running.get("A") === 0 && running.get("B") === 0);
      expect(mostOfOneTeam).toBe(1);
    } finally {
      for (const resolve of release.values()) resolve();
      await runner.stop();
    }
  });
});
