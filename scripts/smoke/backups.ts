// Backups and restores on the real host (docs/backups.md): a database on the host's tenant PostgreSQL (the platform's
// embedded one) gets rows through its own credentials, a backup that ends verified, a dropped table brought back by a
// restore onto the same database (after the safety backup the restore takes first), and a restore into a new
// database; then a Redis instance's keys exported, deleted and imported back with their TTLs.
import { randomBytes } from "node:crypto";
import { createClient } from "@redis/client";
import pg from "pg";
import { type Api, field, type Operation, waitForOperation } from "./api";
import { fail, OPERATION_DEADLINE_MS, phase, say, waitUntil } from "./support";

const ROWS = 250;

type Database = { id: string; name: string; status: string; error: string | null };
type Backup = {
  id: string;
  status: string;
  trigger: string;
  sizeBytes: number | null;
  verification: { ok: boolean; tables?: number; rows?: number; reason?: string } | null;
  error: string | null;
};
type Credentials = { url: string };
type RedisCredentials = { url: string; keyPrefix: string };

async function waitReady(api: Api, kind: "databases" | "redis", id: string): Promise<void> {
  const key = kind === "databases" ? "database" : "redis";
  const ready = await waitUntil(`${key} ${id} to be ready`, OPERATION_DEADLINE_MS, async () => {
    const current = field<Database>(await api("GET", `/api/v1/${kind}/${id}`), key);
    return current.status === "ready" || current.status === "failed" ? current : null;
  });
  if (ready.status !== "ready") fail(`${key} ${id} ended ${ready.status}: ${ready.error ?? "no reason given"}`);
}

/** One short-lived session per use: a restore onto the same database closes the sessions it finds. */
async function withDatabase<T>(api: Api, databaseId: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const credentials = (await api("GET", `/api/v1/databases/${databaseId}/credentials`)) as Credentials;
  const client = new pg.Client({ connectionString: credentials.url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => {});
  }
}

async function countRows(api: Api, databaseId: string): Promise<number | null> {
  return await withDatabase(api, databaseId, async (client) => {
    const exists = await client.query<{ present: boolean }>(
      "SELECT to_regclass('public.items') IS NOT NULL AS present",
    );
    if (!exists.rows[0]?.present) return null;
    const result = await client.query<{ n: string }>("SELECT count(*) AS n FROM items");
    return Number(result.rows[0]?.n ?? 0);
  });
}

function redisClient(url: string) {
  return createClient({ url, socket: { connectTimeout: 10_000, reconnectStrategy: false } });
}
type RedisClient = ReturnType<typeof redisClient>;

async function waitBackup(api: Api, backupId: string): Promise<Backup> {
  const final = await waitUntil(`backup ${backupId} to finish`, OPERATION_DEADLINE_MS, async () => {
    const current = field<Backup>(await api("GET", `/api/v1/backups/${backupId}`), "backup");
    return ["verified", "succeeded", "failed"].includes(current.status) ? current : null;
  });
  if (final.status === "failed") fail(`backup ${backupId} failed: ${final.error ?? "no reason given"}`);
  return final;
}

