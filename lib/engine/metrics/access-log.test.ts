// The access-log ingester against recorded Caddy 2.6 JSON lines (fixtures/): per-app, per-minute counts, status
// classes, bytes and latency; hostile lines skipped and counted; hosts mapped to the right app across teams (a
// pending domain or an unknown host counts for nobody); exactly once across passes; a last line still being written,
// a rolled file, a truncated file and the per-pass read bound.
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { quantileMs } from "@/lib/domain/metrics-histogram";
import { INGEST_STATE_ID, ingestAccessLog } from "@/lib/engine/metrics";
import { createTestTeam, createTestUser, userCtx } from "@/test/factories";
import { silentLog } from "@/test/release-helpers";

const APPS_DOMAIN = "apps.test.internal";
const FIXTURES = path.join(import.meta.dirname, "fixtures");

let dir: string;
let file: string;
let hosts: Record<string, string>;
let appA: string;
let appB: string;

async function teamApp(name: string) {
  const user = await createTestUser();
  const team = await createTestTeam(user.id, `${name} ${randomBytes(2).toString("hex")}`);
  const app = await createApp(getDb(), await userCtx(user.id, team.id), { name });
  return { team, app, host: `${name}-${team.slug}.${APPS_DOMAIN}` };
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-access-log-"));
  file = path.join(dir, "access.log");
  const a = await teamApp("shop");
  const b = await teamApp("blog");
  appA = a.app.id;
  appB = b.app.id;
  // Team B's verified domain counts for B; a pending one (another team's claim in progress) for nobody.
  const suffix = randomBytes(3).toString("hex");
  await getDb().domain.create({
    data: {
      appId: b.app.id,
      teamId: b.team.id,
      hostname: `www.blog-${suffix}.example`,
      status: "verified",
      verificationToken: "t1",
    },
  });
  await getDb().domain.create({
    data: {
      appId: a.app.id,
      teamId: a.team.id,
      hostname: `pending-${suffix}.example`,
      status: "pending",
      verificationToken: "t2",
    },
  });
  hosts = {
    A: a.host,
    A_UPPER: a.host.toUpperCase(),
    B: b.host,
    B_DOMAIN: `www.blog-${suffix}.example`,
    PENDING: `pending-${suffix}.example`,
  };
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function fixture(name: string): Promise<string> {
  const text = await fs.readFile(path.join(FIXTURES, name), "utf8");
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (_, key: string) => hosts[key] ?? key);
}

const ingest = (maxBytes?: number) =>
  ingestAccessLog({ db: getDb(), file, appsDomain: APPS_DOMAIN, log: silentLog, maxBytes });

async function reset() {
  await getDb().httpMetric.deleteMany({});
  await getDb().metricsIngestState.deleteMany({});
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
}

async function rowsOf(appId: string) {
  return getDb().httpMetric.findMany({ where: { appId, step: 60 }, orderBy: { start: "asc" } });
}

async function requestsOf(appId: string): Promise<number> {
  return (await rowsOf(appId)).reduce((sum, row) => sum + row.requests, 0);
}

