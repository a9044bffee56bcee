// The platform's Prisma client, on node-postgres through Prisma's driver adapter (no native engine).
//
// Safe behind PgBouncer in transaction mode: node-postgres sends parameterised queries as unnamed prepared
// statements (valid only inside one round trip), the client never sets session state (no SET, no advisory session
// locks, no LISTEN; the worker uses DATABASE_DIRECT_URL for LISTEN/NOTIFY), and Prisma never opens server-side
// cursors. Interactive transactions hold one server connection for their duration, which PgBouncer allows.
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { recordStatement } from "@/lib/database/query-counter";
import { getEnv } from "@/lib/env";
import { PrismaClient } from "@/lib/generated/prisma/client";

class CountingClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg's overloaded query signature cannot be re-declared precisely.
  override query(...args: any[]): any {
    const first: unknown = args[0];
    const text = typeof first === "string" ? first : ((first as { text?: string } | undefined)?.text ?? "");
    recordStatement(text);
    // biome-ignore lint/suspicious/noExplicitAny: see above.
    return (super.query as (...a: any[]) => any)(...args);
  }
}

export function createPrismaClient(connectionString: string, poolSize: number): PrismaClient {
  const adapter = new PrismaPg({
    Client: CountingClient,
    connectionString,
    max: poolSize,
    application_name: "tussilago",
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
  });
  return new PrismaClient({ adapter });
}

const globalForPrisma = globalThis as unknown as { tussilagoPrisma?: PrismaClient };

/** The shared client. Kept on globalThis so Next's dev reloads do not open a new pool each time. */
export function getDb(): PrismaClient {
  if (!globalForPrisma.tussilagoPrisma) {
    const env = getEnv();
    if (!env.databaseUrl) {
      throw new Error("DATABASE_URL is not set: the platform processes receive it from `npm start`.");
    }
    globalForPrisma.tussilagoPrisma = createPrismaClient(env.databaseUrl, env.dbPoolSize);
  }
  return globalForPrisma.tussilagoPrisma;
}

export type Db = PrismaClient;
export type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];

export async function disconnectDb(): Promise<void> {
  const client = globalForPrisma.tussilagoPrisma;
  globalForPrisma.tussilagoPrisma = undefined;
  await client?.$disconnect();
}
