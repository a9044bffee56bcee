import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

// A small stand-in for Caddy 2.6's admin API, for tests of lib/infra/caddy/: GET /config/ and POST /load with
// Caddy's Host check, its "no reload when the config is unchanged" rule and its JSON error bodies, plus failure
// modes a real Caddy shows only under duress (5xx, no answer, a rejected config).

export type FakeCaddyRequest = { method: string; path: string; host: string | undefined; via: "tcp" | "unix" };

export type FakeCaddyOptions = {
  // Also listen on a unix socket in a fresh temp directory.
  unixSocket?: boolean;
  // Listen on this TCP port (a Caddy coming back on the address a closed fake had); a free one by default.
  port?: number;
};

export type FakeCaddy = {
  // http://127.0.0.1:<port>
  readonly url: string;
  readonly socketPath?: string;
  // Effective reloads: POST /load with a config different from the running one.
  readonly loads: number;
  // Every POST /load that reached the handler, reloading or not.
  readonly loadRequests: number;
  // The running config as Caddy would return it; null when it has none.
  readonly config: unknown;
  readonly requests: readonly FakeCaddyRequest[];
  // Answer the next n requests with `status` and a Caddy-like JSON error body (500 by default; 400 looks like a
  // config that failed to load).
  failNext(n: number, status?: number): void;
  // Never answer the next n requests (until close), for timeout tests.
  hangNext(n: number): void;
  // Forget the config, like a Caddy restarted without --resume.
  restart(): void;
  close(): Promise<void>;
};

type Failure = { kind: "status"; status: number } | { kind: "hang" };

const MAX_BODY_BYTES = 16 * 1024 * 1024;

// Caddy's canonical-ish re-encoding: it decodes the body into Go maps and encodes them again, so keys come back
// sorted. Comparing such encodings is how Caddy decides that a config is unchanged.
function canonical(value: unknown): string {
  const sort = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(sort);
    if (item !== null && typeof item === "object") {
      return Object.fromEntries(
        Object.entries(item)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([key, inner]) => [key, sort(inner)]),
      );
    }
    return item;
  };
  return JSON.stringify(sort(value));
}

function findById(value: unknown, id: string): unknown {
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = findById(item, id);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value === null || typeof value !== "object") return undefined;
  if ((value as Record<string, unknown>)["@id"] === id) return value;
  return findById(Object.values(value), id);
}

function errorBody(status: number): string {
  const message =
    status === 400
      ? "loading config: loading new config: http app module: start: listening on :80: listen tcp :80: " +
        "bind: permission denied"
      : `internal failure simulated by the fake (HTTP ${status})`;
  return `${JSON.stringify({ error: message })}\n`;
}

function sendJson(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function listen(server: Server, target: { port: number; host: string } | string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    const done = () => {
      server.off("error", reject);
      resolve();
    };
    if (typeof target === "string") server.listen(target, done);
    else server.listen(target.port, target.host, done);
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Hung requests and idle keep-alive sockets would keep close() waiting forever.
    server.closeAllConnections();
  });
}

