import { createHash } from "node:crypto";
import { isIP } from "node:net";
import { isAbsolute } from "node:path";
import { Agent, type Dispatcher, request } from "undici";
import { InfraError } from "./errors";

// Caddy through its JSON admin API only (docs/security.md, "Caddy"). Caddy 2.6 accepts duplicate `@id`s silently and
// PUT/PATCH on ids are not idempotent, so the platform never edits routes in place: it renders the WHOLE desired
// config from the database and POSTs it to /load, which Caddy skips when unchanged (docs/operations.md). Each tenant
// string is validated here before it can reach a field where Caddy expands `{placeholders}`.

// ---------------------------------------------------------------------------------------------------------------
// Errors

export type CaddyErrorKind =
  // Rendering: a value the control plane should never have produced. Not retryable, no partial output.
  | "invalid_app_id"
  | "invalid_hostname"
  | "duplicate_hostname"
  | "duplicate_route_id"
  | "invalid_upstream"
  | "invalid_health_check_path"
  | "invalid_option"
  // Talking to the admin API.
  | "unavailable"
  | "timeout"
  | "rejected"
  | "server_error"
  | "unexpected_response";

export type CaddyOperation = "render" | "client" | "get_config" | "load" | "ping";

const USER_MESSAGES: Record<Exclude<CaddyErrorKind, "rejected">, string> = {
  invalid_app_id: "The routing configuration contains an invalid value.",
  invalid_hostname: "A domain name is not valid.",
  duplicate_hostname: "A domain name is used more than once.",
  duplicate_route_id: "The routing configuration contains an invalid value.",
  invalid_upstream: "The routing configuration contains an invalid value.",
  invalid_health_check_path: "The health check path is not valid.",
  invalid_option: "The router is not configured correctly.",
  unavailable: "The router (Caddy) is not reachable.",
  timeout: "The router (Caddy) did not answer in time.",
  server_error: "The router (Caddy) reported an internal error.",
  unexpected_response: "The router (Caddy) gave an unexpected answer.",
};

function userMessageFor(kind: CaddyErrorKind, operation: CaddyOperation): string {
  if (kind !== "rejected") return USER_MESSAGES[kind];
  return operation === "load"
    ? "The router (Caddy) rejected the configuration."
    : "The router (Caddy) refused the request.";
}

export type CaddyErrorOptions = {
  status?: number | null;
  retryable?: boolean;
  // Caddy's own error text (from its JSON error body) or a network error code: for logs only, it can name internal
  // addresses and paths.
  detail?: string;
  cause?: unknown;
};

// `userMessage` is safe to show to a tenant; `message` and `detail` are for logs (see toUserMessage in ./exec).
export class CaddyError extends InfraError<CaddyErrorKind> {
  readonly operation: CaddyOperation;
  // HTTP status of the admin API's answer; null when there was none (connection failure, timeout, rendering).
  readonly status: number | null;
  readonly detail: string | null;

  constructor(kind: CaddyErrorKind, operation: CaddyOperation, message: string, options: CaddyErrorOptions = {}) {
    super(kind, `caddy ${operation}: ${message}`, {
      cause: options.cause,
      retryable: options.retryable ?? false,
      userMessage: userMessageFor(kind, operation),
    });
    this.name = "CaddyError";
    this.operation = operation;
    this.status = options.status ?? null;
    this.detail = options.detail ?? null;
  }

  override toLog(): Record<string, unknown> {
    return {
      kind: this.kind,
      operation: this.operation,
      status: this.status,
      retryable: this.retryable,
      message: this.message,
      detail: this.detail,
    };
  }
}

function invalid(kind: CaddyErrorKind, message: string): CaddyError {
  return new CaddyError(kind, "render", message);
}

