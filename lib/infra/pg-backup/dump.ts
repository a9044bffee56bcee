import fs from "node:fs/promises";
import { tenantNames } from "../tenant-postgres";
import { PgBackupError } from "./errors";
import { countTables, end, fromDriverError, open, serverVersionNum, type TableCount, withDatabase } from "./session";
import { assertToolsFit, pgTools, runTool, targetOf } from "./tools";

// pg_dump -Fc of a tenant database, with the row counts of its tables taken in THE DUMP'S SNAPSHOT: the admin
// session opens a REPEATABLE READ transaction, exports its snapshot, counts every table in it, and pg_dump reads the
// same snapshot (--snapshot) while the transaction stays open. Counts taken before or after would race the app's
// writes, and verification would then fail backups that are in fact fine.

export const DEFAULT_DUMP_TIMEOUT_MS = 60 * 60_000;

export type DumpResult = { counts: TableCount[]; bytes: number };

function tenantOf(resourceId: string) {
  try {
    return tenantNames(resourceId, "inspect");
  } catch (error) {
    throw new PgBackupError("invalid_argument", "invalid resource id", { cause: error });
  }
}

/** An empty file only the platform's user can read, which pg_dump then fills (opening it keeps the mode). */
async function createPrivateFile(file: string): Promise<void> {
  await fs.writeFile(file, "", { mode: 0o600 });
  await fs.chmod(file, 0o600);
}

export async function dumpTenantDatabase(i: {
  adminUrl: string;
  resourceId: string;
  outFile: string;
  timeoutMs?: number;
  /** Where pg_dump lives; default TUSSILAGO_PG_BIN_DIR, then the newest Debian client, then PATH. */
  binDir?: string;
}): Promise<DumpResult> {
  const names = tenantOf(i.resourceId);
  const timeoutMs = i.timeoutMs ?? DEFAULT_DUMP_TIMEOUT_MS;
  const tools = await pgTools(i.binDir);
  const url = withDatabase(i.adminUrl, names.database);
  const client = await open(url, timeoutMs);
  let written = false;
  try {
    assertToolsFit(tools, await serverVersionNum(client));
    let snapshot: string;
    let counts: TableCount[];
    try {
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      // As the tenant, like pg_dump below: the admin need not be able to read the tenant's tables itself (a
      // non-superuser admin holds SET, not INHERIT, on the tenant role). row_security off makes a table whose
      // policies would hide rows fail here, exactly as pg_dump fails on it, instead of counting fewer rows.
      await client.query(`SET LOCAL ROLE ${client.escapeIdentifier(names.role)}`);
      await client.query("SET LOCAL row_security = off");
      const { rows } = await client.query<{ id: string }>("SELECT pg_export_snapshot() AS id");
      snapshot = rows[0]?.id ?? "";
      counts = await countTables(client);
    } catch (error) {
      throw fromDriverError(error, "dump_failed");
    }
    await createPrivateFile(i.outFile);
    written = true;
    await runTool(
      tools,
      "pg_dump",
      targetOf(i.adminUrl, names.database),
      [
        "--format=custom",
        `--snapshot=${snapshot}`,
        `--role=${names.role}`,
        `--file=${i.outFile}`,
        "--",
        names.database,
      ],
      { timeoutMs, failure: "dump_failed" },
    );
    const { size } = await fs.stat(i.outFile);
    return { counts, bytes: size };
  } catch (error) {
    if (written) await fs.rm(i.outFile, { force: true });
    throw error;
  } finally {
    // The snapshot must outlive pg_dump: only now may the transaction end.
    await client.query("ROLLBACK").catch(() => undefined);
    await end(client);
  }
}

/** pg_dump -Fc of the platform's own database, as the user of `databaseUrl` (the platform's migration owner). */
export async function dumpPlatformDatabase(i: {
  databaseUrl: string;
  outFile: string;
  timeoutMs?: number;
  binDir?: string;
}): Promise<{ bytes: number; serverVersionNum: number }> {
  const timeoutMs = i.timeoutMs ?? DEFAULT_DUMP_TIMEOUT_MS;
  const tools = await pgTools(i.binDir);
  const client = await open(i.databaseUrl, 60_000);
  let version: number;
  try {
    version = await serverVersionNum(client);
  } catch (error) {
    throw fromDriverError(error, "dump_failed");
  } finally {
    await end(client);
  }
  assertToolsFit(tools, version);
  const target = targetOf(i.databaseUrl);
  await createPrivateFile(i.outFile);
  try {
    await runTool(tools, "pg_dump", target, ["--format=custom", `--file=${i.outFile}`, "--", target.database], {
      timeoutMs,
      failure: "dump_failed",
    });
  } catch (error) {
    await fs.rm(i.outFile, { force: true });
    throw error;
  }
  const { size } = await fs.stat(i.outFile);
  return { bytes: size, serverVersionNum: version };
}
