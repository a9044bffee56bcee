// What the Deployments list shows (#18): a page of the app's deployments, newest first, with who started each
// (the member's name or email; null for pushes, the system and deleted users). Constant queries whatever the number
// of deployments: one listDeployments page, then one query for the starters' user IDs and one for their names
// (Deployment.createdBy is a plain column, not a relation).
import type { Db } from "@/lib/db";
import type { Ctx } from "@/lib/domain/context";
import { type DeploymentView, listDeployments } from "@/lib/domain/deployments";
import type { Page, PageInput } from "@/lib/domain/pagination";

export type DeploymentItem = DeploymentView & { startedBy: string | null };

async function withStarters(db: Db, deployments: DeploymentView[]): Promise<DeploymentItem[]> {
  if (deployments.length === 0) return [];
  const rows = await db.deployment.findMany({
    where: { id: { in: deployments.map((deployment) => deployment.id) } },
    select: { id: true, createdBy: true },
  });
  const userIds = [...new Set(rows.flatMap((row) => (row.createdBy ? [row.createdBy] : [])))];
  const users =
    userIds.length > 0
      ? await db.user.findMany({ where: { id: { in: userIds } }, select: { id: true, name: true, email: true } })
      : [];
  const nameOf = new Map(users.map((user) => [user.id, user.name || user.email]));
  const starterOf = new Map(rows.map((row) => [row.id, row.createdBy ? (nameOf.get(row.createdBy) ?? null) : null]));
  return deployments.map((deployment) => ({ ...deployment, startedBy: starterOf.get(deployment.id) ?? null }));
}

export async function loadDeployments(db: Db, ctx: Ctx, appId: string, page: PageInput): Promise<Page<DeploymentItem>> {
  const listed = await listDeployments(db, ctx, appId, page);
  return { ...listed, items: await withStarters(db, listed.items) };
}
