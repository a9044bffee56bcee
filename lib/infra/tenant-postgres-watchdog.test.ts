import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterEach, describe, expect, inject, it } from "vitest";
import {
  deprovisionTenantDatabase,
  generateTenantPassword,
  provisionTenantDatabase,
  TenantPostgresError,
  tenantConnectionInfo,
  tenantNames,
} from "./tenant-postgres";
import { enforceTenantSessionLimits, type TenantSessionAction } from "./tenant-postgres-watchdog";

const { adminUrl } = inject("testDatabase");
const cluster = new URL(adminUrl);
const PLATFORM_DATABASE = new URL(process.env.DATABASE_URL ?? "postgresql://invalid/").pathname.slice(1);
// Role defaults as provisioning sets them; the tenant sessions below lift them with SET.
const LIMITS = { connectionLimit: 5, statementTimeoutMs: 200, idleInTransactionTimeoutMs: 500 };
const LONG = { statementTimeoutMs: 600_000, idleInTransactionMs: 600_000 };

const tenants: string[] = [];
const clients: pg.Client[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) await client.end().catch(() => undefined);
  for (const resourceId of tenants.splice(0)) await deprovisionTenantDatabase(adminUrl, { resourceId });
});

async function tenantSession(): Promise<{ role: string; client: pg.Client }> {
  const resourceId = randomUUID();
  tenants.push(resourceId);
  const password = generateTenantPassword();
  await provisionTenantDatabase(adminUrl, {
    resourceId,
    password,
    limits: LIMITS,
    protectDatabases: [PLATFORM_DATABASE],
  });
  const info = tenantConnectionInfo({ host: cluster.hostname, port: Number(cluster.port), resourceId, password });
  const client = new pg.Client({ connectionString: info.url, connectionTimeoutMillis: 10_000 });
  // A terminated session emits "error"; the assertions look at the failing query instead.
  client.on("error", () => undefined);
  clients.push(client);
  await client.connect();
  return { role: tenantNames(resourceId).role, client };
}

// Drives the sweep until it reports an action on `role`: the tenant's statement must first show up as active (or
// its transaction as idle) past the limit. Bounded, so a broken watchdog fails the test rather than hanging it.
async function sweepUntilActed(
  limits: Map<string, { statementTimeoutMs: number; idleInTransactionMs: number }>,
  role: string,
): Promise<TenantSessionAction[]> {
  const all: TenantSessionAction[] = [];
  for (let attempt = 0; attempt < 200; attempt++) {
    const actions = await enforceTenantSessionLimits(adminUrl, limits);
    all.push(...actions);
    if (actions.some((action) => action.role === role)) return all;
    await sleep(50);
  }
  throw new Error("the watchdog never acted on the tenant session");
}

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof Error) return err;
  }
  throw new Error("expected the query to fail");
}

describe("enforceTenantSessionLimits on the embedded tenant cluster", () => {
  it("cancels a tenant query that lifted its statement_timeout, and leaves other tenants' queries alone", async () => {
    const hog = await tenantSession();
    const other = await tenantSession();
    await hog.client.query("SET statement_timeout = 0");
    await other.client.query("SET statement_timeout = 0");
    const sleeping = failureOf(hog.client.query("SELECT pg_sleep(30)"));
    const otherSleeping = other.client.query("SELECT pg_sleep(1)");

    const limits = new Map([
      [hog.role, { statementTimeoutMs: 100, idleInTransactionMs: 600_000 }],
      [other.role, LONG],
    ]);
    const actions = await sweepUntilActed(limits, hog.role);

    expect(actions.filter((action) => action.role === hog.role)).toEqual([
      expect.objectContaining({ action: "cancel", signalled: true }),
    ]);
    expect(actions.every((action) => action.role === hog.role)).toBe(true);
    const error = await sleeping;
    expect(error).toBeInstanceOf(pg.DatabaseError);
    expect((error as pg.DatabaseError).code).toBe("57014");
    // Cancelled, not terminated: the session goes on.
    expect((await hog.client.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    await expect(otherSleeping).resolves.toBeDefined();
  });

  it("terminates a tenant session idle in a transaction past its limit, whatever it SET", async () => {
    const idle = await tenantSession();
    await idle.client.query("SET idle_in_transaction_session_timeout = 0");
    await idle.client.query("BEGIN");
    await idle.client.query("SELECT 1");

    const actions = await sweepUntilActed(
      new Map([[idle.role, { statementTimeoutMs: 600_000, idleInTransactionMs: 100 }]]),
      idle.role,
    );
    expect(actions).toEqual([expect.objectContaining({ role: idle.role, action: "terminate", signalled: true })]);
    expect(actions[0]?.elapsedMs).toBeGreaterThanOrEqual(100);
    await expect(idle.client.query("SELECT 1")).rejects.toThrow();
  });

  it("does nothing for sessions within their limits or roles it was not given", async () => {
    const busy = await tenantSession();
    await busy.client.query("SET statement_timeout = 0");
    const running = busy.client.query("SELECT pg_sleep(0.5)");
    expect(await enforceTenantSessionLimits(adminUrl, new Map([[busy.role, LONG]]))).toEqual([]);
    expect(await enforceTenantSessionLimits(adminUrl, new Map())).toEqual([]);
    await expect(running).resolves.toBeDefined();
  });

  it("refuses names that are not tenant roles and reports an unreachable server as retryable", async () => {
    await expect(enforceTenantSessionLimits(adminUrl, new Map([["postgres", LONG]]))).rejects.toMatchObject({
      kind: "invalid_argument",
    });
    await expect(
      enforceTenantSessionLimits(adminUrl, new Map([[`t_${"a".repeat(32)}`, { ...LONG, statementTimeoutMs: 0 }]])),
    ).rejects.toBeInstanceOf(TenantPostgresError);
    const unreachable = new URL(adminUrl);
    unreachable.port = "1";
    await expect(
      enforceTenantSessionLimits(unreachable.toString(), new Map([[`t_${"a".repeat(32)}`, LONG]])),
    ).rejects.toMatchObject({ kind: "unavailable", retryable: true });
  });
});
