// Small helpers shared by integration tests.
import pg from "pg";
import { getEnv } from "@/lib/env";

/** A raw pg client on this test file's database, for assertions Prisma does not model (graphile-worker's jobs). */
export async function withRawClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: getEnv().databaseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function pendingJobs(task?: string): Promise<{ task_identifier: string; payload: unknown }[]> {
  return await withRawClient(async (client) => {
    const result = await client.query<{ task_identifier: string; payload: unknown }>(
      // The public `jobs` view hides payloads, so read graphile-worker's private tables (tests only).
      `SELECT t.identifier AS task_identifier, j.payload
       FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id
       WHERE ($1::text IS NULL OR t.identifier = $1) ORDER BY j.id`,
      [task ?? null],
    );
    return result.rows;
  });
}
