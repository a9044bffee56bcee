// Periodic (jobs/crontab.ts): removes what the tenant servers hold for resources the platform no longer knows: roles
// and databases named `t_<hex>` on the tenant PostgreSQL and ACL users `t_<hex>` (with their keys) on the tenant
// Redis whose TenantDatabase / TenantRedis row is gone. They are left behind when a job was mid-step while its team
// was deleted, or by a crash between a deprovision and the row's deletion. Idempotent: removal is the adapters'
// deprovision, which counts whatever is already gone as done.
//
// The server is listed before the rows are read: a role exists only after its row was committed, so a resource
// being created right now always has its row by the time it is looked up. A row in any status (deleting too) keeps
// its resources: their own jobs handle them. The tenant servers must be this installation's alone: a `t_<hex>` of
// another installation sharing the server would look like an orphan here.
import type { Logger } from "pino";
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { errorFields } from "@/jobs/tenant-services";
import type { Db } from "@/lib/db";
import { deprovisionTenantDatabase, listTenantResourceIds } from "@/lib/infra/tenant-postgres";
import { deprovisionTenantRedis, listTenantRedisResourceIds, type TenantRedisAdmin } from "@/lib/infra/tenant-redis";
import { tenantPostgresConfig, tenantRedisConfig } from "@/lib/services/tenant-services";
import { syncTenantPgBouncer } from "@/lib/services/tenant-services-pgbouncer";

export type SweepInput = {
  db: Db;
  log: Logger;
  /** The tenant PostgreSQL's admin URL, or null when there is none. */
  postgresAdminUrl: string | null;
  redisAdmin: TenantRedisAdmin | null;
  /** Only these resource IDs are considered (tests share their servers with other test files). */
  only?: (resourceId: string) => boolean;
};

export type SweepResult = { databases: string[]; redis: string[] };

async function orphansOf(listed: string[], known: (ids: string[]) => Promise<{ id: string }[]>): Promise<string[]> {
  if (listed.length === 0) return [];
  const rows = new Set((await known(listed)).map((row) => row.id));
  return listed.filter((id) => !rows.has(id));
}

/** Removes orphaned tenant resources; returns the resource IDs it removed. One failure does not stop the rest. */
export async function sweepTenantOrphans(input: SweepInput): Promise<SweepResult> {
  const { db, log } = input;
  const keep = input.only ?? (() => true);
  const result: SweepResult = { databases: [], redis: [] };
  let failures = 0;

  if (input.postgresAdminUrl) {
    const admin = input.postgresAdminUrl;
    const listed = (await listTenantResourceIds(admin)).filter(keep);
    const orphans = await orphansOf(listed, (ids) =>
      db.tenantDatabase.findMany({ where: { id: { in: ids } }, select: { id: true } }),
    );
    for (const resourceId of orphans) {
      try {
        await deprovisionTenantDatabase(admin, { resourceId });
        result.databases.push(resourceId);
        log.info({ resourceId }, "removed an orphaned tenant database and its role");
      } catch (error) {
        failures += 1;
        log.warn({ resourceId, ...errorFields(error) }, "could not remove an orphaned tenant database");
      }
    }
  }

  if (input.redisAdmin) {
    const admin = input.redisAdmin;
    const listed = (await listTenantRedisResourceIds(admin)).filter(keep);
    const orphans = await orphansOf(listed, (ids) =>
      db.tenantRedis.findMany({ where: { id: { in: ids } }, select: { id: true } }),
    );
    for (const resourceId of orphans) {
      try {
        const { keysDeleted } = await deprovisionTenantRedis(admin, { resourceId });
        result.redis.push(resourceId);
        log.info({ resourceId, keysDeleted }, "removed an orphaned tenant Redis user and its keys");
      } catch (error) {
        failures += 1;
        log.warn({ resourceId, ...errorFields(error) }, "could not remove an orphaned tenant Redis user");
      }
    }
  }

  if (failures > 0) throw new Error(`${failures} orphaned tenant resources could not be removed; see the log`);
  return result;
}

export const tenantServicesSweep = defineTask(catalog.tenant_services__sweep, {
  async run(_payload, { db, log }) {
    const redis = tenantRedisConfig();
    const result = await sweepTenantOrphans({
      db,
      log,
      postgresAdminUrl: tenantPostgresConfig()?.adminUrl ?? null,
      redisAdmin: redis?.admin ?? null,
    });
    // Also the hourly catch-up of PgBouncer's per-user limits, should a job's sync have failed.
    await syncTenantPgBouncer(db, log);
    const removed = result.databases.length + result.redis.length;
    if (removed > 0)
      log.info({ databases: result.databases.length, redis: result.redis.length }, "tenant orphans swept");
  },
});
