// The platform database going away: requests answer 503 `unavailable` at once instead of a 500 or a hang, health
// says unavailable, and the same pool serves again when PostgreSQL is back (a private embedded cluster, stopped and
// started on the same port; the file's shared test database is never touched).
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineEndpoint } from "@/lib/api/endpoint";
import { handle } from "@/lib/api/handler";
import { startEmbeddedPostgres } from "@/lib/database/embedded";
import { createPrismaClient, type Db, isDatabaseUnreachable } from "@/lib/db";
import { getHealth } from "@/lib/health";
import { freePort } from "@/test/net";

const probe = defineEndpoint({
  id: "testDbProbe",
  method: "GET",
  path: "/api/test/db",
  summary: "db probe",
  description: "A test endpoint that reads the database.",
  examples: { responses: {} },
  tags: ["test"],
  auth: "public",
  responses: { 200: { description: "ok", schema: z.object({ rows: z.number() }) } },
});

function routeOver(db: Db) {
  // A bare SELECT: the private cluster has no platform tables, and the shared one's are not the point here.
  return handle(probe, async () => ({
    status: 200 as const,
    body: { rows: (await db.$queryRaw<unknown[]>`SELECT 1`).length },
  }));
}

const request = () => new Request("http://test/api/test/db");
const noParams = { params: Promise.resolve({}) };

describe("platform database outage", () => {
  it("answers 503 unavailable, without internal detail, when the database cannot be reached", async () => {
    const db = createPrismaClient(`postgresql://nobody:x@127.0.0.1:${await freePort()}/nothing`, 2);
    try {
      const response = await routeOver(db)(request(), noParams);
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).not.toBeNull();
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("unavailable");
      expect(body.error.message).not.toMatch(/127\.0\.0\.1|prisma|P1001|ECONNREFUSED/i);

      const health = await getHealth(db);
      expect(health.status).toBe("unavailable");
      expect(health.checks.database.status).toBe("unavailable");
    } finally {
      await db.$disconnect();
    }
  });

  it("does not take a query's own error for an outage", () => {
    expect(isDatabaseUnreachable(new Error("unique constraint"))).toBe(false);
    expect(isDatabaseUnreachable(Object.assign(new Error("x"), { code: "P2002" }))).toBe(false);
    expect(isDatabaseUnreachable(Object.assign(new Error("x"), { code: "P1001" }))).toBe(true);
    const raw = (cause: Record<string, string>) =>
      Object.assign(new Error("x"), { code: "P2010", meta: { driverAdapterError: { cause } } });
    expect(isDatabaseUnreachable(raw({ kind: "DatabaseNotReachable" }))).toBe(true);
    expect(isDatabaseUnreachable(raw({ kind: "postgres", originalCode: "57P01" }))).toBe(true);
    expect(isDatabaseUnreachable(raw({ kind: "postgres", originalCode: "23505" }))).toBe(false);
    expect(
      isDatabaseUnreachable(new Error("wrapped", { cause: Object.assign(new Error("y"), { code: "57P01" }) })),
    ).toBe(true);
  });

  it("serves again from the same pool when PostgreSQL comes back", { timeout: 120_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "tsl-db-outage-"));
    // Under root the cluster runs as "postgres", which must be able to enter the directory (as test/global-setup.ts).
    await chmod(dataDir, 0o711);
    const log = pino({ level: "silent" });
    const port = await freePort();
    let server = await startEmbeddedPostgres({ dataDir, log, port });
    const db = createPrismaClient(server.url, 2);
    try {
      const route = routeOver(db);
      expect((await route(request(), noParams)).status).toBe(200);

      await server.stop();
      expect((await route(request(), noParams)).status).toBe(503);

      server = await startEmbeddedPostgres({ dataDir, log, port });
      // The pool drops the dead connections and opens new ones: no restart of the process.
      let status = 0;
      for (let i = 0; i < 3 && status !== 200; i++) status = (await route(request(), noParams)).status;
      expect(status).toBe(200);
    } finally {
      await db.$disconnect();
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
