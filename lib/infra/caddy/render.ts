import { invalid } from "./errors";
import {
  type CaddyTlsApp,
  type CheckedTls,
  checkTlsOptions,
  httpsRedirectLocation,
  renderTlsApp,
  type TlsRenderOptions,
} from "./render-tls";
import {
  checkAdminListen,
  checkAppId,
  checkDial,
  checkHealthPath,
  checkListen,
  listenPort,
  normalizeHostname,
  SERVER_NAME,
} from "./validate";

// The whole desired config, rendered from the database's view of routed apps: deterministic, so an unchanged
// platform renders byte-identical JSON.

/** A team's own verified hostname on an app (the Domain model). */
export type DesiredDomain = {
  hostname: string;
  /** HTTP answers a 308 to HTTPS (only once the certificate is issued: the caller decides). TLS only. */
  redirectHttps: boolean;
  /** HTTPS answers carry Strict-Transport-Security. TLS only. */
  hsts: boolean;
};

export type DesiredApp = {
  appId: string;
  /** The platform's own hosts of the app (`<app>-<team slug>.<apps domain>`). */
  hostnames: readonly string[];
  domains?: readonly DesiredDomain[];
  upstreams: readonly { dial: string }[];
  healthCheckPath?: string | null;
};

export type DesiredRouting = readonly DesiredApp[];

export type RenderOptions = {
  // Addresses of the public HTTP server, e.g. [":80"] or [":80", ":443"].
  listen: readonly string[];
  // Caddy's own notation: "unix//run/tussilago/caddy-admin.sock" or "127.0.0.1:2019".
  adminListen: string;
  // Key of the server under apps.http.servers. Defaults to "tussilago".
  serverName?: string;
  automaticHttps: boolean;
  /** HTTPS (TUSSILAGO_TLS=on); absent or null renders the plain HTTP config. */
  tls?: TlsRenderOptions | null;
  /** The tenant routes' JSON access log (metrics, lib/engine/metrics); absent or null: no access log. */
  accessLog?: AccessLogOptions | null;
};

export type AccessLogOptions = {
  /** An absolute path Caddy can write; Caddy creates the directory. */
  filename: string;
  /** Rolled at this size (Caddy keeps `rollKeep` rolled files, compressed). */
  rollSizeMb: number;
  rollKeep: number;
};

/** The logger every access line goes to: `http.log.access.<name>` in Caddy's log namespace. */
export const ACCESS_LOGGER = "tussilago_access";

export type CaddyLogging = {
  logs: Record<
    string,
    {
      writer?: { output: "file"; filename: string; roll_size_mb: number; roll_keep: number; roll_keep_days: number };
      encoder?: { format: "json" };
      include?: string[];
      exclude?: string[];
    }
  >;
};

export type CaddyUpstream = { dial: string };

export type CaddyReverseProxyHandler = {
  handler: "reverse_proxy";
  upstreams: CaddyUpstream[];
  load_balancing: {
    selection_policy: { policy: "round_robin" };
    try_duration: string;
    try_interval: string;
  };
  health_checks: {
    passive: { fail_duration: string; max_fails: number };
    active?: { uri: string; interval: string; timeout: string };
  };
};

export type CaddyStaticResponseHandler = {
  handler: "static_response";
  status_code: number;
  headers: Record<string, string[]>;
  body?: string;
};

export type CaddyHeadersHandler = {
  handler: "headers";
  // Deferred: applied when the response is written, so an app's own header of the same name cannot replace it.
  response: { set: Record<string, string[]>; deferred: true };
};

export type CaddyHandler = CaddyReverseProxyHandler | CaddyStaticResponseHandler | CaddyHeadersHandler;

export type CaddyRoute = {
  "@id": string;
  match?: { host: string[] }[];
  handle: CaddyHandler[];
  // Absent on a route that only adds response headers and lets the next route answer.
  terminal?: true;
};

export type CaddyServer = {
  listen: string[];
  routes: CaddyRoute[];
  automatic_https: { disable: boolean };
  // One empty policy turns TLS on for the server's listeners (certificates chosen by SNI through apps.tls).
  tls_connection_policies?: Record<string, never>[];
  // Access logging: every request to the server is logged to this logger, except for these hosts (the portal's).
  logs?: { default_logger_name: string; skip_hosts?: string[] };
};

export type CaddyConfig = {
  admin: { listen: string };
  logging?: CaddyLogging;
  apps: {
    http: { http_port?: number; https_port?: number; servers: Record<string, CaddyServer> };
    tls?: CaddyTlsApp;
  };
};

