// The real proof of the HTTP metrics' input (issue #17): a PRIVATE Caddy (own admin socket and loopback port, never
// the host's) loaded by the platform's own caddy__sync task with the config routing renders, including its JSON
// access log; requests go through it to a local HTTP server standing in for an app's replica; the access-log
// ingester then reads the file Caddy itself wrote. The unit tests (access-log.test.ts) read hand-written fixtures:
// this one fails if the field names or units the ingester expects are not what Caddy writes.
// Runs when caddy is installed (.ci/run installs it); skipped otherwise, with the reason in the suite's title.
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskContext } from "@/jobs/define";
import { tasks } from "@/jobs/tasks";
import { caddyAccessLogPath } from "@/lib/data-paths";
import { getDb } from "@/lib/db";
import { ingestAccessLog } from "@/lib/engine/metrics";
import { getEnv, resetEnvForTests } from "@/lib/env";
import { resetInfraForTests } from "@/lib/services/infra";
import { createTestTeam, createTestUser } from "@/test/factories";
import { findCaddy, type PrivateCaddy, startPrivateCaddy } from "@/test/private-caddy";
import { silentLog } from "@/test/release-helpers";

const caddyPath = findCaddy();
const title =
  caddyPath === null
    ? "HTTP metrics from a real Caddy's access log (SKIPPED: caddy not installed; .ci/run installs it)"
    : "HTTP metrics from a real Caddy's access log";

// What the stand-in replica answers, by path: the bodies' lengths are what Caddy must log as `size`.
const BODIES: Record<string, { status: number; body: string }> = {
  "/": { status: 200, body: `hello ${randomBytes(8).toString("hex")}\n` },
  "/big": { status: 200, body: "x".repeat(10_000) },
  "/missing": { status: 404, body: "no such page\n" },
  "/boom": { status: 500, body: "it broke\n" },
};

let dir: string;
let caddy: PrivateCaddy;
let upstream: Server;
let upstreamPort: number;
const savedEnv: Record<string, string | undefined> = {};

function setEnv(values: Record<string, string>): void {
  for (const [key, value] of Object.entries(values)) {
    if (!(key in savedEnv)) savedEnv[key] = process.env[key];
    process.env[key] = value;
  }
  resetEnvForTests();
  resetInfraForTests();
}

function taskCtx(): TaskContext {
  return { db: getDb(), log: silentLog, jobId: "1", attempt: 1, maxAttempts: 3, workerId: "test" };
}

