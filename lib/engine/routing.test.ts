// The routing config rendered from the database and loaded into a fake Caddy admin API: what gets a route, what
// does not, skipping unchanged loads, retries, a clear failure, and the advisory lock that orders concurrent syncs.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { caddyAccessLogPath } from "@/lib/data-paths";
import { getDb } from "@/lib/db";
import {
  caddyAdminListen,
  desiredRouting,
  ROUTING_LOCK_KEY,
  routingConfigFromEnv,
  syncRouting,
} from "@/lib/engine/routing";
import { ConfigError, parseEnv } from "@/lib/env";
import type { AppStatus, ReplicaStatus } from "@/lib/generated/prisma/enums";
import { CaddyError, createCaddyClient } from "@/lib/infra/caddy";
import { createTestTeam, createTestUser } from "@/test/factories";
import { type FakeCaddy, startFakeCaddy } from "@/test/fake-caddy";
import { withRawClient } from "@/test/helpers";
import { routeHandlerOf, routingFor, silentLog, upstreamsOf } from "@/test/release-helpers";

let caddy: FakeCaddy;
// Test files share one PostgreSQL cluster (a database each), and advisory locks are per database.
const THIS_DATABASE = "database = (SELECT oid FROM pg_database WHERE datname = current_database())";

beforeAll(async () => {
  caddy = await startFakeCaddy();
});

afterAll(async () => {
  await caddy.close();
});

function client() {
  return createCaddyClient({ adminEndpoint: caddy.url, timeoutMs: 2_000 });
}

let portSeq = 20_000 + Math.floor(Math.random() * 10_000);

async function team(slug?: string) {
  const owner = await createTestUser();
  const created = await createTestTeam(owner.id);
  if (slug) await getDb().team.update({ where: { id: created.id }, data: { slug } });
  return { ...created, slug: slug ?? created.slug };
}

async function appWith(
  teamId: string,
  status: AppStatus,
  replicas: ReplicaStatus[],
  options: { name?: string; healthCheckPath?: string } = {},
) {
  const db = getDb();
  const app = await db.app.create({
    data: {
      teamId,
      name: options.name ?? `r-${randomBytes(3).toString("hex")}`,
      status,
      ...(options.healthCheckPath ? { healthCheckPath: options.healthCheckPath } : {}),
    },
  });
  const deployment = await db.deployment.create({
    data: { appId: app.id, teamId, number: 1, status: "running", sourceType: "upload" },
  });
  const ports: Record<ReplicaStatus, number[]> = {
    starting: [],
    healthy: [],
    draining: [],
    stopped: [],
    failed: [],
    crashed: [],
  };
  for (const [index, replicaStatus] of replicas.entries()) {
    portSeq += 1;
    await db.replica.create({
      data: {
        appId: app.id,
        deploymentId: deployment.id,
        index,
        containerName: `tsl-${app.id.replaceAll("-", "")}-1-${index}`,
        hostPort: portSeq,
        status: replicaStatus,
      },
    });
    ports[replicaStatus].push(portSeq);
  }
  return { app, ports };
}

function dials(ports: number[]): string[] {
  return ports.map((port) => `127.0.0.1:${port}`).sort();
}

