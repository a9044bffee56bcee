// What the settings page shows next to each override (#18): what the latest build detected, from the plan the build
// job stored on its deployment (Deployment.plan), and which source that build came from. One query. The plan records
// what the build used, overrides included, so the page says "detected" only for settings that were empty then.
import { type PlanView, parsePlan } from "@/components/apps/deployment-snapshot";
import type { Db } from "@/lib/db";
import { authorize, type Ctx } from "@/lib/domain/context";
import { Prisma } from "@/lib/generated/prisma/client";

export type DetectedSettings = {
  deploymentNumber: number;
  source: { type: "git"; url: string; ref: string | null } | { type: "upload" };
  plan: PlanView;
};

export async function latestDetected(db: Db, ctx: Ctx, appId: string): Promise<DetectedSettings | null> {
  authorize(ctx, "apps:read");
  const row = await db.deployment.findFirst({
    where: { appId, teamId: ctx.teamId, plan: { not: Prisma.AnyNull } },
    orderBy: { number: "desc" },
    select: { number: true, plan: true, sourceType: true, gitUrl: true, gitRef: true },
  });
  const plan = row ? parsePlan(row.plan) : null;
  if (!row || !plan) return null;
  return {
    deploymentNumber: row.number,
    source:
      row.sourceType === "git" && row.gitUrl ? { type: "git", url: row.gitUrl, ref: row.gitRef } : { type: "upload" },
    plan,
  };
}