export async function smokeBackups(api: Api): Promise<void> {
  const marker = randomBytes(3).toString("hex");
  const created: { kind: "databases" | "redis"; id: string }[] = [];
  try {
    const database = await phase("backups: create a database and write rows with its credentials", async () => {
      const answer = await api("POST", "/api/v1/databases", { name: `smoke-db-${marker}` });
      const row = field<Database>(answer, "database");
      created.push({ kind: "databases", id: row.id });
      await waitForOperation(api, field<Operation>(answer, "operation"), "database provisioning");
      await waitReady(api, "databases", row.id);
      await withDatabase(api, row.id, async (client) => {
        await client.query("CREATE TABLE items (id integer PRIMARY KEY, label text NOT NULL)");
        await client.query("INSERT INTO items SELECT n, 'item ' || n FROM generate_series(1, $1::integer) AS n", [
          ROWS,
        ]);
      });
      const rows = await countRows(api, row.id);
      if (rows !== ROWS) fail(`wrote ${ROWS} rows, read back ${rows}`);
      say(`    ${row.name}: ${ROWS} rows in table items`);
      return row;
    });

    const backup = await phase("backups: back up now, the backup ends verified", async () => {
      const answer = await api("POST", `/api/v1/databases/${database.id}/backups`, {});
      const final = await waitBackup(api, field<Backup>(answer, "backup").id);
      if (final.status !== "verified" || final.verification?.ok !== true) {
        fail(`the backup ended ${final.status} with verification ${JSON.stringify(final.verification)}`);
      }
      say(
        `    ${final.sizeBytes ?? "?"} bytes, verified: ${final.verification.tables ?? "?"} table(s), ${final.verification.rows ?? "?"} row(s)`,
      );
      return final;
    });

    await phase("backups: drop the table, restore onto the same database, rows back", async () => {
      await withDatabase(api, database.id, (client) => client.query("DROP TABLE items"));
      if ((await countRows(api, database.id)) !== null) fail("the table is still there after DROP TABLE");
      const answer = await api("POST", `/api/v1/backups/${backup.id}/restore`, { target: "same" });
      await waitForOperation(api, field<Operation>(answer, "operation"), "restore onto the same database");
      const rows = await countRows(api, database.id);
      if (rows !== ROWS) fail(`after the restore the table has ${rows ?? "no"} rows, not ${ROWS}`);
      const safetyId = field<string | null>(answer, "safetyBackupId");
      if (!safetyId) fail("the restore onto the same database answered no safetyBackupId");
      const listed = (await api("GET", `/api/v1/databases/${database.id}/backups`)).items as Backup[];
      const safety = listed.find((each) => each.id === safetyId);
      if (safety?.trigger !== "safety") {
        fail(
          `the safety backup ${safetyId} is not listed with trigger safety: ${JSON.stringify(listed).slice(0, 500)}`,
        );
      }
      say(`    ${rows} rows back; safety backup ${safety.id} listed (${safety.status})`);
    });

    await phase("backups: restore into a new database", async () => {
      const answer = await api("POST", `/api/v1/backups/${backup.id}/restore`, {
        target: "new",
        name: `smoke-db-${marker}-copy`,
      });
      const newId = field<string>(answer, "databaseId");
      created.push({ kind: "databases", id: newId });
      if (newId === database.id) fail("restore new answered the source database's id");
      await waitForOperation(api, field<Operation>(answer, "operation"), "restore into a new database");
      await waitReady(api, "databases", newId);
      const rows = await countRows(api, newId);
      if (rows !== ROWS) fail(`the new database has ${rows ?? "no"} rows in items, not ${ROWS}`);
      say(`    new database ${newId}: ${rows} rows`);
    });

    await phase("backups: Redis export, keys deleted, import (replace) brings them back with TTLs", async () => {
      const answer = await api("POST", "/api/v1/redis", { name: `smoke-redis-${marker}` });
      const redisId = field<{ id: string }>(answer, "redis").id;
      created.push({ kind: "redis", id: redisId });
      await waitForOperation(api, field<Operation>(answer, "operation"), "Redis provisioning");
      await waitReady(api, "redis", redisId);
      const credentials = (await api("GET", `/api/v1/redis/${redisId}/credentials`)) as RedisCredentials;
      const withRedis = async <T>(use: (client: RedisClient) => Promise<T>): Promise<T> => {
        const client = redisClient(credentials.url);
        client.on("error", () => {});
        await client.connect();
        try {
          return await use(client);
        } finally {
          await client.quit().catch(() => {});
        }
      };
      // Every key must start with `<keyPrefix>:` (the instance's ACL).
      const plain = `${credentials.keyPrefix}:smoke:plain`;
      const expiring = `${credentials.keyPrefix}:smoke:expiring`;
      await withRedis(async (client) => {
        await client.set(plain, `value ${marker}`);
        await client.set(expiring, "soon gone", { EX: 3600 });
      });
      const exported = await api("POST", `/api/v1/redis/${redisId}/exports`, {});
      await waitForOperation(api, field<Operation>(exported, "operation"), "Redis export");
      const exportId = field<{ id: string }>(exported, "backup").id;
      await withRedis((client) => client.del([plain, expiring]));
      const imported = await api("POST", `/api/v1/redis/${redisId}/imports`, { exportId, mode: "replace" });
      await waitForOperation(api, field<Operation>(imported, "operation"), "Redis import");
      const [value, ttl] = await withRedis(async (client) => [await client.get(plain), await client.ttl(expiring)]);
      if (value !== `value ${marker}`) fail(`after the import the key holds ${JSON.stringify(value)}`);
      if (typeof ttl !== "number" || ttl <= 0 || ttl > 3600) fail(`after the import the expiring key's TTL is ${ttl}`);
      say(`    2 keys back, TTL ${ttl} s kept`);
    });
  } finally {
    for (const { kind, id } of created.reverse()) {
      await api("DELETE", `/api/v1/${kind}/${id}`, undefined, [202, 404, 409]).catch((error: unknown) =>
        say(`    could not delete ${kind} ${id}: ${String(error)}`),
      );
    }
  }
}
