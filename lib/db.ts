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
    // A PostgreSQL that does not answer (restarting, a dropped network) fails the request after this long with a
    // 503 instead of holding it; the pool opens new connections by itself once the server is back.
    connectionTimeoutMillis: 5_000,
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

// Prisma's "cannot reach / timed out / closed / pool timeout" codes, PostgreSQL's shutdown and "cannot connect now"
// (57P01-57P03) and connection-exception (08xxx) classes, Node's network errors, and node-postgres's two
// connection failures that carry no code.
const UNREACHABLE_PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);
const UNREACHABLE_NET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENOTFOUND",
]);
const UNREACHABLE_ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout"]);
const UNREACHABLE_PG_MESSAGES = ["Connection terminated", "timeout exceeded when trying to connect"];

function isUnreachableSqlState(code: string): boolean {
  return /^57P0[123]$/.test(code) || /^08[0-9A-Z]{3}$/.test(code);
}

/** Whether an error means the platform database is unreachable (an outage to wait out), not a failed query. */
export function isDatabaseUnreachable(error: unknown): boolean {
  let current: unknown = error;
  // Prisma and the adapter wrap the driver's error; a few levels of `cause` are enough and bound the walk.
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current.name === "PrismaClientInitializationError") return true;
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") {
      if (UNREACHABLE_PRISMA_CODES.has(code) || UNREACHABLE_NET_CODES.has(code)) return true;
      if (isUnreachableSqlState(code)) return true;
    }
    // Prisma's raw queries report the adapter's view as meta.driverAdapterError.cause (kind, or the SQLSTATE).
    const adapterCause = (
      current as { meta?: { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown } } } }
    ).meta?.driverAdapterError?.cause;
    if (typeof adapterCause?.kind === "string" && UNREACHABLE_ADAPTER_KINDS.has(adapterCause.kind)) return true;
    if (typeof adapterCause?.originalCode === "string" && isUnreachableSqlState(adapterCause.originalCode)) return true;
    if (UNREACHABLE_PG_MESSAGES.some((text) => current instanceof Error && current.message.includes(text))) return true;
    current = current.cause;
  }
  return false;
}
export type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];

export async function disconnectDb(): Promise<void> {
  const client = globalForPrisma.tussilagoPrisma;
  globalForPrisma.tussilagoPrisma = undefined;
  await client?.$disconnect();
}