// ---------------------------------------------------------------------------------------------------------------
// Validation

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// Checked BEFORE lowercasing: String#toLowerCase folds some non-ASCII look-alikes into ASCII (the Kelvin sign U+212A
// becomes "k"), which would let a look-alike through as a different, valid name.
const HOSTNAME_CHARS = /^[A-Za-z0-9.-]+$/;
// A last label that is all digits or 0x-hex makes resolvers and WHATWG URL parsers read the name as an IPv4 address
// ("127.1", "2130706433", "0x7f000001"), so such names are IP literals in disguise.
const NUMERIC_LABEL = /^(?:[0-9]+|0x[0-9a-f]*)$/;
const MAX_HOSTNAME_LENGTH = 253;
const DIAL = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):([1-9][0-9]{0,4})$/;
// RFC 3986 path and query characters minus `%` (percent-encoding could smuggle `..` or braces past the checks) and
// minus `#` (a fragment is never sent).
const HEALTH_PATH = /^\/[A-Za-z0-9._~!$&'()*+,;=:@/?-]{0,1023}$/;
const LISTEN = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]*):([0-9]{1,5})$/;
const UNIX_ADMIN_LISTEN = /^unix\/(\/[A-Za-z0-9._/-]{1,1000})$/;
const SERVER_NAME = /^[a-z0-9_-]{1,64}$/;
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

function isValidPort(text: string): boolean {
  const port = Number(text);
  return Number.isInteger(port) && port >= 1 && port <= 65_535 && String(port) === text;
}

function isDnsName(value: string): boolean {
  if (value.length === 0 || value.length > MAX_HOSTNAME_LENGTH) return false;
  return value.split(".").every((label) => DNS_LABEL.test(label));
}

/**
 * The canonical (lowercase) form of a hostname an app may be routed under, or a CaddyError "invalid_hostname".
 * Exported so the domain layer can apply the same rule when a user adds a domain.
 */
export function normalizeHostname(value: string): string {
  if (typeof value !== "string" || value.length > MAX_HOSTNAME_LENGTH || !HOSTNAME_CHARS.test(value)) {
    // The value stays out of the message: it is hostile by assumption and may carry control characters.
    throw invalid("invalid_hostname", "invalid hostname");
  }
  const hostname = value.toLowerCase();
  if (!isDnsName(hostname)) throw invalid("invalid_hostname", "invalid hostname");
  const labels = hostname.split(".");
  const last = labels[labels.length - 1] ?? "";
  if (isIP(hostname) !== 0 || NUMERIC_LABEL.test(last)) {
    throw invalid("invalid_hostname", "hostname is an IP literal");
  }
  // Routing "localhost" would capture the platform's own local traffic (docs/security.md, hostile inputs).
  if (hostname === "localhost") throw invalid("invalid_hostname", "reserved hostname");
  return hostname;
}

function checkAppId(value: string): string {
  const appId = typeof value === "string" ? value.toLowerCase() : "";
  if (!UUID.test(appId)) throw invalid("invalid_app_id", "invalid app id");
  return appId;
}

function checkDial(value: string, appId: string): string {
  const match = typeof value === "string" ? DIAL.exec(value) : null;
  const host = match?.[1];
  const port = match?.[2];
  if (host === undefined || port === undefined || !isValidPort(port)) {
    throw invalid("invalid_upstream", `invalid upstream address for app ${appId}`);
  }
  const hostOk = host.startsWith("[")
    ? isIP(host.slice(1, -1)) === 6
    : isIP(host) === 4 || (isDnsName(host) && !NUMERIC_LABEL.test(host.split(".").at(-1) ?? ""));
  if (!hostOk) throw invalid("invalid_upstream", `invalid upstream address for app ${appId}`);
  return value;
}

function checkHealthPath(value: string, appId: string): string {
  if (typeof value !== "string" || !HEALTH_PATH.test(value) || value.includes("..") || value.startsWith("//")) {
    throw invalid("invalid_health_check_path", `invalid health check path for app ${appId}`);
  }
  return value;
}

