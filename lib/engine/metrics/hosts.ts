// Which app a request's host belongs to, for the access-log ingester: the platform's own hostname of every app
// (`<app>-<team slug>.<apps domain>`, as routing renders it) and the verified custom domains. One findMany (its
// domains relation is one more statement, not one per app). The oldest app keeps a hostname two would share, as
// routing does (lib/engine/routing.ts), so a request is never counted for an app Caddy did not send it to.
import type { Db } from "@/lib/db";

export async function hostMap(db: Db, appsDomain: string): Promise<Map<string, string>> {
  const apps = await db.app.findMany({
    where: { status: { not: "deleting" } },
    select: {
      id: true,
      name: true,
      team: { select: { slug: true } },
      domains: { where: { status: "verified" }, select: { hostname: true } },
    },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  const map = new Map<string, string>();
  const domain = appsDomain.toLowerCase().replace(/\.$/, "");
  for (const app of apps) {
    const own = `${app.name}-${app.team.slug}.${domain}`.toLowerCase();
    if (!map.has(own)) map.set(own, app.id);
    for (const { hostname } of app.domains) {
      const name = hostname.toLowerCase();
      if (!map.has(name)) map.set(name, app.id);
    }
  }
  return map;
}
