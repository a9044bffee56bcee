// The Deployments list's loader (#18): a page of deployments with who started each, in a constant number of queries
// whatever the number of deployments and starters.
import { describe, expect, it } from "vitest";
import { loadDeployments } from "@/app/(portal)/teams/[teamId]/apps/[appId]/deployments/deployments-data";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { addMember, createTestTeam, createTestUser, userCtx } from "@/test/factories";

async function appWithDeployments(count: number, starters: string[]) {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const ctx = await userCtx(owner.id, team.id);
  const app = await createApp(getDb(), ctx, { name: `list-${count}` });
  for (let index = 0; index < count; index += 1) {
    await getDb().deployment.create({
      data: {
        appId: app.id,
        teamId: team.id,
        number: index + 1,
        status: index % 2 === 0 ? "failed" : "superseded",
        error: index % 2 === 0 ? "The image build failed. The end of the build log:\nERROR: boom" : null,
        failureSide: index % 2 === 0 ? "tenant" : null,
        sourceType: "upload",
        trigger: index === 0 ? "push" : "manual",
        createdBy: index === 0 ? null : (starters[index % starters.length] ?? owner.id),
        createdAt: new Date(Date.UTC(2026, 0, 1, index)),
        finishedAt: new Date(Date.UTC(2026, 0, 1, index, 2, 5)),
      },
    });
  }
  return { ctx, app, owner, team };
}

describe("loadDeployments", () => {
  it("lists deployments with their starters in the same number of queries for 2 or 12 of them", async () => {
    const one = await appWithDeployments(2, []);
    const a = await createTestUser();
    const b = await createTestUser();
    const many = await appWithDeployments(12, [a.id, b.id]);
    await addMember(many.team.id, a.id, "member");
    const few = await countQueries(() => loadDeployments(getDb(), one.ctx, one.app.id, { limit: 25 }));
    const lots = await countQueries(() => loadDeployments(getDb(), many.ctx, many.app.id, { limit: 25 }));
    expect(few.result.items).toHaveLength(2);
    expect(lots.result.items).toHaveLength(12);
    expect(lots.count).toBe(few.count);
    // Newest first; #12 was started by b (index 11 → starters[1]), #1 by a push (no member).
    expect(lots.result.items[0]).toMatchObject({ number: 12, startedBy: b.name || b.email });
    expect(lots.result.items[1]).toMatchObject({ number: 11, startedBy: a.name || a.email });
    expect(lots.result.items.at(-1)).toMatchObject({ number: 1, startedBy: null, trigger: "push" });
    expect(lots.result.items.at(-1)?.failureSide).toBe("tenant");
  });
});