export const DEFAULT_SERVER_NAME = "tussilago";
export const FALLBACK_ROUTE_ID = "tsl-fallback";
export const HTTPS_FALLBACK_ROUTE_ID = "tsl-fallback-https";
export const PORTAL_ROUTE_ID = "tsl-portal";
/** The HTTPS server's key: the suffix keeps it apart from the HTTP server whatever serverName is. */
export const HTTPS_SERVER_SUFFIX = "-https";
const HSTS_VALUE = "max-age=31536000";

// With several replicas, a request whose upstream refuses the connection (a container restarting, an old release
// draining) is retried on another one for up to try_duration instead of failing with 502. Caddy only retries
// requests that never reached an upstream, so non-idempotent requests are not replayed.
const LB_TRY_DURATION = "5s";
const LB_TRY_INTERVAL = "250ms";
const PASSIVE_FAIL_DURATION = "30s";
const PASSIVE_MAX_FAILS = 3;
const ACTIVE_INTERVAL = "10s";
const ACTIVE_TIMEOUT = "5s";
const TEXT_PLAIN = "text/plain; charset=utf-8";
const NOT_RUNNING_BODY = "This app is not running.\n";
const NOT_FOUND_BODY = "Not found.\n";

/** `@id` of an app's route: derived from the UUID only, so no tenant string reaches the id namespace. */
export function routeIdForApp(appId: string): string {
  return `tsl-app-${checkAppId(appId).replaceAll("-", "")}`;
}

// Code-unit order, not localeCompare: the output must not depend on the host's locale.
export function compareStrings(a: string, b: string): number {
  if (a < b) return -1;
  if (a > b) return 1;
  return 0;
}

/** `@id` of the route that redirects an app's domains from HTTP to HTTPS. */
export function redirectRouteIdForApp(appId: string): string {
  return `tsl-redirect-${checkAppId(appId).replaceAll("-", "")}`;
}

/** `@id` of the route that adds HSTS to an app's domains on HTTPS. */
export function hstsRouteIdForApp(appId: string): string {
  return `tsl-hsts-${checkAppId(appId).replaceAll("-", "")}`;
}

type CheckedApp = {
  appId: string;
  routeId: string;
  /** The app's own hosts and all its domains, sorted: what the plain HTTP config and the HTTPS server match. */
  hostnames: string[];
  /** Domains whose HTTP requests are redirected to HTTPS, sorted. */
  redirectHosts: string[];
  /** Domains whose HTTPS answers carry HSTS, sorted. */
  hstsHosts: string[];
  dials: string[];
  healthCheckPath: string | null;
};

function checkApp(app: DesiredApp): CheckedApp {
  const appId = checkAppId(app.appId);
  const domains = (app.domains ?? []).map((domain) => ({ ...domain, hostname: normalizeHostname(domain.hostname) }));
  const hostnames = [...app.hostnames.map(normalizeHostname), ...domains.map((domain) => domain.hostname)];
  const dials = app.upstreams.map((upstream) => checkDial(upstream.dial, appId));
  if (new Set(dials).size !== dials.length) {
    // Two replicas cannot share an address: a duplicate is a control-plane bug, and would double one's weight.
    throw invalid("invalid_upstream", `duplicate upstream address for app ${appId}`);
  }
  const healthCheckPath =
    app.healthCheckPath === undefined || app.healthCheckPath === null
      ? null
      : checkHealthPath(app.healthCheckPath, appId);
  return {
    appId,
    routeId: routeIdForApp(appId),
    hostnames: [...hostnames].sort(compareStrings),
    redirectHosts: domains
      .filter((d) => d.redirectHttps)
      .map((d) => d.hostname)
      .sort(compareStrings),
    hstsHosts: domains
      .filter((d) => d.hsts)
      .map((d) => d.hostname)
      .sort(compareStrings),
    dials: [...dials].sort(compareStrings),
    healthCheckPath,
  };
}

function textResponse(status: number, body: string): CaddyStaticResponseHandler {
  return { handler: "static_response", status_code: status, headers: { "Content-Type": [TEXT_PLAIN] }, body };
}

