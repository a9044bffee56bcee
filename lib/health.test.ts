import { beforeEach, describe, expect, it } from "vitest";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { getHealth, WORKER_STALE_AFTER_MS } from "@/lib/health";

async function beat(ageMs: number) {
  const beatAt = new Date(Date.now() - ageMs);
  await getDb().workerHeartbeat.create({
    data: { workerId: crypto.randomUUID(), hostname: "test", pid: 1, startedAt: beatAt, beatAt },
  });
}

describe("getHealth", () => {
  beforeEach(async () => {
    await getDb().workerHeartbeat.deleteMany();
  });

  it("reports the worker unavailable when no worker ever beat", async () => {
    const health = await getHealth(getDb());
    expect(health.status).toBe("unavailable");
    expect(health.checks.database.status).toBe("ok");
    expect(health.checks.worker).toEqual({ status: "unavailable", heartbeatAgeSeconds: null });
  });

  it("is healthy with a fresh heartbeat", async () => {
    await beat(1_000);
    const health = await getHealth(getDb());
    expect(health.status).toBe("ok");
    expect(health.checks.worker.status).toBe("ok");
    expect(health.checks.worker.heartbeatAgeSeconds).toBeGreaterThanOrEqual(1);
  });

  it("reports a stale heartbeat as unavailable, judging by the newest one", async () => {
    await beat(WORKER_STALE_AFTER_MS + 60_000);
    expect((await getHealth(getDb())).checks.worker.status).toBe("unavailable");
    await beat(0);
    expect((await getHealth(getDb())).checks.worker.status).toBe("ok");
  });

  it("issues one query however many workers beat", async () => {
    await beat(0);
    const one = await countQueries(() => getHealth(getDb()));
    for (let i = 0; i < 5; i++) await beat(i * 1000);
    const many = await countQueries(() => getHealth(getDb()));
    expect(one.count).toBe(1);
    expect(many.count).toBe(one.count);
  });

  it("reports the database unavailable when it cannot be reached", async () => {
    const { createPrismaClient } = await import("@/lib/db");
    const unreachable = createPrismaClient("postgresql://nobody:nothing@127.0.0.1:1/none", 1);
    const health = await getHealth(unreachable);
    expect(health.status).toBe("unavailable");
    expect(health.checks.database).toEqual({ status: "unavailable", latencyMs: null });
    await unreachable.$disconnect();
  });
});