describe("desiredRouting and syncRouting", () => {
  it("routes running apps to their healthy replicas, stopped apps to a 503, and nothing else", async () => {
    const { id: teamId, slug } = await team();
    const running = await appWith(teamId, "running", ["healthy", "draining", "healthy", "starting"], {
      healthCheckPath: "/healthz",
    });
    const single = await appWith(teamId, "running", ["healthy"]);
    const stopped = await appWith(teamId, "stopped", ["healthy"]);
    const created = await appWith(teamId, "created", []);
    const deleting = await appWith(teamId, "deleting", ["healthy"]);
    const failed = await appWith(teamId, "failed", []);

    const result = await syncRouting(getDb(), client(), { config: routingFor(caddy), log: silentLog });
    expect(result.applied).toBe(true);
    const config = caddy.config;
    expect(upstreamsOf(config, running.app.id)).toEqual(dials(running.ports.healthy));
    expect(upstreamsOf(config, single.app.id)).toEqual(dials(single.ports.healthy));
    expect(routeHandlerOf(config, stopped.app.id)).toBe("static_response");
    for (const absent of [created, deleting, failed]) expect(routeHandlerOf(config, absent.app.id)).toBeNull();

    const routes = (config as { apps: { http: { servers: { tussilago: { routes: Record<string, unknown>[] } } } } })
      .apps.http.servers.tussilago.routes;
    const route = routes.find((r) => r["@id"] === `tsl-app-${running.app.id.replaceAll("-", "")}`) as {
      match: { host: string[] }[];
      handle: { health_checks: { active: { uri: string } } }[];
    };
    expect(route.match[0]?.host).toEqual([`${running.app.name}-${slug}.localhost`]);
    expect(route.handle[0]?.health_checks.active.uri).toBe("/healthz");
    // The catch-all 404 stays last.
    expect(routes.at(-1)?.["@id"]).toBe("tsl-fallback");
  });

  it("renders several apps and replicas the same way whatever the order they were stored in", async () => {
    const { id: teamId } = await team();
    const apps = [];
    for (let i = 0; i < 4; i += 1) apps.push(await appWith(teamId, "running", ["healthy", "healthy", "healthy"]));
    const desired = await desiredRouting(getDb(), routingFor(caddy));
    for (const { app, ports } of apps) {
      const entry = desired.find((d) => d.appId === app.id);
      expect(entry?.upstreams.map((u) => u.dial).sort()).toEqual(dials(ports.healthy));
    }
    await syncRouting(getDb(), client(), { config: routingFor(caddy), log: silentLog });
    for (const { app, ports } of apps) expect(upstreamsOf(caddy.config, app.id)).toEqual(dials(ports.healthy));
  });

  it("does not post an unchanged config, and posts it again to a Caddy that lost it", async () => {
    await appWith((await team()).id, "running", ["healthy"]);
    await syncRouting(getDb(), client(), { config: routingFor(caddy) });
    const loads = caddy.loadRequests;
    const again = await syncRouting(getDb(), client(), { config: routingFor(caddy) });
    expect(again.applied).toBe(false);
    expect(caddy.loadRequests).toBe(loads);
    const state = await getDb().routerState.findUniqueOrThrow({ where: { id: caddy.url } });
    expect(state.lastAppliedHash).toBe(again.hash);

    caddy.restart();
    const restored = await syncRouting(getDb(), client(), { config: routingFor(caddy) });
    expect(restored.applied).toBe(true);
    expect(caddy.loadRequests).toBe(loads + 1);
  });

  it("retries Caddy errors with backoff, then fails clearly and rolls the change back", async () => {
    const { id: teamId } = await team();
    const { app } = await appWith(teamId, "running", ["healthy"]);
    const sleeps: number[] = [];
    const sleep = async (ms: number) => {
      sleeps.push(ms);
    };
    const retry = { attempts: 3, baseDelayMs: 100, maxDelayMs: 400 };

    caddy.failNext(2, 502);
    const recovered = await syncRouting(getDb(), client(), { config: routingFor(caddy), retry, sleep });
    expect(recovered.applied).toBe(true);
    expect(sleeps).toHaveLength(2);
    for (const ms of sleeps) expect(ms).toBeGreaterThanOrEqual(50);

    caddy.failNext(3, 500);
    const error = await syncRouting(getDb(), client(), {
      config: routingFor(caddy),
      retry,
      sleep,
      change: async (tx) => {
        await tx.app.update({ where: { id: app.id }, data: { status: "stopped" } });
      },
    }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(CaddyError);
    expect((error as CaddyError).userMessage).toBe("The router (Caddy) reported an internal error.");
    // The change did not survive: the database still says what Caddy still serves.
    expect((await getDb().app.findUniqueOrThrow({ where: { id: app.id } })).status).toBe("running");
    expect(routeHandlerOf(caddy.config, app.id)).toBe("reverse_proxy");
  });

  it("times out on a Caddy that does not answer, with a message for the user", async () => {
    caddy.hangNext(2);
    const error = await syncRouting(getDb(), createCaddyClient({ adminEndpoint: caddy.url, timeoutMs: 200 }), {
      config: routingFor(caddy),
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
      sleep: async () => undefined,
    }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(CaddyError);
    expect((error as CaddyError).kind).toBe("timeout");
    expect((error as CaddyError).userMessage).toBe("The router (Caddy) did not answer in time.");
  });

  it("orders concurrent syncs with a transaction-scoped advisory lock", async () => {
    const { id: teamId } = await team();
    const { app } = await appWith(teamId, "running", ["healthy"]);
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let entered: () => void = () => undefined;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const first = syncRouting(getDb(), client(), {
      config: routingFor(caddy),
      change: async (tx) => {
        await tx.app.update({ where: { id: app.id }, data: { status: "stopped" } });
        entered();
        await gate;
      },
    });
    await inside;
    const requestsBefore = caddy.requests.length;
    const second = syncRouting(getDb(), client(), { config: routingFor(caddy) });
    // Wait until the second sync is queued on the lock, as PostgreSQL sees it.
    for (;;) {
      const waiting = await withRawClient(async (raw) => {
        const result = await raw.query<{ count: string }>(
          `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = $1 AND ${THIS_DATABASE}`,
          [ROUTING_LOCK_KEY % 2 ** 32],
        );
        return Number(result.rows[0]?.count ?? 0);
      });
      if (waiting > 0) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(caddy.requests.length).toBe(requestsBefore);
    open();
    await first;
    await second;
    // The second sync read the state the first committed.
    expect(routeHandlerOf(caddy.config, app.id)).toBe("static_response");
    // No session-level advisory lock is left behind on any connection.
    const held = await withRawClient(async (raw) => {
      const result = await raw.query<{ count: string }>(
        `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND ${THIS_DATABASE}`,
        [ROUTING_LOCK_KEY % 2 ** 32],
      );
      return Number(result.rows[0]?.count ?? 0);
    });
    expect(held).toBe(0);
  });

  it("leaves out an app that would not render, or whose hostname an older app has, and routes the rest", async () => {
    const good = await appWith((await team()).id, "running", ["healthy"]);
    const broken = await appWith((await team("Not_A_Label")).id, "running", ["healthy"]);
    // "a" + "b-c-<hex>" and "a-b" + "c-<hex>" spell the same hostname.
    const hex = randomBytes(3).toString("hex");
    const older = await appWith((await team(`b-c-${hex}`)).id, "running", ["healthy"], { name: "a" });
    const younger = await appWith((await team(`c-${hex}`)).id, "running", ["healthy"], { name: "a-b" });
    await syncRouting(getDb(), client(), { config: routingFor(caddy), log: silentLog });
    expect(upstreamsOf(caddy.config, good.app.id)).toEqual(dials(good.ports.healthy));
    expect(upstreamsOf(caddy.config, older.app.id)).toEqual(dials(older.ports.healthy));
    expect(routeHandlerOf(caddy.config, broken.app.id)).toBeNull();
    expect(routeHandlerOf(caddy.config, younger.app.id)).toBeNull();
  });
});

describe("routingConfigFromEnv", () => {
  const base = { TUSSILAGO_SECRET_KEY: "x".repeat(32), TUSSILAGO_HOST_CONFIG: "none" };

  it("defaults to Caddy's loopback admin port and :80, and keeps a socket's admin address in the config", () => {
    const defaults = parseEnv(base);
    expect(routingConfigFromEnv(defaults)).toEqual({
      routerId: "http://127.0.0.1:2019",
      listen: [":80"],
      adminListen: "127.0.0.1:2019",
      appsDomain: "localhost",
      automaticHttps: false,
      // The tenant routes' access log for the metrics, in the data directory.
      accessLog: { filename: caddyAccessLogPath(defaults.dataDir), rollSizeMb: 50, rollKeep: 5 },
    });
    const env = parseEnv({
      ...base,
      TUSSILAGO_CADDY_ADMIN: "unix:/run/tussilago/caddy-admin.sock",
      TUSSILAGO_CADDY_LISTEN: ":80 :8080",
      TUSSILAGO_DRAIN_SECONDS: "0",
    });
    expect(routingConfigFromEnv(env)).toMatchObject({
      routerId: "unix:/run/tussilago/caddy-admin.sock",
      adminListen: "unix//run/tussilago/caddy-admin.sock",
      listen: [":80", ":8080"],
    });
    expect(env.release).toMatchObject({ drainMs: 0, healthTimeoutMs: 60_000, releaseCommandTimeoutMs: 600_000 });
  });

  it.each(["http://10.0.0.5:2019", "https://127.0.0.1:2019", "unix:relative.sock", "http://127.0.0.1:2019/config"])(
    "refuses %s as the admin endpoint: it must stay out of tenants' reach",
    (value) => {
      expect(() => parseEnv({ ...base, TUSSILAGO_CADDY_ADMIN: value })).toThrow(ConfigError);
    },
  );
});

describe("caddyAdminListen", () => {
  it("turns the worker's admin endpoint into Caddy's own notation", () => {
    expect(caddyAdminListen("unix:/run/tussilago/caddy-admin.sock")).toBe("unix//run/tussilago/caddy-admin.sock");
    expect(caddyAdminListen("http://127.0.0.1:2019")).toBe("127.0.0.1:2019");
    expect(caddyAdminListen("http://localhost:2020")).toBe("localhost:2020");
  });
});