beforeAll(async () => {
  if (caddyPath === null) return;
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-metrics-caddy-"));
  caddy = await startPrivateCaddy(caddyPath, path.join(dir, "caddy"));
  upstream = createServer((req, res) => {
    const answer = BODIES[req.url ?? ""] ?? { status: 404, body: "" };
    res.writeHead(answer.status, { "content-type": "text/plain" });
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  upstreamPort = (upstream.address() as AddressInfo).port;
  setEnv({
    TUSSILAGO_APPS_DOMAIN: "localhost",
    TUSSILAGO_CADDY_ADMIN: caddy.adminEndpoint,
    TUSSILAGO_CADDY_LISTEN: caddy.listen,
    TUSSILAGO_TLS: "off",
  });
}, 120_000);

afterAll(async () => {
  for (const [key, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  resetEnvForTests();
  resetInfraForTests();
  await new Promise<void>((resolve) => (upstream ? upstream.close(() => resolve()) : resolve()));
  await caddy?.stop();
  if (dir && !process.env.KEEP_METRICS_TEST_DIR) await fs.rm(dir, { recursive: true, force: true });
}, 60_000);

/** A running app with one healthy replica: the local HTTP server above. */
async function runningApp() {
  const db = getDb();
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const app = await db.app.create({
    data: { teamId: team.id, name: `web-${randomBytes(3).toString("hex")}`, status: "running" },
  });
  const deployment = await db.deployment.create({
    data: { appId: app.id, teamId: team.id, number: 1, status: "running", sourceType: "upload" },
  });
  await db.replica.create({
    data: {
      appId: app.id,
      deploymentId: deployment.id,
      index: 0,
      containerName: `tsl-${app.id.replaceAll("-", "")}-1-0`,
      hostPort: upstreamPort,
      status: "healthy",
    },
  });
  return { app, hostname: `${app.name}-${team.slug}.localhost` };
}

/** GET over plain HTTP to the private Caddy with the given Host header. */
function httpGet(hostname: string, pathname: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: "127.0.0.1", port: caddy.httpPort, path: pathname, headers: { host: hostname }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end();
  });
}

/** Caddy writes a line once the response is done: wait until `count` complete lines are in the file. */
async function waitForLines(file: string, count: number): Promise<void> {
  for (let tries = 0; tries < 600; tries += 1) {
    const text = await fs.readFile(file, "utf8").catch(() => "");
    if (text.split("\n").filter((line) => line.length > 0).length >= count && text.endsWith("\n")) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Caddy did not write ${count} access lines to ${file}`);
}

describe.skipIf(caddyPath === null)(title, () => {
  it("counts what Caddy logged for an app: requests, status classes, bytes and latencies", async () => {
    const db = getDb();
    const { app, hostname } = await runningApp();
    await tasks.caddy__sync.run({}, taskCtx());

    const paths = ["/", "/", "/big", "/missing", "/boom"];
    const before = Date.now();
    for (const pathname of paths) {
      const answer = await httpGet(hostname, pathname);
      expect(answer).toEqual({ status: BODIES[pathname]?.status, body: BODIES[pathname]?.body });
    }
    // A host no app has: Caddy's catch-all answers it and logs it, and the ingester counts it as unmapped.
    expect((await httpGet(`nobody-${randomBytes(3).toString("hex")}.localhost`, "/")).status).toBe(404);

    const after = Date.now();
    const file = caddyAccessLogPath(getEnv().dataDir);
    await waitForLines(file, paths.length + 1);
    const report = await ingestAccessLog({ db, file, appsDomain: "localhost", log: silentLog });
    expect(report).toMatchObject({ lines: paths.length + 1, requests: paths.length, skipped: 0, unmapped: 1 });

    // One row per minute: the requests may straddle a minute boundary, so the rows are summed.
    const rows = await db.httpMetric.findMany({ where: { appId: app.id } });
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(report.rows).toBe(rows.length);
    const sum = (pick: (row: (typeof rows)[number]) => number) => rows.reduce((total, row) => total + pick(row), 0);
    expect({
      step: [...new Set(rows.map((row) => row.step))],
      requests: sum((row) => row.requests),
      status1xx: sum((row) => row.status1xx),
      status2xx: sum((row) => row.status2xx),
      status3xx: sum((row) => row.status3xx),
      status4xx: sum((row) => row.status4xx),
      status5xx: sum((row) => row.status5xx),
      bytes: sum((row) => Number(row.bytes)),
      // One latency sample per request, in the histogram's buckets.
      latencySamples: sum((row) => row.latency.reduce((total, n) => total + n, 0)),
    }).toEqual({
      step: [60],
      requests: paths.length,
      status1xx: 0,
      status2xx: 3,
      status3xx: 0,
      status4xx: 1,
      status5xx: 1,
      // Caddy's `size` is the response body's bytes.
      bytes: paths.reduce((total, pathname) => total + Buffer.byteLength(BODIES[pathname]?.body ?? ""), 0),
      latencySamples: paths.length,
    });
    // Each minute is one the requests were made in (Caddy's `ts` read as Unix seconds, not milliseconds).
    for (const row of rows) {
      expect(row.start.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 60_000) * 60_000);
      expect(row.start.getTime()).toBeLessThanOrEqual(after);
    }
  }, 120_000);
});
