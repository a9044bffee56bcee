// The databases and Redis list pages read a constant number of queries however many services and attached apps a
// team has (the N+1 guard), with each service's app name and the operation still running on it.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listServicesWithApps, serviceSnapshots } from "@/app/(portal)/teams/[teamId]/databases/service-data";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import type { Ctx } from "@/lib/domain/context";
import { createDatabase } from "@/lib/domain/databases";
import { createRedis } from "@/lib/domain/redis";
import { resetEnvForTests } from "@/lib/env";
import { createTestTeam, createTestUser, userCtx } from "@/test/factories";

beforeAll(() => {
  process.env.TENANT_PG_ADMIN_URL = "postgresql://tussilago:admin-secret@127.0.0.1:55432/postgres";
  process.env.TENANT_REDIS_ADMIN_URL = "redis://tussilago-admin:admin-secret-0123456789@127.0.0.1:56379";
  resetEnvForTests();
});

afterAll(() => {
  delete process.env.TENANT_PG_ADMIN_URL;
  delete process.env.TENANT_REDIS_ADMIN_URL;
  resetEnvForTests();
});

/** A team with `count` databases and as many Redis instances, each attached to its own app. */
async function seed(count: number): Promise<{ ctx: Ctx; appNames: string[] }> {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const ctx = await userCtx(owner.id, team.id);
  const appNames: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `app-${i}-${randomUUID().slice(0, 6)}`;
    appNames.push(name);
    const app = await getDb().app.create({ data: { teamId: team.id, name } });
    await createDatabase(getDb(), ctx, { name: `db-${i}`, appId: app.id });
    await createRedis(getDb(), ctx, { name: `cache-${i}`, appId: app.id });
  }
  return { ctx, appNames };
}

describe("listServicesWithApps", () => {
  it("keeps a constant number of queries for databases and Redis alike, with app names and pending work", async () => {
    const small = await seed(1);
    const large = await seed(8);
    for (const kind of ["database", "redis"] as const) {
      const few = await countQueries(() => listServicesWithApps(getDb(), small.ctx, kind, { limit: 50 }));
      const many = await countQueries(() => listServicesWithApps(getDb(), large.ctx, kind, { limit: 50 }));
      expect(many.result.items).toHaveLength(8);
      expect(many.count).toBe(few.count);
      expect(new Set(many.result.items.map((row) => row.appName))).toEqual(new Set(large.appNames));
      for (const row of many.result.items) {
        expect(many.result.pending[row.id]).toBe(`${kind}.provision`);
        expect(row.limits === null).toBe(kind === "redis");
      }
      const ids = many.result.items.map((row) => row.id);
      const polled = await countQueries(() => serviceSnapshots(getDb(), large.ctx, kind, ids));
      const polledOne = await countQueries(() => serviceSnapshots(getDb(), large.ctx, kind, ids.slice(0, 1)));
      expect(polled.count).toBe(polledOne.count);
      expect(Object.values(polled.result).every((snapshot) => snapshot?.status === "provisioning")).toBe(true);
    }
  });
});