function checkListen(value: string): string {
  const match = typeof value === "string" ? LISTEN.exec(value) : null;
  const host = match?.[1];
  const port = match?.[2];
  if (host === undefined || port === undefined || !isValidPort(port)) {
    throw invalid("invalid_option", "invalid listen address");
  }
  const hostOk =
    host === "" || (host.startsWith("[") ? isIP(host.slice(1, -1)) === 6 : isIP(host) === 4 || isDnsName(host));
  if (!hostOk) throw invalid("invalid_option", "invalid listen address");
  return value;
}

// The admin endpoint must stay out of tenants' reach (docs/security.md): a unix socket or a loopback TCP address.
function checkAdminListen(value: string): string {
  if (typeof value !== "string") throw invalid("invalid_option", "invalid admin listen address");
  const unix = UNIX_ADMIN_LISTEN.exec(value);
  if (unix?.[1] !== undefined) {
    if (unix[1].split("/").includes("..")) throw invalid("invalid_option", "invalid admin listen address");
    return value;
  }
  const tcp = LISTEN.exec(value);
  const host = tcp?.[1];
  const port = tcp?.[2];
  if (host === undefined || port === undefined || !isValidPort(port) || !LOOPBACK_HOSTS.has(host)) {
    throw invalid("invalid_option", "the admin listen address must be a unix socket or a loopback address");
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering

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
function compareStrings(a: string, b: string): number {
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

// ---------------------------------------------------------------------------------------------------------------
// Hashing

function canonicalValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : canonicalValue(item)));
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => compareStrings(a, b));
    return Object.fromEntries(entries.map(([key, item]) => [key, canonicalValue(item)]));
  }
  return value;
}

/** JSON with object keys sorted at every level, so equal configs serialize to equal bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalValue(value)) ?? "null";
}

/**
 * sha256 (hex) of the canonical JSON. Works on the live config read back from Caddy too: Caddy re-encodes what it
 * was given, so key order and whitespace differ, but the canonical form does not.
 */
export function configHash(config: unknown): string {
  return createHash("sha256").update(canonicalJson(config)).digest("hex");
}

// ---------------------------------------------------------------------------------------------------------------
// Admin API client

export type CaddyClientOptions = {
  // "unix:/run/tussilago/caddy-admin.sock" or "http://127.0.0.1:2019".
  adminEndpoint: string;
  // Per request, from sending to the last byte of the answer. Defaults to 10 s.
  timeoutMs?: number;
  // For tests; the client then neither creates nor closes a dispatcher of its own.
  dispatcher?: Dispatcher;
};

