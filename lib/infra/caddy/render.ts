import { invalid } from "./errors";
import {
  checkAdminListen,
  checkAppId,
  checkDial,
  checkHealthPath,
  checkListen,
  normalizeHostname,
  SERVER_NAME,
} from "./validate";

// The whole desired config, rendered from the database's view of routed apps: deterministic, so an unchanged
// platform renders byte-identical JSON.

export type DesiredApp = {
  appId: string;
  hostnames: readonly string[];
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
  body: string;
};

export type CaddyHandler = CaddyReverseProxyHandler | CaddyStaticResponseHandler;

export type CaddyRoute = {
  "@id": string;
  match?: { host: string[] }[];
  handle: CaddyHandler[];
  terminal: true;
};

export type CaddyServer = {
  listen: string[];
  routes: CaddyRoute[];
  automatic_https: { disable: boolean };
};

export type CaddyConfig = {
  admin: { listen: string };
  apps: { http: { servers: Record<string, CaddyServer> } };
};

export const DEFAULT_SERVER_NAME = "tussilago";
export const FALLBACK_ROUTE_ID = "tsl-fallback";

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

type CheckedApp = {
  appId: string;
  routeId: string;
  hostnames: string[];
  dials: string[];
  healthCheckPath: string | null;
};

function checkApp(app: DesiredApp): CheckedApp {
  const appId = checkAppId(app.appId);
  const hostnames = app.hostnames.map(normalizeHostname);
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
    dials: [...dials].sort(compareStrings),
    healthCheckPath,
  };
}

function textResponse(status: number, body: string): CaddyStaticResponseHandler {
  return { handler: "static_response", status_code: status, headers: { "Content-Type": [TEXT_PLAIN] }, body };
}

function appRoute(app: CheckedApp): CaddyRoute {
  const match = [{ host: app.hostnames }];
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

  const apps = desired.map(checkApp).sort((a, b) => compareStrings(a.appId, b.appId));

  // Caddy would accept both silently and route by list order (docs/operations.md): uniqueness is ours to guarantee.
  const routeIds = new Set<string>();
  const owners = new Map<string, string>();
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
  const routes = apps.filter((app) => app.hostnames.length > 0).map(appRoute);
  // With no matching route Caddy answers 200 with an empty body (docs/operations.md): end with an explicit 404.
  routes.push({ "@id": FALLBACK_ROUTE_ID, handle: [textResponse(404, NOT_FOUND_BODY)], terminal: true });

  return {
    admin: { listen: adminListen },
    apps: {
      http: {
        servers: {
          [serverName]: { listen: [...listen], routes, automatic_https: { disable: !options.automaticHttps } },
        },
      },
    },
  };
}
