// The team's apps with each one's newest deployment, for the overview and the apps page: two queries per page.
import type { Db } from "@/lib/db";
import { type AppView, listApps } from "@/lib/domain/apps";
import type { Ctx } from "@/lib/domain/context";
import { type DeploymentView, latestDeployments } from "@/lib/domain/deployments";
import type { Page, PageInput } from "@/lib/domain/pagination";

export type AppRow = { app: AppView; latest: DeploymentView | null };

export async function listAppsWithLatestDeployment(db: Db, ctx: Ctx, page: PageInput): Promise<Page<AppRow>> {
  const apps = await listApps(db, ctx, page);
  const latest = await latestDeployments(
    db,
    ctx,
    apps.items.map((app) => app.id),
  );
  return { items: apps.items.map((app) => ({ app, latest: latest.get(app.id) ?? null })), nextCursor: apps.nextCursor };
}