function appRoute(app: CheckedApp, hostnames: string[] = app.hostnames): CaddyRoute {
  const match = [{ host: hostnames }];
  if (app.dials.length === 0) {
    return { "@id": app.routeId, match, handle: [textResponse(503, NOT_RUNNING_BODY)], terminal: true };
  }
  const proxy: CaddyReverseProxyHandler = {
    handler: "reverse_proxy",
    upstreams: app.dials.map((dial) => ({ dial })),
    load_balancing: {
      selection_policy: { policy: "round_robin" },
      try_duration: LB_TRY_DURATION,
      try_interval: LB_TRY_INTERVAL,
    },
    health_checks: {
      passive: { fail_duration: PASSIVE_FAIL_DURATION, max_fails: PASSIVE_MAX_FAILS },
      ...(app.healthCheckPath === null
        ? {}
        : { active: { uri: app.healthCheckPath, interval: ACTIVE_INTERVAL, timeout: ACTIVE_TIMEOUT } }),
    },
  };
  return { "@id": app.routeId, match, handle: [proxy], terminal: true };
}

/**
 * The whole Caddy config for the desired routing. Pure and deterministic: the same desired state renders the same
 * JSON whatever the input order. Throws a CaddyError (and renders nothing) on the first invalid value.
 */
export function renderCaddyConfig(desired: DesiredRouting, options: RenderOptions): CaddyConfig {
  const listen = options.listen.map(checkListen);
  if (listen.length === 0) throw invalid("invalid_option", "no listen address");
  const adminListen = checkAdminListen(options.adminListen);
  const serverName = options.serverName ?? DEFAULT_SERVER_NAME;
  if (!SERVER_NAME.test(serverName)) throw invalid("invalid_option", "invalid server name");

  const tls = options.tls ? checkTlsOptions(options.tls) : null;
  const apps = desired.map(checkApp).sort((a, b) => compareStrings(a.appId, b.appId));

  // Caddy would accept both silently and route by list order (docs/operations.md): uniqueness is ours to guarantee.
  const routeIds = new Set<string>();
  const owners = new Map<string, string>();
  if (tls?.portal) owners.set(tls.portal.hostname, "portal");
  for (const app of apps) {
    if (routeIds.has(app.routeId)) throw invalid("duplicate_route_id", `app ${app.appId} appears more than once`);
    routeIds.add(app.routeId);
    for (const hostname of app.hostnames) {
      const owner = owners.get(hostname);
      if (owner !== undefined) {
        // Validated above, so the hostname is a plain DNS name and safe to name in a log line.
        throw invalid("duplicate_hostname", `hostname ${hostname} is claimed by apps ${owner} and ${app.appId}`);
      }
      owners.set(hostname, app.appId);
    }
  }

  // An app without hostnames is unreachable; a host matcher with an empty list is not worth the ambiguity.
  const routed = apps.filter((app) => app.hostnames.length > 0);
  if (tls !== null) {
    const skip = tls.portal ? [tls.portal.hostname] : [];
    return withAccessLog(
      renderWithTls(routed, tls, { listen, adminListen, serverName }),
      options.accessLog ?? null,
      skip,
    );
  }
  const routes = routed.map((app) => appRoute(app));
  // With no matching route Caddy answers 200 with an empty body (docs/operations.md): end with an explicit 404.
  routes.push({ "@id": FALLBACK_ROUTE_ID, handle: [textResponse(404, NOT_FOUND_BODY)], terminal: true });

  return withAccessLog(
    {
      admin: { listen: adminListen },
      apps: {
        http: {
          servers: {
            [serverName]: { listen: [...listen], routes, automatic_https: { disable: !options.automaticHttps } },
          },
        },
      },
    },
    options.accessLog ?? null,
    [],
  );
}

/**
 * Turns on the JSON access log of every server, written by Caddy's file writer (rolled by size, the rolled files
 * compressed and kept a week at most) to the one file the metrics sampler reads, and kept out of Caddy's default
 * log. The portal's host is skipped: its requests are not an app's.
 */
function withAccessLog(config: CaddyConfig, accessLog: AccessLogOptions | null, skipHosts: string[]): CaddyConfig {
  if (accessLog === null) return config;
  // The path is the platform's own (its data directory), never a tenant's; checked anyway, as every rendered value.
  if (!/^\/[A-Za-z0-9._/-]+$/.test(accessLog.filename) || accessLog.filename.includes("..")) {
    throw invalid("invalid_option", "the access log needs an absolute path");
  }
  const loggerName = `http.log.access.${ACCESS_LOGGER}`;
  const servers: Record<string, CaddyServer> = {};
  for (const [name, server] of Object.entries(config.apps.http.servers)) {
    servers[name] = {
      ...server,
      logs: { default_logger_name: ACCESS_LOGGER, ...(skipHosts.length > 0 ? { skip_hosts: skipHosts } : {}) },
    };
  }
  return {
    ...config,
    logging: {
      logs: {
        default: { exclude: [loggerName] },
        [ACCESS_LOGGER]: {
          writer: {
            output: "file",
            filename: accessLog.filename,
            roll_size_mb: accessLog.rollSizeMb,
            roll_keep: accessLog.rollKeep,
            roll_keep_days: 7,
          },
          encoder: { format: "json" },
          include: [loggerName],
        },
      },
    },
    apps: { ...config.apps, http: { ...config.apps.http, servers } },
  };
}