describe("ingesting Caddy's access log", () => {
  it("counts each app's requests per minute with status classes, bytes and latency, skipping hostile lines", async () => {
    await reset();
    await fs.writeFile(file, (await fixture("caddy-access.log")) + (await fixture("caddy-access-hostile.log")));
    const report = await ingest();
    expect(report).toMatchObject({ lines: 20, requests: 8, skipped: 10, unmapped: 2 });

    const a = await rowsOf(appA);
    expect(a.map((row) => row.start.toISOString())).toEqual(["2025-12-03T18:20:00.000Z", "2025-12-03T18:21:00.000Z"]);
    const [first, second] = a;
    expect(first).toMatchObject({
      requests: 5,
      status1xx: 0,
      status2xx: 2,
      status3xx: 1,
      status4xx: 1,
      status5xx: 1,
      bytes: BigInt(612 + 10900 + 0 + 18 + 21),
    });
    // 1.204 s is the slowest of five: p99 is its bucket, p50 the median's (4.512 ms).
    expect(quantileMs(first?.latency ?? [], 0.99)).toBeGreaterThanOrEqual(1204);
    expect(quantileMs(first?.latency ?? [], 0.5)).toBeGreaterThanOrEqual(4.512);
    expect(quantileMs(first?.latency ?? [], 0.5)).toBeLessThan(4.512 * 1.19);
    expect(second).toMatchObject({ requests: 1, status2xx: 1, bytes: 612n });

    // B's own host and its verified domain; A's pending domain counted for nobody.
    const b = await rowsOf(appB);
    expect(b).toHaveLength(1);
    expect(b[0]).toMatchObject({ requests: 2, status2xx: 2, bytes: 2050n });
    const state = await getDb().metricsIngestState.findUniqueOrThrow({ where: { id: INGEST_STATE_ID } });
    expect(state).toMatchObject({ skipped: 10n, unmapped: 2n, offset: BigInt((await fs.stat(file)).size) });
  });

  it("counts nothing twice: a pass with nothing new writes nothing", async () => {
    const before = await requestsOf(appA);
    expect(await ingest()).toMatchObject({ lines: 0, requests: 0 });
    expect(await requestsOf(appA)).toBe(before);
  });

  it("leaves a last line still being written for the next pass", async () => {
    await reset();
    const [line] = (await fixture("caddy-access.log")).split("\n");
    await fs.writeFile(file, `${line}\n${line?.slice(0, 100)}`);
    expect(await ingest()).toMatchObject({ requests: 1, skipped: 0 });
    await fs.appendFile(file, `${line?.slice(100)}\n`);
    expect(await ingest()).toMatchObject({ requests: 1, skipped: 0 });
    expect(await requestsOf(appA)).toBe(2);
  });

  it("finishes a rolled file before reading the new one from its start", async () => {
    await reset();
    const lines = (await fixture("caddy-access.log")).split("\n").filter(Boolean);
    const [one, two, three] = lines;
    await fs.writeFile(file, `${one}\n`);
    expect(await ingest()).toMatchObject({ requests: 1 });
    // Written after the last pass, then Caddy rolls the file (renamed beside it) and starts a new one.
    await fs.appendFile(file, `${two}\n`);
    await fs.rename(file, path.join(dir, "access-2025-12-03T18-25-00.000.log"));
    await fs.writeFile(file, `${three}\n`);
    expect(await ingest()).toMatchObject({ requests: 2 });
    expect(await requestsOf(appA)).toBe(3);
    expect(await ingest()).toMatchObject({ requests: 0 });
  });

  it("reads a truncated file from its start", async () => {
    await reset();
    const lines = (await fixture("caddy-access.log")).split("\n").filter(Boolean);
    await fs.writeFile(file, `${lines.slice(0, 5).join("\n")}\n`);
    expect(await ingest()).toMatchObject({ requests: 5 });
    // Same inode, shorter than the saved offset.
    await fs.writeFile(file, `${lines[0]}\n`);
    expect(await ingest()).toMatchObject({ requests: 1 });
    expect(await requestsOf(appA)).toBe(6);
  });

  it("reads at most maxBytes per pass and catches up over the next ones", async () => {
    await reset();
    const text = await fixture("caddy-access.log");
    await fs.writeFile(file, text);
    const first = await ingest(1500);
    expect(first.lines).toBeGreaterThan(0);
    expect(first.lines).toBeLessThan(10);
    let total = first.requests;
    for (let i = 0; i < 20; i += 1) total += (await ingest(1500)).requests;
    expect(total).toBe(8);
  });

  it("skips a line longer than any a request should make, without stalling", async () => {
    await reset();
    const [line] = (await fixture("caddy-access.log")).split("\n");
    const huge = JSON.stringify({ ts: 1764786000, request: { host: hosts.A, uri: `/${"a".repeat(70_000)}` } });
    await fs.writeFile(file, `${huge}\n${line}\n`);
    expect(await ingest()).toMatchObject({ requests: 1, skipped: 1 });
  });

  it("maps hosts and writes the rows in a number of queries that does not grow with the apps or the lines", async () => {
    await reset();
    const text = await fixture("caddy-access.log");
    await fs.writeFile(file, text);
    const small = await countQueries(() => ingest());
    await teamApp("extra");
    await teamApp("more");
    await fs.appendFile(file, text.repeat(5));
    const large = await countQueries(() => ingest());
    expect(large.result.requests).toBe(40);
    expect(large.count).toBe(small.count);
  });
});
