// backup_ms: a tenant database of about 1 GB (100 MB with --quick) backed up the way the worker does it (pg_dump -Fc
// as the tenant role with the row counts taken in the dump's snapshot, then the verification: pg_restore into a
// scratch database, every table counted, scratch dropped) and restored "empty" into a second tenant database. The
// floors, measured in the same run on the same database:
// - dump floor: `pg_dump -Fc --no-sync -f /dev/null` of the same database: no counts, no snapshot transaction of
//   ours, no file written or fsynced;
// - restore floor: a plain `pg_restore --single-transaction` of the same dump into an empty database (no clear, no
//   count, no role switch);
// - copy floor: `COPY items TO '/dev/null'` on the server: reading the table out as text, what any dump pays.
// Its own embedded PostgreSQL (the embedded clusters' version, default durability, like the tenant cluster) in the
// run's directory; the host's pg_dump/pg_restore (lib/infra/pg-backup finds them).
import { randomUUID } from "node:crypto";
import path from "node:path";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { startEmbeddedPostgres, withDatabase } from "@/lib/database/embedded";
import { execFileExecutor } from "@/lib/infra/exec";
import { dumpTenantDatabase, pgTools, restoreDump, verifyDump } from "@/lib/infra/pg-backup";
import {
  deprovisionTenantDatabase,
  generateTenantPassword,
  provisionTenantDatabase,
} from "@/lib/infra/tenant-postgres";
import type { BenchContext } from "@/scripts/bench/context";
import { type Metric, ratio, round } from "@/scripts/bench/stats";

const FULL_BYTES = 1024 ** 3;
const QUICK_BYTES = 100 * 1024 ** 2;
// One row of `items` on disk: tuple header, id, n, a 96-character payload, line pointer and its primary key entry (measured: about 174 bytes).
const ROW_BYTES = 174;
const FLOOR_TIMEOUT_MS = 10 * 60_000;
const LIMITS = { connectionLimit: 10, statementTimeoutMs: 600_000, idleInTransactionTimeoutMs: 600_000 };

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = performance.now();
  const result = await run();
  return { ms: round(performance.now() - started), result };
}

async function sql<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

export async function measureBackup(context: BenchContext): Promise<Metric> {
  const work = await context.dir("backup");
  const tools = await pgTools();
  context.progress(`pg_dump ${tools.version} in ${tools.dir}; starting a PostgreSQL for the tenant databases`);
  const server = await startEmbeddedPostgres({
    dataDir: work,
    directory: path.join(work, "tenant-postgres"),
    passwordFile: "tenant-postgres-password",
    database: "postgres",
    log: context.log,
  });
  context.defer("backup bench PostgreSQL", () => server.stop());
  const adminUrl = server.url;
  const [source, target] = [randomUUID(), randomUUID()];
  for (const resourceId of [source, target]) {
    await provisionTenantDatabase(adminUrl, {
      resourceId,
      password: generateTenantPassword(),
      limits: LIMITS,
      protectDatabases: [],
    });
    context.defer("tenant database", () => deprovisionTenantDatabase(adminUrl, { resourceId }));
  }
  const database = `t_${source.replaceAll("-", "")}`;
  const sourceUrl = withDatabase(adminUrl, database);
  const rows = Math.round((context.options.quick ? QUICK_BYTES : FULL_BYTES) / ROW_BYTES);
  context.progress(`filling ${database} with ${rows} rows (generate_series)`);
  await sql(
    sourceUrl,
    `CREATE TABLE public.items (id bigint PRIMARY KEY, n int NOT NULL, payload text NOT NULL);
     INSERT INTO public.items SELECT g, g % 1000, repeat(md5(g::text), 3) FROM generate_series(1, ${rows}) g;
     ALTER TABLE public.items OWNER TO ${database};`,
  );
  await sql(sourceUrl, "VACUUM ANALYZE public.items");
  const [size] = await sql<{ bytes: string }>(sourceUrl, "SELECT pg_database_size(current_database()) AS bytes");
  const databaseBytes = Number(size?.bytes ?? 0);

  const dumpFile = path.join(work, "items.dump");
  context.progress("dump (pg_dump -Fc with counts in its snapshot)");
  const dump = await timed(() => dumpTenantDatabase({ adminUrl, resourceId: source, outFile: dumpFile }));
  context.progress("verify (restore into a scratch database, count, drop)");
  const verify = await timed(() =>
    verifyDump({
      adminUrl,
      resourceId: source,
      dumpFile,
      expected: dump.result.counts,
      scratchId: randomUUID(),
    }),
  );
  if (!verify.result.ok) throw new Error(`verification failed: ${verify.result.reason}`);
  context.progress('restore "empty" into a second tenant database');
  const restore = await timed(() => restoreDump({ adminUrl, resourceId: target, dumpFile, mode: "empty" }));

  const admin = new URL(adminUrl);
  const env = { PGPASSWORD: decodeURIComponent(admin.password), LC_ALL: "C" };
  const connection = ["-h", admin.hostname, "-p", admin.port, "-U", decodeURIComponent(admin.username), "-w"];
  context.progress("floor: pg_dump -Fc to /dev/null");
  const dumpFloor = await timed(() =>
    execFileExecutor(
      path.join(tools.dir, "pg_dump"),
      [...connection, "-Fc", "--no-sync", "-f", "/dev/null", database],
      {
        env,
        timeoutMs: FLOOR_TIMEOUT_MS,
      },
    ),
  );
  context.progress("floor: plain pg_restore into an empty database");
  const floorDb = `floor_${randomUUID().replaceAll("-", "")}`;
  await sql(withDatabase(adminUrl, "postgres"), `CREATE DATABASE ${floorDb} TEMPLATE template0`);
  context.defer("floor database", async () => {
    await sql(withDatabase(adminUrl, "postgres"), `DROP DATABASE IF EXISTS ${floorDb} WITH (FORCE)`);
  });
  const restoreFloor = await timed(() =>
    execFileExecutor(
      path.join(tools.dir, "pg_restore"),
      [...connection, "--no-owner", "--no-acl", "--single-transaction", "-d", floorDb, dumpFile],
      { env, timeoutMs: FLOOR_TIMEOUT_MS },
    ),
  );
  context.progress("floor: COPY items TO '/dev/null'");
  const copyFloor = await timed(() => sql(sourceUrl, "COPY public.items TO '/dev/null'"));

  const backupMs = dump.ms + verify.ms;
  return {
    value: round(backupMs),
    unit: "ms",
    baseline: dumpFloor.ms,
    baseline_unit: "ms (pg_dump -Fc --no-sync -f /dev/null)",
    ratio: ratio(backupMs, dumpFloor.ms),
    database_bytes: databaseBytes,
    dump_bytes: dump.result.bytes,
    rows: verify.result.rows,
    dump_ms: dump.ms,
    verify_ms: verify.ms,
    restore_empty_ms: restore.ms,
    restore_floor_ms: restoreFloor.ms,
    restore_ratio: ratio(restore.ms, restoreFloor.ms),
    copy_out_ms: copyFloor.ms,
    notes:
      "value: dump (pg_dump -Fc as the tenant role, counts in its snapshot) + verify (pg_restore into a scratch " +
      "database, count every table, drop it); baseline: pg_dump -Fc of the same database to /dev/null. " +
      'restore_empty_ms: restoreDump "empty" into a second tenant database; restore_floor_ms: plain pg_restore ' +
      "--single-transaction of the same dump into an empty database; copy_out_ms: COPY of the table to /dev/null " +
      "on the server. One run each (the database is large).",
  };
}
