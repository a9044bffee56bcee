// The router: Caddy's whole config rendered from the database and loaded through the admin API (docs/security.md,
// "Caddy"). Every writer goes through syncRouting, which holds a transaction-scoped advisory lock while it reads the
// desired state, posts it and records the hash: two writers can never post in the wrong order (the later one always
// reads the later state), and no session state is left on a pooled connection (PgBouncer, transaction mode).
import type { Logger } from "pino";
import { caddyAccessLogPath } from "@/lib/data-paths";
import type { Db, Tx } from "@/lib/db";
import { ConfigError, type Env, getEnv } from "@/lib/env";
import {
  type AccessLogOptions,
  type ApplyResult,
  applyCaddyConfig,
  type CaddyClient,
  type CaddyConfig,
  CaddyError,
  type DesiredApp,
  type DesiredDomain,
  normalizeHostname,
  type RetryPolicy,
  renderCaddyConfig,
  type TlsRenderOptions,
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
  /** HTTPS through Caddy (TUSSILAGO_TLS=on); absent: plain HTTP only, as before custom domains. */
  tls?: TlsRenderOptions;
  /** Where Caddy writes the tenant routes' access log for the metrics (lib/engine/metrics); absent: no log. */
  accessLog?: AccessLogOptions;
};

/** "unix:/run/caddy.sock" → "unix//run/caddy.sock"; "http://127.0.0.1:2019" → "127.0.0.1:2019". */
export function caddyAdminListen(endpoint: string): string {
  if (endpoint.startsWith("unix:")) return `unix/${endpoint.slice("unix:".length)}`;
  return new URL(endpoint).host;
}

/**
 * The portal behind Caddy: with TLS on and an https public URL, Caddy serves the public URL's host and proxies to
 * the web server (its bind address, or loopback when it listens on all of them). Null otherwise, or when the host
 * cannot have a public certificate (an IP address, localhost).
 */
export function portalUpstream(env: Env): TlsRenderOptions["portal"] {
  if (!env.tls.enabled || !env.publicUrl.startsWith("https://")) return null;
  let hostname: string;
  try {
    hostname = normalizeHostname(new URL(env.publicUrl).hostname);
  } catch {
    return null;
  }
  const bind = env.bindAddress;
  const host =
    bind === "0.0.0.0" || bind === "::" || bind === "" ? "127.0.0.1" : bind.includes(":") ? `[${bind}]` : bind;
  return { hostname, dial: `${host}:${env.port}` };
}

/**
 * The routing config from the environment. `tlsAskUrl` overrides the environment's (the `ask` listener started on a
 * free port, in tests); with TLS on, one of them must be known.
 */
export function routingConfigFromEnv(env: Env = getEnv(), overrides: { tlsAskUrl?: string } = {}): RoutingConfig {
  const askUrl = overrides.tlsAskUrl ?? env.tlsAskUrl;
  if (env.tls.enabled && askUrl === null) {
    throw new ConfigError("TUSSILAGO_TLS=on needs the ask listener's port: set TUSSILAGO_TLS_ASK_PORT (not 0).");
  }
  const tls: TlsRenderOptions | null =
    env.tls.enabled && askUrl !== null
      ? {
          httpsListen: env.release.caddyHttpsListen,
          askUrl,
          acme: { ca: env.tls.acmeCa, email: env.tls.acmeEmail, trustedRootsPemFile: env.tls.acmeCaRoot },
          portal: portalUpstream(env),
        }
      : null;
  return {
    routerId: env.release.caddyAdmin,
    listen: env.release.caddyListen,
    adminListen: caddyAdminListen(env.release.caddyAdmin),
    appsDomain: env.appsDomain,
    // Caddy's own automatic HTTPS stays off: with TLS on the config names its certificates and redirects itself.
    automaticHttps: false,
    ...(tls ? { tls } : {}),
    // Rolled at 50 MB, five rolled files kept: the sampler reads the live file every 15 s, so the rolled ones are
    // only a short history for an operator.
    accessLog: { filename: caddyAccessLogPath(env.dataDir), rollSizeMb: 50, rollKeep: 5 },
  };
}

function renderOptions(config: RoutingConfig) {
  return {
    listen: config.listen,
    adminListen: config.adminListen,
    automaticHttps: config.automaticHttps,
    tls: config.tls ?? null,
    accessLog: config.accessLog ?? null,
  };
}

/**
 * What Caddy should serve, from the database: every running app under `<app>-<team slug>.<apps domain>` with its
 * healthy replicas as upstreams, and stopped apps with none (Caddy then answers 503 "not running" instead of 404).
 * An app's verified domains join its hostnames (one flagged because its proof went missing stays routed until the
 * domain layer acts on it); pending ones do not. A domain redirects HTTP to HTTPS only once Caddy serves its
 * certificate (lib/engine/tls-status.ts), so the redirect never points at a name without one.
 * An app whose values would not render is left out with a warning, so one bad row cannot take every route down;
 * a domain that would not render, or whose name is taken, is left out alone.
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
      // Part of this one findMany (Prisma loads each relation level with one more statement, not one per app).
      domains: {
        where: { status: "verified" },
        select: { hostname: true, redirectHttps: true, hsts: true, tlsStatus: true },
        orderBy: { hostname: "asc" },
      },
      processTypes: true,
      // Only web replicas serve HTTP; the other process types are never routed (#15).
      replicaContainers: {
        where: { status: "healthy", process: "web", hostPort: { not: null } },
        select: { hostPort: true },
        orderBy: { index: "asc" },
      },
    },
    // The oldest app keeps a hostname if two ever collide (see below).
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  const claimed = new Set<string>();
  // The portal's host is never an app's (the domain layer refuses it too; this keeps one bad row from failing all).
  if (config.tls?.portal) claimed.add(config.tls.portal.hostname.toLowerCase());
  const desired: DesiredApp[] = [];
  for (const app of apps) {
    // A release without a web process (workers only) has no address: no route at all, not even a 503 one.
    if (app.processTypes.length > 0 && !app.processTypes.includes("web")) continue;
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
    const domains = routableDomains(app.domains, claimed, candidate, config, log);
    desired.push(domains.length > 0 ? { ...candidate, domains } : candidate);
  }
  return desired;
}

type DomainRow = { hostname: string; redirectHttps: boolean; hsts: boolean; tlsStatus: string };

function routableDomains(
  rows: readonly DomainRow[],
  claimed: Set<string>,
  app: DesiredApp,
  config: RoutingConfig,
  log?: Logger,
): DesiredDomain[] {
  const domains: DesiredDomain[] = [];
  for (const row of rows) {
    const domain: DesiredDomain = {
      hostname: row.hostname,
      redirectHttps: row.redirectHttps && row.tlsStatus === "issued",
      hsts: row.hsts,
    };
    let hostname: string;
    try {
      hostname = normalizeHostname(row.hostname);
      renderCaddyConfig([{ ...app, domains: [domain] }], renderOptions(config));
    } catch (error) {
      log?.warn({ appId: app.appId, err: error }, "domain left out of the routing config: it does not render");
      continue;
    }
    if (claimed.has(hostname)) {
      log?.warn({ appId: app.appId }, "domain left out of the routing config: its hostname is routed already");
      continue;
    }
    claimed.add(hostname);
    domains.push(domain);
  }
  return domains;
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
