// api_list_apps: `GET /api/v1/apps` (the first page, as clients ask for it) of a team with 1,000 apps, against the
// real platform (production build, `next start`), at a fixed concurrency for a fixed time: requests per second and
// latency. The baseline is `GET /api/health` (one query, no auth) under the same load: the cost of the web server,
// the route wrapper and one round trip to PostgreSQL. SQL statements per request are counted in this process with
// countQueries on the domain functions the route calls, against the same database (the server is another process).
import { performance } from "node:perf_hooks";
import { countQueries } from "@/lib/database/query-counter";
import { createPrismaClient } from "@/lib/db";
import { authenticateApiToken, createApiToken } from "@/lib/domain/api-tokens";
import { listApps } from "@/lib/domain/apps";
import { DEFAULT_PAGE_SIZE } from "@/lib/domain/pagination";
import type { BenchContext } from "@/scripts/bench/context";
import { benchMeta, seedTeam } from "@/scripts/bench/deploy-kit";
import { type LoadResult, runLoad } from "@/scripts/bench/load";
import type { PlatformHandle } from "@/scripts/bench/platform";
import { type Metric, ratio, round } from "@/scripts/bench/stats";

const APPS = 1_000;
const CONCURRENCY = 16;
const DURATION_MS = 10_000;
const QUICK_DURATION_MS = 5_000;
const WARMUP_MS = 2_000;

function describeFailures(result: LoadResult): string | null {
  const statuses = Object.entries(result.statuses);
  if (result.errors === 0 && statuses.length === 0) return null;
  const parts = statuses.map(([status, count]) => `${count} × HTTP ${status}`);
  if (result.errors > 0) parts.push(`${result.errors} errors (first: ${result.firstError ?? "?"})`);
  return parts.join(", ");
}

export async function measureApiListApps(context: BenchContext, platform: PlatformHandle): Promise<Metric> {
  const db = createPrismaClient(await platform.databaseUrl(), 4);
  try {
    context.progress(`api_list_apps: seeding a team with ${APPS} apps`);
    const team = await seedTeam(db, "api");
    // What `npm run manage -- create-token` does: the domain function, a read token.
    const { token } = await createApiToken(db, team.ctx, { name: "bench", scopes: ["read"] });
    const base = Date.now() - APPS * 1_000;
    await db.app.createMany({
      data: Array.from({ length: APPS }, (_, i) => ({
        teamId: team.teamId,
        name: `app-${String(i).padStart(4, "0")}`,
        // Distinct creation times, as apps created one by one have: the list's keyset order depends on them.
        createdAt: new Date(base + i * 1_000),
      })),
    });

    // The route: authenticate the token, then listApps for the first page. Counted on a warm token (its
    // last-used time is only written once a minute).
    const ctx = await authenticateApiToken(db, token, benchMeta());
    const auth = await countQueries(() => authenticateApiToken(db, token, benchMeta()));
    const list = await countQueries(() => listApps(db, ctx, { limit: DEFAULT_PAGE_SIZE }));
    if (list.result.items.length !== DEFAULT_PAGE_SIZE) {
      throw new Error(`listApps returned ${list.result.items.length} apps, expected ${DEFAULT_PAGE_SIZE}`);
    }

    const headers = { authorization: `Bearer ${token}` };
    const probe = await fetch(`${platform.origin}/api/v1/apps`, { headers });
    const text = await probe.text();
    let items = -1;
    try {
      const body = JSON.parse(text) as { items?: unknown[] };
      items = body.items?.length ?? -1;
    } catch {
      // Reported below with the start of the answer.
    }
    if (probe.status !== 200 || items !== DEFAULT_PAGE_SIZE) {
      throw new Error(`GET /api/v1/apps answered ${probe.status} (${items} items): ${text.slice(0, 300)}`);
    }

    const durationMs = context.options.quick ? QUICK_DURATION_MS : DURATION_MS;
    const load = { origin: platform.origin, concurrency: CONCURRENCY, durationMs, warmupMs: WARMUP_MS };
    context.progress(`api_list_apps: GET /api/v1/apps, ${CONCURRENCY} concurrent, ${durationMs / 1000} s`);
    const started = performance.now();
    const apps = await runLoad({ ...load, path: "/api/v1/apps", headers });
    context.progress(`api_list_apps: baseline GET /api/health, ${CONCURRENCY} concurrent, ${durationMs / 1000} s`);
    const health = await runLoad({ ...load, path: "/api/health" });
    const failures = [describeFailures(apps), describeFailures(health)].filter(Boolean);
    if (apps.requests === 0 || health.requests === 0) throw new Error(`no successful requests: ${failures.join("; ")}`);

    return {
      value: round(apps.rps, 0),
      unit: "req/s",
      p50: round(apps.latency.p50),
      p99: round(apps.latency.p99),
      latency_unit: "ms",
      requests: apps.requests,
      sql_per_request: list.count + auth.count,
      sql_list_apps: list.count,
      sql_auth: auth.count,
      baseline: round(health.rps, 0),
      baseline_unit: "req/s (GET /api/health, same load)",
      baseline_p50: round(health.latency.p50),
      baseline_p99: round(health.latency.p99),
      ratio: ratio(apps.rps, health.rps),
      ...(failures.length > 0 ? { failures: failures.join("; ") } : {}),
      notes:
        `${APPS} apps in the team, first page (${DEFAULT_PAGE_SIZE} apps) with a read token, ${CONCURRENCY} ` +
        `closed-loop connections for ${durationMs / 1000} s after ${WARMUP_MS / 1000} s of warm-up, undici Pool on ` +
        `loopback; the platform from scripts/start.ts (next start, LOG_LEVEL=info, started in ` +
        `${round(platform.startSeconds, 0)} s). The load generator shares the machine's CPUs with the server. ` +
        `sql_per_request = authenticateApiToken (${auth.count}) + listApps (${list.count}), counted in-process. ` +
        `Load took ${round((performance.now() - started) / 1000, 0)} s.`,
    };
  } finally {
    await db.$disconnect();
  }
}
