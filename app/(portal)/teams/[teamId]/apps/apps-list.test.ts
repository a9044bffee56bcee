// The apps list shows each app's newest deployment without a query per app (the N+1 guard).
import { describe, expect, it } from "vitest";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { createTestTeam, createTestUser, userCtx } from "@/test/factories";
import { listAppsWithLatestDeployment } from "./apps-list";

async function seedApps(teamId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const app = await getDb().app.create({ data: { teamId, name: `app-${i}-${crypto.randomUUID().slice(0, 6)}` } });
    for (const number of [1, 2]) {
      await getDb().deployment.create({
        data: { appId: app.id, teamId, number, sourceType: "upload", status: number === 2 ? "built" : "failed" },
      });
    }
  }
}

describe("listAppsWithLatestDeployment", () => {
  it("keeps a constant number of queries and picks the newest deployment of each app", async () => {
    const owner = await createTestUser();
    const small = await createTestTeam(owner.id);
    const large = await createTestTeam(owner.id);
    await seedApps(small.id, 2);
    await seedApps(large.id, 12);
    const smallCtx = await userCtx(owner.id, small.id);
    const largeCtx = await userCtx(owner.id, large.id);
    const few = await countQueries(() => listAppsWithLatestDeployment(getDb(), smallCtx, { limit: 50 }));
    const many = await countQueries(() => listAppsWithLatestDeployment(getDb(), largeCtx, { limit: 50 }));
    expect(many.result.items).toHaveLength(12);
    expect(many.count).toBe(few.count);
    for (const row of many.result.items) expect(row.latest).toMatchObject({ number: 2, status: "built" });
  });
});
