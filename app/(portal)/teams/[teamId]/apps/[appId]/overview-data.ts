// The app overview's summary cards (#18 point 7): what is attached (databases, Redis, with links), the processes of
// the current release, the custom domains and the cron jobs, so each tab has its place on the overview. One query
// whatever the counts: the app row with its attachments, domain hostnames (a few) and cron counts.
import type { Db } from "@/lib/db";
import { authorize, type Ctx } from "@/lib/domain/context";
import { AppError } from "@/lib/errors";

export type OverviewSummary = {
  databases: { id: string; name: string; status: string }[];
  redis: { id: string; name: string; status: string }[];
  processTypes: string[];
  domains: { hostname: string; status: string }[];
  domainCount: number;
  cron: { total: number; enabled: number };
};

/** Shown by name on the overview; the Domains tab lists them all. */
const DOMAINS_SHOWN = 3;

export async function overviewSummary(db: Db, ctx: Ctx, appId: string): Promise<OverviewSummary> {
  authorize(ctx, "apps:read");
  const app = await db.app.findFirst({
    where: { id: appId, teamId: ctx.teamId },
    select: {
      processTypes: true,
      databases: { orderBy: { createdAt: "asc" }, select: { id: true, name: true, status: true } },
      redises: { orderBy: { createdAt: "asc" }, select: { id: true, name: true, status: true } },
      domains: { orderBy: { hostname: "asc" }, take: DOMAINS_SHOWN, select: { hostname: true, status: true } },
      cronJobs: { select: { enabled: true } },
      _count: { select: { domains: true } },
    },
  });
  if (!app) throw new AppError("not_found", "App not found.");
  return {
    databases: app.databases,
    redis: app.redises,
    processTypes: app.processTypes,
    domains: app.domains,
    domainCount: app._count.domains,
    cron: { total: app.cronJobs.length, enabled: app.cronJobs.filter((job) => job.enabled).length },
  };
}
