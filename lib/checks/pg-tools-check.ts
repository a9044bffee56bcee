// The "backup tools" host check of `npm run manage -- check`: pg_dump and pg_restore are installed (TUSSILAGO_PG_BIN_DIR,
// the newest Debian postgresql-client, or PATH) and not older than the tenant PostgreSQL server, which pg_dump would
// refuse to dump (backups of tenant databases, docs/operations.md).
import pg from "pg";
import type { CheckResult } from "@/lib/checks/report";
import type { Env } from "@/lib/env";
import { PgBackupError, pgTools } from "@/lib/infra/pg-backup";
import { embeddedTenantAdminUrls } from "@/lib/services/tenant-services";

const NAME = "backup tools";
const TIMEOUT_MS = 5_000;

async function tenantServerVersion(url: string): Promise<{ num: number; text: string } | string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: TIMEOUT_MS });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ num: string; text: string }>(
      "SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS text",
    );
    return { num: Number(rows[0]?.num), text: rows[0]?.text ?? "?" };
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function pgToolsCheck(env: Env): Promise<CheckResult> {
  let tools: Awaited<ReturnType<typeof pgTools>>;
  try {
    tools = await pgTools(env.infra.pgBinDir);
  } catch (error) {
    const reason = error instanceof PgBackupError ? error.message.replace(/^pg backup: /, "") : String(error);
    return { name: NAME, status: "error", message: reason };
  }
  const found = `pg_dump ${tools.version} in ${tools.dir}`;
  const url = env.tenantServices.pgAdminUrl ?? (await embeddedTenantAdminUrls(env.dataDir)).postgres;
  if (!url) {
    return { name: NAME, status: "warn", message: `${found}; no tenant PostgreSQL to compare it with yet` };
  }
  const server = await tenantServerVersion(url);
  if (typeof server === "string") {
    return { name: NAME, status: "warn", message: `${found}; the tenant PostgreSQL does not answer: ${server}` };
  }
  const serverMajor = Math.floor(server.num / 10_000);
  if (tools.major < serverMajor) {
    return {
      name: NAME,
      status: "error",
      message:
        `${found} is older than the tenant PostgreSQL ${server.text}: backups would fail; install ` +
        `postgresql-client-${serverMajor} and set TUSSILAGO_PG_BIN_DIR to its bin directory`,
    };
  }
  return { name: NAME, status: "ok", message: `${found}, tenant PostgreSQL ${server.text}` };
}