export type CaddyClient = {
  /** The live config (GET /config/); null when Caddy runs without one. */
  getConfig(): Promise<unknown>;
  /** Replaces the whole config (POST /load). Caddy skips the reload when the config is unchanged. */
  load(config: CaddyConfig): Promise<void>;
  /** Resolves when the admin API answers and accepts our requests: for host readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
};

export const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;
const MAX_ERROR_BODY_BYTES = 64 * 1024;
const MAX_DETAIL_CHARS = 1_000;
// setTimeout fires at once for delays above 2^31-1 ms.
const MAX_TIMER_MS = 2_147_483_647;

// Network failures after which the same request can succeed later: Caddy starting or restarting, a dropped
// connection. ENOENT is a unix socket that does not exist yet.
const RETRYABLE_NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOENT",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);
const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

type Endpoint = { origin: string; socketPath: string | null };

function parseEndpoint(value: string): Endpoint {
  if (typeof value === "string" && value.startsWith("unix:")) {
    const socketPath = value.slice("unix:".length);
    if (!isAbsolute(socketPath) || socketPath.includes("\0")) {
      throw new CaddyError("invalid_option", "client", "the admin socket path must be absolute");
    }
    // The origin only names the pool inside the dispatcher; the Host header sent is overridden (see hostHeader).
    return { origin: "http://localhost", socketPath };
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw new CaddyError("invalid_option", "client", "invalid admin endpoint", { cause });
  }
  const bare = (url.pathname === "/" || url.pathname === "") && url.search === "" && url.hash === "";
  if (url.protocol !== "http:" || url.username !== "" || url.password !== "" || !bare) {
    throw new CaddyError("invalid_option", "client", "the admin endpoint must be a bare http:// URL or unix:<path>");
  }
  return { origin: url.origin, socketPath: null };
}

function errorCode(err: unknown): string | undefined {
  if (typeof err === "object" && err !== null && "code" in err && typeof err.code === "string") return err.code;
  return undefined;
}

// Caddy answers errors as {"error": "..."}; anything else is kept as (bounded) text.
function caddyErrorDetail(body: string): string {
  let text = body.trim();
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === "object" && parsed !== null && "error" in parsed && typeof parsed.error === "string") {
      text = parsed.error;
    }
  } catch {
    // Not JSON: keep the text.
  }
  return text.slice(0, MAX_DETAIL_CHARS);
}

class BodyTooLargeError extends Error {}

async function readBody(body: Dispatcher.ResponseData["body"], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    size += buffer.length;
    if (size > limit) {
      body.destroy();
      throw new BodyTooLargeError();
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function createCaddyClient(options: CaddyClientOptions): CaddyClient {
  const endpoint = parseEndpoint(options.adminEndpoint);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMER_MS) {
    throw new CaddyError("invalid_option", "client", "timeoutMs must be a positive number");
  }
  // A private pool: the admin API must not share connections (or limits) with the rest of the process.
  const ownsDispatcher = options.dispatcher === undefined;
  const dispatcher: Dispatcher =
    options.dispatcher ??
    new Agent(endpoint.socketPath === null ? {} : { connect: { socketPath: endpoint.socketPath } });

  // Caddy checks the Host header against the admin listen address (DNS-rebinding protection). Over a unix socket
  // Caddy 2.6 allows only an EMPTY Host (RFC 2616: a request for no Internet host sends an empty one); 2.7+ also
  // allows 127.0.0.1 and ::1, and still the empty one. Over TCP the default Host (the endpoint's host:port) is one of
  // the values Caddy expects. No Origin header: Caddy checks it only when enforce_origin is set.
  const hostHeader: Record<string, string> = endpoint.socketPath === null ? {} : { host: "" };

  async function call(
    operation: CaddyOperation,
    method: "GET" | "POST",
    path: string,
    body: string | undefined,
    maxBytes: number,
  ): Promise<string> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    try {
      let response: Dispatcher.ResponseData;
      try {
        response = await request(`${endpoint.origin}${path}`, {
          method,
          dispatcher,
          signal: controller.signal,
          headers: {
            ...hostHeader,
            accept: "application/json",
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          body,
        });
      } catch (err) {
        throw networkError(operation, err, timedOut);
      }
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      let text: string;
      try {
        text = await readBody(response.body, ok ? maxBytes : MAX_ERROR_BODY_BYTES);
      } catch (err) {
        if (err instanceof BodyTooLargeError) {
          if (!ok) throw statusError(operation, response.statusCode, "");
          throw new CaddyError("unexpected_response", operation, "answer exceeds the size limit", {
            status: response.statusCode,
          });
        }
        throw networkError(operation, err, timedOut);
      }
      if (!ok) throw statusError(operation, response.statusCode, text);
      return text;
    } finally {
      clearTimeout(timer);
    }
  }

  function networkError(operation: CaddyOperation, err: unknown, timedOut: boolean): CaddyError {
    const code = errorCode(err);
    if (timedOut || (code !== undefined && TIMEOUT_CODES.has(code))) {
      return new CaddyError("timeout", operation, `no answer within ${timeoutMs} ms`, {
        retryable: true,
        detail: code,
        cause: err,
      });
    }
    const retryable = code !== undefined && RETRYABLE_NETWORK_CODES.has(code);
    return new CaddyError("unavailable", operation, `admin API unreachable (${code ?? "unknown error"})`, {
      retryable,
      detail: code,
      cause: err,
    });
  }

  function statusError(operation: CaddyOperation, status: number, body: string): CaddyError {
    const detail = caddyErrorDetail(body);
    if (status >= 500) {
      return new CaddyError("server_error", operation, `HTTP ${status}`, { status, retryable: true, detail });
    }
    // 408 and 429 say "later", not "never".
    const retryable = status === 408 || status === 429;
    return new CaddyError("rejected", operation, `HTTP ${status}`, { status, retryable, detail });
  }

  async function getConfig(operation: CaddyOperation = "get_config"): Promise<unknown> {
    const text = await call(operation, "GET", "/config/", undefined, MAX_CONFIG_BYTES);
    // A Caddy without config answers "null"; an empty body means the same.
    if (text.trim() === "") return null;
    try {
      return JSON.parse(text) as unknown;
    } catch (cause) {
      throw new CaddyError("unexpected_response", operation, "the config is not valid JSON", { status: 200, cause });
    }
  }

  return {
    getConfig: () => getConfig(),
    async load(config) {
      // Canonical bytes: the same desired state always sends the same body.
      await call("load", "POST", "/load", canonicalJson(config), MAX_ERROR_BODY_BYTES);
    },
    async ping() {
      // Caddy 2.6 has no health endpoint; reading the config proves reachability and that our Host is accepted.
      await getConfig("ping");
    },
    async close() {
      if (ownsDispatcher) await dispatcher.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Applying

export type RetryPolicy = { attempts: number; baseDelayMs: number; maxDelayMs: number };

export type ApplyOptions = {
  // Hash returned by the last successful apply, as stored by the caller.
  lastAppliedHash?: string | null;
  retry?: RetryPolicy;
  sleep?: (ms: number) => Promise<void>;
  // Returns [0, 1) like Math.random; injectable so tests can check the backoff bounds.
  random?: () => number;
  // Called before each wait, so the caller can log the failure it is about to retry.
  onRetry?: (err: CaddyError, attempt: number, delayMs: number) => void;
};

export type ApplyResult = { applied: boolean; hash: string };

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 250, maxDelayMs: 5_000 };

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Delay before retry number `attempt` (1-based): exponential, capped, with jitter in its upper half. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exponential = policy.baseDelayMs * 2 ** Math.max(0, attempt - 1);
  const capped = Math.min(policy.maxDelayMs, exponential);
  // "Equal jitter": spreads workers that failed together, and never collapses to an immediate retry.
  return Math.round(capped / 2 + (capped / 2) * random());
}

function checkRetryPolicy(policy: RetryPolicy): void {
  const ok =
    Number.isInteger(policy.attempts) &&
    policy.attempts >= 1 &&
    policy.attempts <= 100 &&
    Number.isFinite(policy.baseDelayMs) &&
    policy.baseDelayMs >= 0 &&
    Number.isFinite(policy.maxDelayMs) &&
    policy.maxDelayMs >= policy.baseDelayMs &&
    policy.maxDelayMs <= MAX_TIMER_MS;
  if (!ok) throw new CaddyError("invalid_option", "client", "invalid retry policy");
}

/**
 * Makes Caddy run `config`. Skips the POST only when the config is unchanged since the last apply AND Caddy still
 * runs it: a restarted Caddy (empty config) or a config edited behind our back is re-applied. Retryable failures
 * are retried with bounded exponential backoff; POST /load is idempotent, so retrying one that timed out after
 * Caddy took it is harmless. Gives up with the last CaddyError. Callers serialize applies (one queue).
 */
export async function applyCaddyConfig(
  client: CaddyClient,
  config: CaddyConfig,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const policy = options.retry ?? DEFAULT_RETRY;
  checkRetryPolicy(policy);
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const hash = configHash(config);

  const attempt = async (): Promise<ApplyResult> => {
    if (options.lastAppliedHash === hash && configHash(await client.getConfig()) === hash) {
      return { applied: false, hash };
    }
    await client.load(config);
    return { applied: true, hash };
  };

  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof CaddyError) || !err.retryable || n >= policy.attempts) throw err;
      const delayMs = backoffDelay(policy, n, random);
      options.onRetry?.(err, n, delayMs);
      await sleep(delayMs);
    }
  }
}