function redirectRoute(id: string, hosts: string[], httpsPort: number): CaddyRoute {
  const location = httpsRedirectLocation(httpsPort);
  return {
    "@id": id,
    match: [{ host: hosts }],
    handle: [{ handler: "static_response", status_code: 308, headers: { Location: [location] } }],
    terminal: true,
  };
}

/**
 * Two servers: HTTP (the listen addresses) and HTTPS (tls.httpsListen), both with Caddy's automatic HTTPS off
 * (render-tls.ts says why). On HTTP, domains with an issued certificate and redirectHttps answer 308 to HTTPS, the
 * rest is served as without TLS; on HTTPS every host of an app is served, with HSTS where asked.
 */
function renderWithTls(
  apps: CheckedApp[],
  tls: CheckedTls,
  server: { listen: string[]; adminListen: string; serverName: string },
): CaddyConfig {
  const httpRoutes: CaddyRoute[] = [];
  const httpsRoutes: CaddyRoute[] = [];
  if (tls.portal !== null) {
    httpRoutes.push(redirectRoute(PORTAL_ROUTE_ID, [tls.portal.hostname], tls.httpsPort));
    httpsRoutes.push({
      "@id": `${PORTAL_ROUTE_ID}-https`,
      match: [{ host: [tls.portal.hostname] }],
      handle: [{ ...portalProxy(tls.portal.dial) }],
      terminal: true,
    });
  }
  for (const app of apps) {
    if (app.redirectHosts.length > 0) {
      httpRoutes.push(redirectRoute(redirectRouteIdForApp(app.appId), app.redirectHosts, tls.httpsPort));
    }
    const redirected = new Set(app.redirectHosts);
    const plain = app.hostnames.filter((hostname) => !redirected.has(hostname));
    if (plain.length > 0) httpRoutes.push(appRoute(app, plain));
    if (app.hstsHosts.length > 0) {
      httpsRoutes.push({
        "@id": hstsRouteIdForApp(app.appId),
        match: [{ host: app.hstsHosts }],
        handle: [
          { handler: "headers", response: { set: { "Strict-Transport-Security": [HSTS_VALUE] }, deferred: true } },
        ],
      });
    }
    // The same @id cannot appear twice in one config: the HTTPS copy of the app route gets a suffix.
    httpsRoutes.push({ ...appRoute(app), "@id": `${app.routeId}-https` });
  }
  httpRoutes.push({ "@id": FALLBACK_ROUTE_ID, handle: [textResponse(404, NOT_FOUND_BODY)], terminal: true });
  httpsRoutes.push({ "@id": HTTPS_FALLBACK_ROUTE_ID, handle: [textResponse(404, NOT_FOUND_BODY)], terminal: true });

  const firstListen = server.listen[0] ?? "";
  return {
    admin: { listen: server.adminListen },
    apps: {
      http: {
        // Caddy takes its ACME challenge ports and which listener is plain HTTP from these (autohttps.go).
        http_port: listenPort(firstListen),
        https_port: tls.httpsPort,
        servers: {
          [server.serverName]: { listen: [...server.listen], routes: httpRoutes, automatic_https: { disable: true } },
          [`${server.serverName}${HTTPS_SERVER_SUFFIX}`]: {
            listen: [...tls.httpsListen],
            routes: httpsRoutes,
            automatic_https: { disable: true },
            tls_connection_policies: [{}],
          },
        },
      },
      tls: renderTlsApp(tls),
    },
  };
}

// The portal is one web server on the host: no balancing or active checks, just the proxy (which replaces
// X-Forwarded-For with the client's address: lib/services/web-server.ts trusts one proxy then).
function portalProxy(dial: string): CaddyReverseProxyHandler {
  return {
    handler: "reverse_proxy",
    upstreams: [{ dial }],
    load_balancing: {
      selection_policy: { policy: "round_robin" },
      try_duration: LB_TRY_DURATION,
      try_interval: LB_TRY_INTERVAL,
    },
    health_checks: { passive: { fail_duration: PASSIVE_FAIL_DURATION, max_fails: PASSIVE_MAX_FAILS } },
  };
}
