import type pg from "pg";
import { tenantNames } from "../tenant-postgres";
import { PgBackupError } from "./errors";
import { countTables, end, fromDriverError, open, serverVersionNum, type TableCount, withDatabase } from "./session";
import { assertToolsFit, lastErrorLine, pgTools, runTool, targetOf } from "./tools";

// Verification: restore the dump into a scratch database on the same server (never the tenant's own), compare every
// table's row count with the counts taken in the dump's snapshot, drop the scratch database. Scratch databases are
// named `tv_<32 hex>` after a UUID the caller keeps (so a sweep can drop the ones a crash left behind); the tenant
// sweep matches `^t_[0-9a-f]{32}$` only and never takes them for tenants.

export const DEFAULT_VERIFY_TIMEOUT_MS = 60 * 60_000;
const SCRATCH_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const SCRATCH_NAME = /^tv_[0-9a-f]{32}$/;

export type VerifyResult = { ok: true; tables: number; rows: number } | { ok: false; reason: string };

export function scratchDatabaseName(scratchId: string): string {
  if (typeof scratchId !== "string" || !SCRATCH_ID.test(scratchId)) {
    throw new PgBackupError("invalid_argument", "invalid scratch id");
  }
  return `tv_${scratchId.toLowerCase().replaceAll("-", "")}`;
}

const key = (count: { schema: string; table: string }) => `${count.schema}.${count.table}`;

/** Why the restored counts differ from the expected ones, naming the first tables that do, or null. */
export function compareCounts(expected: readonly TableCount[], actual: readonly TableCount[]): string | null {
  const want = new Map(expected.map((count) => [key(count), count.rows]));
  const got = new Map(actual.map((count) => [key(count), count.rows]));
  const problems: string[] = [];
  for (const [name, rows] of want) {
    const restored = got.get(name);
    if (restored === undefined) problems.push(`table ${name} is missing from the restored dump`);
    else if (restored !== rows)
      problems.push(`table ${name} has ${restored} rows after the restore, ${rows} when dumped`);
  }
  for (const name of got.keys()) {
    if (!want.has(name)) problems.push(`table ${name} was not in the dump's snapshot`);
  }
  if (problems.length === 0) return null;
  const shown = problems.slice(0, 3).join("; ");
  return problems.length > 3 ? `${shown}; and ${problems.length - 3} more differences` : shown;
}

async function dropDatabase(client: pg.Client, name: string): Promise<void> {
  // FORCE: a pg_restore killed by its timeout may leave its backend behind for a moment.
  await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
}

export async function verifyDump(i: {
  adminUrl: string;
  resourceId: string;
  dumpFile: string;
  expected: TableCount[];
  scratchId: string;
  timeoutMs?: number;
  binDir?: string;
}): Promise<VerifyResult> {
  const scratch = scratchDatabaseName(i.scratchId);
  // The resource ID only has to be valid: the scratch name never derives from it, so no path leads to its database.
  try {
    tenantNames(i.resourceId, "inspect");
  } catch (error) {
    throw new PgBackupError("invalid_argument", "invalid resource id", { cause: error });
  }
  const timeoutMs = i.timeoutMs ?? DEFAULT_VERIFY_TIMEOUT_MS;
  const tools = await pgTools(i.binDir);
  const admin = await open(i.adminUrl, 60_000);
  try {
    try {
      assertToolsFit(tools, await serverVersionNum(admin));
      await dropDatabase(admin, scratch);
      await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(scratch)} TEMPLATE template0`);
      // A new database lets PUBLIC connect: shut tenants out before any of the copied data arrives.
      await admin.query(`REVOKE ALL ON DATABASE ${admin.escapeIdentifier(scratch)} FROM PUBLIC`);
    } catch (error) {
      throw fromDriverError(error, "verify_failed");
    }
    try {
      await runTool(
        tools,
        "pg_restore",
        targetOf(i.adminUrl, scratch),
        ["--exit-on-error", "--no-owner", "--no-acl", "--single-transaction", `--dbname=${scratch}`, "--", i.dumpFile],
        { timeoutMs, failure: "restore_failed" },
      );
    } catch (error) {
      // A dump that does not restore is the answer, not an accident: anything else (the server gone, the tool
      // missing, a timeout) is for the job to retry or report.
      if (error instanceof PgBackupError && error.kind === "restore_failed" && !error.retryable) {
        return { ok: false, reason: `the dump did not restore: ${lastErrorLine(error.stderrTail)}` };
      }
      throw error;
    }
    let actual: TableCount[];
    const restored = await open(withDatabase(i.adminUrl, scratch), timeoutMs);
    try {
      actual = await countTables(restored);
    } catch (error) {
      throw fromDriverError(error, "verify_failed");
    } finally {
      await end(restored);
    }
    const reason = compareCounts(i.expected, actual);
    if (reason !== null) return { ok: false, reason };
    return { ok: true, tables: actual.length, rows: actual.reduce((sum, count) => sum + count.rows, 0) };
  } finally {
    await dropDatabase(admin, scratch).catch(() => undefined);
    await end(admin);
  }
}

/** For the sweep: drops the `tv_` scratch databases whose IDs are not in `keepScratchIds`; returns their names. */
export async function dropStaleScratchDatabases(adminUrl: string, keepScratchIds: string[]): Promise<string[]> {
  const keep = new Set(keepScratchIds.map(scratchDatabaseName));
  const admin = await open(adminUrl, 60_000);
  try {
    const { rows } = await admin.query<{ name: string }>(
      "SELECT datname::text AS name FROM pg_database WHERE datname ~ '^tv_[0-9a-f]{32}$' ORDER BY 1",
    );
    const dropped: string[] = [];
    for (const { name } of rows) {
      if (keep.has(name) || !SCRATCH_NAME.test(name)) continue;
      await dropDatabase(admin, name);
      dropped.push(name);
    }
    return dropped;
  } catch (error) {
    throw fromDriverError(error, "verify_failed");
  } finally {
    await end(admin);
  }
}
