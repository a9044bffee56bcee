// What the portal's database and Redis pages read, for both kinds at once: a page of services with the names of
// the apps they are attached to (two queries, however long the page), one service with the operation still running
// on it, and the short status snapshots the pages poll. Authorization is the domain's (databases:read).

import type { ServiceKind, ServiceRow, ServiceSnapshot } from "@/components/services/service-types";
import type { Db } from "@/lib/db";
import { authorize, type Ctx } from "@/lib/domain/context";
import { type DatabaseView, getDatabase, listDatabases } from "@/lib/domain/databases";
import type { Page, PageInput } from "@/lib/domain/pagination";
import { getRedis, listRedis, type RedisView } from "@/lib/domain/redis";

function toRow(view: DatabaseView | RedisView, appNames: Map<string, string>): ServiceRow {
  return {
    id: view.id,
    name: view.name,
    status: view.status,
    error: view.error,
    appId: view.appId,
    appName: view.appId ? (appNames.get(view.appId) ?? null) : null,
    limits: "limits" in view ? view.limits : null,
    createdAt: view.createdAt,
  };
}

async function appNamesOf(db: Db, ctx: Ctx, ids: (string | null)[]): Promise<Map<string, string>> {
  const wanted = [...new Set(ids.filter((id): id is string => id !== null))];
  if (wanted.length === 0) return new Map();
  const apps = await db.app.findMany({
    where: { teamId: ctx.teamId, id: { in: wanted } },
    select: { id: true, name: true },
  });
  return new Map(apps.map((app) => [app.id, app.name]));
}

export type ServicesPage = Page<ServiceRow> & { pending: Record<string, string | null> };

/** A page of services with their apps' names and the operations still running on them: three queries. */
export async function listServicesWithApps(
  db: Db,
  ctx: Ctx,
  kind: ServiceKind,
  page: PageInput,
): Promise<ServicesPage> {
  const services: Page<DatabaseView | RedisView> =
    kind === "database" ? await listDatabases(db, ctx, page) : await listRedis(db, ctx, page);
  const names = await appNamesOf(
    db,
    ctx,
    services.items.map((service) => service.appId),
  );
  const pending = await pendingOperations(
    db,
    ctx,
    kind,
    services.items.map((service) => service.id),
  );
  return {
    items: services.items.map((service) => toRow(service, names)),
    nextCursor: services.nextCursor,
    pending: Object.fromEntries(services.items.map((service) => [service.id, pending.get(service.id) ?? null])),
  };
}

async function pendingOperations(db: Db, ctx: Ctx, kind: ServiceKind, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const operations = await db.operation.findMany({
    where: { teamId: ctx.teamId, targetType: kind, targetId: { in: ids }, status: { in: ["queued", "running"] } },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    select: { targetId: true, kind: true },
  });
  // The newest one per service wins.
  return new Map(operations.map((operation) => [operation.targetId ?? "", operation.kind]));
}

export type ServiceDetail = {
  service: ServiceRow;
  /** The operation still running on it, e.g. "database.rotate", or null. */
  pending: string | null;
  /** The team's apps it can be attached to, by name. */
  apps: { id: string; name: string }[];
};

/** One service with its pending operation and the apps to choose from; not_found for another team's. */
export async function serviceDetail(db: Db, ctx: Ctx, kind: ServiceKind, id: string): Promise<ServiceDetail> {
  const view = kind === "database" ? await getDatabase(db, ctx, id) : await getRedis(db, ctx, id);
  const apps = await db.app.findMany({
    where: { teamId: ctx.teamId, status: { not: "deleting" } },
    orderBy: [{ name: "asc" }, { id: "asc" }],
    select: { id: true, name: true },
    take: 500,
  });
  const names = new Map(apps.map((app) => [app.id, app.name]));
  const pending = await pendingOperations(db, ctx, kind, [id]);
  return { service: toRow(view, names), pending: pending.get(id) ?? null, apps };
}

/**
 * Snapshots of the given services of the team (null: gone, or never the team's). Two queries whatever the number.
 */
export async function serviceSnapshots(
  db: Db,
  ctx: Ctx,
  kind: ServiceKind,
  ids: string[],
): Promise<Record<string, ServiceSnapshot | null>> {
  authorize(ctx, "databases:read");
  const where = { teamId: ctx.teamId, id: { in: ids } };
  const select = { id: true, status: true, error: true } as const;
  const rows =
    kind === "database"
      ? await db.tenantDatabase.findMany({ where, select })
      : await db.tenantRedis.findMany({ where, select });
  const pending = await pendingOperations(
    db,
    ctx,
    kind,
    rows.map((row) => row.id),
  );
  const result: Record<string, ServiceSnapshot | null> = Object.fromEntries(ids.map((id) => [id, null]));
  for (const row of rows) {
    result[row.id] = { status: row.status, pending: pending.get(row.id) ?? null, error: row.error };
  }
  return result;
}
