import { isAbsolute } from "node:path";
import { Agent, type Dispatcher, request } from "undici";
import { CaddyError, type CaddyOperation } from "./errors";
import { canonicalJson } from "./hash";
import type { CaddyConfig } from "./render";

// The admin API client: a unix socket or a loopback address (never reachable by tenants), bounded bodies, typed
// errors.

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
  /**
   * Whether the live config holds an object with this `@id` (GET /id/<id>): a cheap probe that Caddy still runs
   * our config, without fetching the whole of it. False when Caddy answers 404 (no such id, or no config at all).
   */
  hasId(id: string): Promise<boolean>;
  close(): Promise<void>;
};

export const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;
const MAX_ERROR_BODY_BYTES = 64 * 1024;
const MAX_DETAIL_CHARS = 1_000;
// setTimeout fires at once for delays above 2^31-1 ms.
export const MAX_TIMER_MS = 2_147_483_647;

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
    async hasId(id) {
      try {
        await call("get_config", "GET", `/id/${encodeURIComponent(id)}`, undefined, MAX_CONFIG_BYTES);
        return true;
      } catch (err) {
        if (err instanceof CaddyError && err.status === 404) return false;
        throw err;
      }
    },
    async close() {
      if (ownsDispatcher) await dispatcher.close();
    },
  };
}
