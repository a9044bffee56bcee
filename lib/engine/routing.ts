// The router: Caddy's whole config rendered from the database and loaded through the admin API (docs/security.md,
// "Caddy"). Every writer goes through syncRouting, which holds a transaction-scoped advisory lock while it reads the
// desired state, posts it and records the hash: two writers can never post in the wrong order (the later one always
// reads the later state), and no session state is left on a pooled connection (PgBouncer, transaction mode).
import type { Logger } from "pino";
import type { Db, Tx } from "@/lib/db";
import { type Env, getEnv } from "@/lib/env";
import {
  type ApplyResult,
  applyCaddyConfig,
  type CaddyClient,
  type CaddyConfig,
  CaddyError,
  type DesiredApp,
  normalizeHostname,
  type RetryPolicy,
  renderCaddyConfig,
} from "@/lib/infra/caddy";

/** pg_advisory_xact_lock key of Caddy writes; any constant works as long as nothing else uses it. */
export const ROUTING_LOCK_KEY = 7_104_118_001;

// Long enough for applyCaddyConfig's whole retry budget plus waiting for another sync to release the lock; a
// transaction that outlives it is rolled back, and the next sync re-applies (Caddy's live config is compared too).
const SYNC_TRANSACTION_TIMEOUT_MS = 300_000;
const SYNC_MAX_WAIT_MS = 30_000;

export type RoutingConfig = {
  /** RouterState.id: the admin endpoint, so pointing the platform at another Caddy applies the config there too. */
  routerId: string;
  listen: readonly string[];
  /** Caddy's notation of its own admin address, kept in the config so a load does not move the admin endpoint. */
  adminListen: string;
  appsDomain: string;
  automaticHttps: boolean;
};

/** "unix:/run/caddy.sock" → "unix//run/caddy.sock"; "http://127.0.0.1:2019" → "127.0.0.1:2019". */
export function caddyAdminListen(endpoint: string): string {
  if (endpoint.startsWith("unix:")) return `unix/${endpoint.slice("unix:".length)}`;
  return new URL(endpoint).host;
}

export function routingConfigFromEnv(env: Env = getEnv()): RoutingConfig {
  return {
    routerId: env.release.caddyAdmin,
    listen: env.release.caddyListen,
    adminListen: caddyAdminListen(env.release.caddyAdmin),
    appsDomain: env.appsDomain,
    // Apps are served over plain HTTP behind the operator's TLS termination for now; host setup's Caddy does the same.
    automaticHttps: false,
  };
}

function renderOptions(config: RoutingConfig) {
  return { listen: config.listen, adminListen: config.adminListen, automaticHttps: config.automaticHttps };
}

/**
 * What Caddy should serve, from the database: every running app under `<app>-<team slug>.<apps domain>` with its
 * healthy replicas as upstreams, and stopped apps with none (Caddy then answers 503 "not running" instead of 404).
 * An app whose values would not render is left out with a warning, so one bad row cannot take every route down.
 */
export async function desiredRouting(db: Db | Tx, config: RoutingConfig, log?: Logger): Promise<DesiredApp[]> {
  const apps = await db.app.findMany({
    where: { status: { in: ["running", "stopped"] } },
    select: {
      id: true,
      name: true,
      status: true,
      healthCheckPath: true,
      team: { select: { slug: true } },
      replicaContainers: {
        where: { status: "healthy", hostPort: { not: null } },
        select: { hostPort: true },
        orderBy: { index: "asc" },
      },
    },
    // The oldest app keeps a hostname if two ever collide (see below).
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  const claimed = new Set<string>();
  const desired: DesiredApp[] = [];
  for (const app of apps) {
    const ports = app.status === "running" ? app.replicaContainers.map((replica) => replica.hostPort) : [];
    const candidate: DesiredApp = {
      appId: app.id,
      hostnames: [`${app.name}-${app.team.slug}.${config.appsDomain}`],
      upstreams: [...new Set(ports)].flatMap((port) => (port === null ? [] : [{ dial: `127.0.0.1:${port}` }])),
      healthCheckPath: app.healthCheckPath,
    };
    try {
      renderCaddyConfig([candidate], renderOptions(config));
    } catch (error) {
      log?.warn({ appId: app.id, err: error }, "app left out of the routing config: a value does not render");
      continue;
    }
    // `<app>-<slug>` can in theory be spelled by two (app, team) pairs; Caddy would accept both silently.
    const hostname = normalizeHostname(candidate.hostnames[0] ?? "");
    if (claimed.has(hostname)) {
      log?.warn({ appId: app.id }, "app left out of the routing config: its hostname belongs to an older app");
      continue;
    }
    claimed.add(hostname);
    desired.push(candidate);
  }
  return desired;
}

/** The whole config Caddy should run now, rendered from the database (what syncRouting would load). */
export async function renderDesiredConfig(db: Db | Tx, config: RoutingConfig, log?: Logger): Promise<CaddyConfig> {
  return renderCaddyConfig(await desiredRouting(db, config, log), renderOptions(config));
}

export type SyncOptions = {
  config: RoutingConfig;
  log?: Logger;
  retry?: RetryPolicy;
  sleep?: (ms: number) => Promise<void>;
  /**
   * Database changes that must be live exactly when Caddy has the matching config (a release's traffic switch).
   * They run under the lock before rendering and are rolled back if Caddy does not take the config.
   */
  change?: (tx: Tx) => Promise<void>;
  /** Called after Caddy took the config, before the transaction commits (tests inject crashes here). */
  afterApply?: () => Promise<void> | void;
};

export async function syncRouting(db: Db, caddy: CaddyClient, options: SyncOptions): Promise<ApplyResult> {
  const { config, log } = options;
  return await db.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ROUTING_LOCK_KEY}::bigint)`;
      if (options.change) await options.change(tx);
      const desired = await desiredRouting(tx, config, log);
      const rendered = renderCaddyConfig(desired, renderOptions(config));
      const state = await tx.routerState.findUnique({ where: { id: config.routerId } });
      const result = await applyCaddyConfig(caddy, rendered, {
        lastAppliedHash: state?.lastAppliedHash ?? null,
        ...(options.retry ? { retry: options.retry } : {}),
        ...(options.sleep ? { sleep: options.sleep } : {}),
        onRetry: (err, attempt, delayMs) => log?.warn({ caddy: err.toLog(), attempt, delayMs }, "caddy load failed"),
      });
      if (options.afterApply) await options.afterApply();
      if (result.applied || state?.lastAppliedHash !== result.hash) {
        await tx.routerState.upsert({
          where: { id: config.routerId },
          create: { id: config.routerId, lastAppliedHash: result.hash, appliedAt: new Date() },
          update: { lastAppliedHash: result.hash, appliedAt: new Date() },
        });
      }
      if (result.applied) log?.info({ apps: desired.length, hash: result.hash }, "routing config loaded into caddy");
      return result;
    },
    { timeout: SYNC_TRANSACTION_TIMEOUT_MS, maxWait: SYNC_MAX_WAIT_MS },
  );
}

/** A message for the user when the router could not be updated; Caddy's own text stays in the logs. */
export function routingFailureMessage(error: unknown): string | null {
  if (!(error instanceof CaddyError)) return null;
  return error.userMessage;
}