export async function startFakeCaddy(options: FakeCaddyOptions = {}): Promise<FakeCaddy> {
  let config: unknown = null;
  let loads = 0;
  let loadRequests = 0;
  const requests: FakeCaddyRequest[] = [];
  const failures: Failure[] = [];
  const hung: ServerResponse[] = [];
  let tcpPort = 0;

  // Caddy 2.6's DNS-rebinding check (admin.go, allowedOrigins/checkHost): over a unix socket only an empty Host,
  // over loopback TCP localhost, ::1 or 127.0.0.1 with the admin port.
  const hostAllowed = (host: string | undefined, via: "tcp" | "unix"): boolean => {
    if (via === "unix") return host === "";
    return host === `127.0.0.1:${tcpPort}` || host === `localhost:${tcpPort}` || host === `[::1]:${tcpPort}`;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, via: "tcp" | "unix"): Promise<void> => {
    const method = req.method ?? "";
    const path = req.url ?? "";
    const host = req.headers.host;
    requests.push({ method, path, host, via });

    const failure = failures.shift();
    if (failure?.kind === "hang") {
      hung.push(res);
      return;
    }
    if (failure?.kind === "status") {
      sendJson(res, failure.status, errorBody(failure.status));
      return;
    }
    if (!hostAllowed(host, via)) {
      sendJson(res, 403, `${JSON.stringify({ error: `host not allowed: ${host ?? ""}` })}\n`);
      return;
    }

    if (path === "/config/" && method === "GET") {
      sendJson(res, 200, `${canonical(config)}\n`);
      return;
    }
    // Caddy's /id/<id> shortcut: the object carrying that "@id" anywhere in the config, 404 when none does.
    if (path.startsWith("/id/") && method === "GET") {
      const found = findById(config, decodeURIComponent(path.slice("/id/".length)));
      if (found === undefined) sendJson(res, 404, `${JSON.stringify({ error: "unknown object ID" })}\n`);
      else sendJson(res, 200, `${canonical(found)}\n`);
      return;
    }
    if (path === "/load" && method === "POST") {
      loadRequests++;
      const contentType = req.headers["content-type"] ?? "";
      if (!contentType.includes("/json")) {
        const error = `unacceptable content-type: ${contentType}; 'application/json' required`;
        sendJson(res, 400, `${JSON.stringify({ error })}\n`);
        return;
      }
      const body = await readBody(req);
      let parsed: unknown;
      try {
        parsed = body === null ? undefined : JSON.parse(body);
      } catch {
        parsed = undefined;
      }
      if (parsed === undefined) {
        sendJson(res, 400, `${JSON.stringify({ error: "decoding request body: invalid JSON" })}\n`);
        return;
      }
      // Like Caddy: an identical config answers 200 without reloading.
      if (canonical(parsed) !== canonical(config)) {
        config = parsed;
        loads++;
      }
      res.writeHead(200, { "content-length": 0 });
      res.end();
      return;
    }
    sendJson(res, 404, `${JSON.stringify({ error: "not found" })}\n`);
  };

  // A client that gives up mid-body makes the read fail; the connection is gone anyway.
  const handler = (via: "tcp" | "unix") => (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res, via).catch(() => res.destroy());
  };

  const tcp = createServer(handler("tcp"));
  await listen(tcp, { port: options.port ?? 0, host: "127.0.0.1" });
  const address = tcp.address();
  if (address === null || typeof address === "string") throw new Error("fake caddy: no TCP address");
  tcpPort = address.port;

  let unix: Server | null = null;
  let socketDir: string | null = null;
  let socketPath: string | undefined;
  if (options.unixSocket === true) {
    socketDir = await mkdtemp(join(tmpdir(), "tsl-fake-caddy-"));
    socketPath = join(socketDir, "admin.sock");
    unix = createServer(handler("unix"));
    await listen(unix, socketPath);
  }

  const count = (n: number): number => {
    if (!Number.isInteger(n) || n < 0) throw new RangeError("n must be a non-negative integer");
    return n;
  };

  return {
    url: `http://127.0.0.1:${tcpPort}`,
    socketPath,
    get loads() {
      return loads;
    },
    get loadRequests() {
      return loadRequests;
    },
    get config() {
      return config;
    },
    get requests() {
      return requests;
    },
    failNext(n, status = 500) {
      for (let i = 0; i < count(n); i++) failures.push({ kind: "status", status });
    },
    hangNext(n) {
      for (let i = 0; i < count(n); i++) failures.push({ kind: "hang" });
    },
    restart() {
      config = null;
    },
    async close() {
      for (const res of hung) res.destroy();
      await closeServer(tcp);
      if (unix !== null) await closeServer(unix);
      if (socketDir !== null) await rm(socketDir, { recursive: true, force: true });
    },
  };
}
