import { Agent, MockAgent } from "undici";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeCaddy, startFakeCaddy } from "../../test/fake-caddy";
import {
  type ApplyOptions,
  applyCaddyConfig,
  backoffDelay,
  type CaddyClient,
  type CaddyConfig,
  CaddyError,
  type CaddyErrorKind,
  canonicalJson,
  configHash,
  createCaddyClient,
  type DesiredApp,
  normalizeHostname,
  type RenderOptions,
  renderCaddyConfig,
  routeIdForApp,
} from "./caddy";
import { toUserMessage } from "./exec";

const APP_A = "0f3c2a6e-8b1d-4c7e-9a5f-2d4b6c8e0a1b";
const APP_B = "5e9d7b31-2c4a-4e8f-b6d0-1a3c5e7f9b2d";
const APP_C = "9d2f5b63-4c7e-4a1f-8b32-6e9d4f8a2c01";
const HEX_A = "0f3c2a6e8b1d4c7e9a5f2d4b6c8e0a1b";
const HEX_B = "5e9d7b312c4a4e8fb6d01a3c5e7f9b2d";
const HEX_C = "9d2f5b634c7e4a1f8b326e9d4f8a2c01";
const ADMIN_SOCKET = "unix//run/tussilago/caddy-admin.sock";
const OPTIONS: RenderOptions = { listen: [":80"], adminListen: ADMIN_SOCKET, automaticHttps: false };

const TEXT = { "Content-Type": ["text/plain; charset=utf-8"] };
const LB = { selection_policy: { policy: "round_robin" }, try_duration: "5s", try_interval: "250ms" };
const PASSIVE = { fail_duration: "30s", max_fails: 3 };
const FALLBACK = {
  "@id": "tsl-fallback",
  handle: [{ handler: "static_response", status_code: 404, headers: TEXT, body: "Not found.\n" }],
  terminal: true,
};

// Three apps given out of order: C with three replicas and a health check, A with two hostnames (one in capitals),
// B with no running replica.
const DESIRED: DesiredApp[] = [
  {
    appId: APP_C,
    hostnames: ["shop.example.com"],
    upstreams: [{ dial: "127.0.0.1:41236" }, { dial: "127.0.0.1:41234" }, { dial: "127.0.0.1:41235" }],
    healthCheckPath: "/healthz?full=1",
  },
  {
    appId: APP_A,
    hostnames: ["www.Example.org", "api.example.org"],
    upstreams: [{ dial: "[::1]:8000" }],
  },
  { appId: APP_B, hostnames: ["paused.example.net"], upstreams: [], healthCheckPath: "/health" },
];

function caddyError(fn: () => unknown): CaddyError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CaddyError) return err;
    throw err;
  }
  throw new Error("expected a CaddyError");
}

async function rejectsWithCaddyError(promise: Promise<unknown>): Promise<CaddyError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CaddyError) return err;
    throw err;
  }
  throw new Error("expected a CaddyError");
}

function expectRefused(desired: DesiredApp[], kind: CaddyErrorKind, options: RenderOptions = OPTIONS): CaddyError {
  let output: CaddyConfig | undefined;
  const err = caddyError(() => {
    output = renderCaddyConfig(desired, options);
  });
  expect(output).toBeUndefined();
  expect(err.kind).toBe(kind);
  expect(err.operation).toBe("render");
  expect(err.retryable).toBe(false);
  return err;
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const copy = [...items];
  let state = seed;
  for (let i = copy.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    const j = state % (i + 1);
    const a = copy[i];
    const b = copy[j];
    if (a === undefined || b === undefined) continue;
    copy[i] = b;
    copy[j] = a;
  }
  return copy;
}

describe("renderCaddyConfig", () => {
  it("renders the whole config: one route per app in appId order, then the 404 catch-all", () => {
    expect(renderCaddyConfig(DESIRED, OPTIONS)).toEqual({
      admin: { listen: ADMIN_SOCKET },
      apps: {
        http: {
          servers: {
            tussilago: {
              listen: [":80"],
              automatic_https: { disable: true },
              routes: [
                {
                  "@id": `tsl-app-${HEX_A}`,
                  match: [{ host: ["api.example.org", "www.example.org"] }],
                  handle: [
                    {
                      handler: "reverse_proxy",
                      upstreams: [{ dial: "[::1]:8000" }],
                      load_balancing: LB,
                      health_checks: { passive: PASSIVE },
                    },
                  ],
                  terminal: true,
                },
                {
                  "@id": `tsl-app-${HEX_B}`,
                  match: [{ host: ["paused.example.net"] }],
                  handle: [
                    { handler: "static_response", status_code: 503, headers: TEXT, body: "This app is not running.\n" },
                  ],
                  terminal: true,
                },
                {
                  "@id": `tsl-app-${HEX_C}`,
                  match: [{ host: ["shop.example.com"] }],
                  handle: [
                    {
                      handler: "reverse_proxy",
                      upstreams: [
                        { dial: "127.0.0.1:41234" },
                        { dial: "127.0.0.1:41235" },
                        { dial: "127.0.0.1:41236" },
                      ],
                      load_balancing: LB,
                      health_checks: {
                        passive: PASSIVE,
                        active: { uri: "/healthz?full=1", interval: "10s", timeout: "5s" },
                      },
                    },
                  ],
                  terminal: true,
                },
                FALLBACK,
              ],
            },
          },
        },
      },
    });
  });

  it("gives every route a unique @id and keeps the catch-all last", () => {
    const routes = renderCaddyConfig(DESIRED, OPTIONS).apps.http.servers.tussilago?.routes ?? [];
    const ids = routes.map((route) => route["@id"]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.at(-1)).toBe("tsl-fallback");
    expect(routes.at(-1)?.match).toBeUndefined();
    expect(routes.slice(0, -1).every((route) => route.match !== undefined)).toBe(true);
  });

  it("renders an empty desired state as the catch-all alone", () => {
    expect(renderCaddyConfig([], OPTIONS).apps.http.servers.tussilago?.routes).toEqual([FALLBACK]);
  });

  it("leaves out apps without hostnames", () => {
    const routes =
      renderCaddyConfig([{ appId: APP_A, hostnames: [], upstreams: [{ dial: "127.0.0.1:8000" }] }], OPTIONS).apps.http
        .servers.tussilago?.routes ?? [];
    expect(routes.map((route) => route["@id"])).toEqual(["tsl-fallback"]);
  });

  it("honours the server name, listen addresses, a loopback admin address and automatic HTTPS", () => {
    const config = renderCaddyConfig([], {
      listen: [":80", ":443"],
      adminListen: "127.0.0.1:2019",
      serverName: "public",
      automaticHttps: true,
    });
    expect(config.admin).toEqual({ listen: "127.0.0.1:2019" });
    expect(Object.keys(config.apps.http.servers)).toEqual(["public"]);
    expect(config.apps.http.servers.public?.listen).toEqual([":80", ":443"]);
    expect(config.apps.http.servers.public?.automatic_https).toEqual({ disable: false });
  });

  it("derives route ids from the app UUID only", () => {
    expect(routeIdForApp(APP_A)).toBe(`tsl-app-${HEX_A}`);
    expect(routeIdForApp(APP_A.toUpperCase())).toBe(`tsl-app-${HEX_A}`);
  });

  it("renders byte-identical JSON and the same hash whatever the input order", () => {
    const reference = renderCaddyConfig(DESIRED, OPTIONS);
    for (let seed = 1; seed <= 20; seed++) {
      const desired = shuffled(DESIRED, seed).map((app) => ({
        ...app,
        hostnames: shuffled(app.hostnames, seed + 100),
        upstreams: shuffled(app.upstreams, seed + 200),
      }));
      const config = renderCaddyConfig(desired, OPTIONS);
      expect(JSON.stringify(config)).toBe(JSON.stringify(reference));
      expect(configHash(config)).toBe(configHash(reference));
    }
  });

  it("changes the hash when the desired state changes", () => {
    const reference = configHash(renderCaddyConfig(DESIRED, OPTIONS));
    const scaled = DESIRED.map((app) =>
      app.appId === APP_A ? { ...app, upstreams: [...app.upstreams, { dial: "[::1]:8001" }] } : app,
    );
    expect(configHash(renderCaddyConfig(scaled, OPTIONS))).not.toBe(reference);
    expect(configHash(renderCaddyConfig(DESIRED, { ...OPTIONS, automaticHttps: true }))).not.toBe(reference);
  });
});

describe("configHash", () => {
  it("ignores key order and whitespace, as in a config read back from Caddy", () => {
    const config = renderCaddyConfig(DESIRED, OPTIONS);
    const reordered: unknown = JSON.parse(canonicalJson(config));
    expect(configHash(reordered)).toBe(configHash(config));
    expect(configHash({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe(configHash({ a: [1, { c: 3, d: 2 }], b: 1 }));
    expect(configHash({ a: [1, 2] })).not.toBe(configHash({ a: [2, 1] }));
    expect(configHash(null)).not.toBe(configHash(config));
    expect(configHash(config)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("hostile input", () => {
  const app = (overrides: Partial<DesiredApp>): DesiredApp => ({
    appId: APP_A,
    hostnames: ["ok.example.com"],
    upstreams: [{ dial: "127.0.0.1:8000" }],
    ...overrides,
  });

  it.each([
    "",
    "{http.request.host}",
    "a{b}.example.com",
    "a}.example.com",
    "shop.example.com\r\nX-Injected: 1",
    "shop.example.com\n",
    "shop.example.com\r",
    "shop example.com",
    " shop.example.com",
    "shop.example.com\0",
    "shop.example.com\t",
    "127.0.0.1",
    "10.0.0.1",
    "127.1",
    "2130706433",
    "0x7f000001",
    "shop.0x7f",
    "::1",
    "[::1]",
    "[fe80::1%25eth0]",
    "localhost",
    "LOCALHOST",
    "example.com.",
    ".example.com",
    "a..example.com",
    "*.example.com",
    "exa_mple.com",
    "-shop.example.com",
    "shop-.example.com",
    "shop.example.com:443",
    "shop.example.com/path",
    "user@shop.example.com",
    `${"a".repeat(64)}.example.com`,
    `${"abcdefghi.".repeat(25)}example.com`,
    "ex\u0430mple.com",
    "\u212Aelvin.example.com",
    "b\u00FCcher.example",
    "shop.example.com\u200B",
  ])("refuses the hostname %j", (hostname) => {
    const err = expectRefused(
      [app({}), app({ appId: APP_B, hostnames: ["fine.example.com", hostname] })],
      "invalid_hostname",
    );
    expect(err.userMessage).toBe("A domain name is not valid.");
    if (hostname !== "") expect(err.message).not.toContain(hostname);
    expect(() => normalizeHostname(hostname)).toThrow(CaddyError);
  });

  it("normalizes case and accepts punycode and all-digit labels other than the last", () => {
    expect(normalizeHostname("Shop.EXAMPLE.com")).toBe("shop.example.com");
    expect(normalizeHostname("xn--bcher-kva.example")).toBe("xn--bcher-kva.example");
    expect(normalizeHostname("123.example.com")).toBe("123.example.com");
    expect(normalizeHostname(`${"a".repeat(63)}.example.com`)).toBe(`${"a".repeat(63)}.example.com`);
  });

  it("refuses a hostname claimed by two apps, whatever its case", () => {
    const err = expectRefused(
      [app({ hostnames: ["shop.example.com"] }), app({ appId: APP_B, hostnames: ["Shop.Example.COM"] })],
      "duplicate_hostname",
    );
    expect(err.message).toContain(APP_A);
    expect(err.message).toContain(APP_B);
    expect(err.userMessage).toBe("A domain name is used more than once.");
  });

  it("refuses a hostname listed twice by one app", () => {
    expectRefused([app({ hostnames: ["shop.example.com", "SHOP.example.com"] })], "duplicate_hostname");
  });

  it("refuses the same app twice (duplicate @id), whatever the UUID's case", () => {
    expectRefused([app({}), app({ hostnames: ["other.example.com"] })], "duplicate_route_id");
    expectRefused(
      [app({}), app({ appId: APP_A.toUpperCase(), hostnames: ["other.example.com"] })],
      "duplicate_route_id",
    );
  });

  it.each([
    "",
    "app",
    "../x",
    `{${APP_A}}`,
    `${APP_A} `,
    `${APP_A}\n`,
    APP_A.replaceAll("-", ""),
    `${APP_A.slice(0, -1)}g`,
  ])("refuses the app id %j", (appId) => {
    expectRefused([app({ appId })], "invalid_app_id");
  });

  it.each([
    "",
    "127.0.0.1",
    "127.0.0.1:",
    ":8000",
    "127.0.0.1:0",
    "127.0.0.1:65536",
    "127.0.0.1:080",
    "127.0.0.1:8000-8005",
    "127.0.0.1:http",
    "127.0.0.1:8000 ",
    "127.0.0.1:8000\n",
    " 127.0.0.1:8000",
    "{http.request.host}:8000",
    "127.0.0.1:{env.PORT}",
    "unix//run/app.sock",
    "tcp/127.0.0.1:8000",
    "http://127.0.0.1:8000",
    "127.0.0.1:8000/path",
    "user@127.0.0.1:8000",
    "::1:8000",
    "[::1]",
    "[zz::1]:8000",
    "[127.0.0.1]:8000",
    "Upstream.internal:8000",
    "999.1.1.1:8000",
    "a..b:8000",
  ])("refuses the upstream dial %j", (dial) => {
    expectRefused([app({ upstreams: [{ dial: "127.0.0.1:9000" }, { dial }] })], "invalid_upstream");
  });

  it("refuses two replicas with the same address", () => {
    expectRefused([app({ upstreams: [{ dial: "127.0.0.1:9000" }, { dial: "127.0.0.1:9000" }] })], "invalid_upstream");
  });

  it("accepts IPv4, bracketed IPv6 and container names as upstream hosts", () => {
    const config = renderCaddyConfig(
      [app({ upstreams: [{ dial: "10.88.0.5:8000" }, { dial: "[fd00::5]:8000" }, { dial: "tsl-abc-1-0:8000" }] })],
      OPTIONS,
    );
    const handler = config.apps.http.servers.tussilago?.routes[0]?.handle[0];
    expect(handler?.handler === "reverse_proxy" ? handler.upstreams : null).toEqual([
      { dial: "10.88.0.5:8000" },
      { dial: "[fd00::5]:8000" },
      { dial: "tsl-abc-1-0:8000" },
    ]);
  });

  it.each([
    "",
    "health",
    "health/",
    "/he alth",
    "/health ",
    "/health\n",
    "/health\r\nX: y",
    "/health\t",
    "/{http.request.uri}",
    "/health}",
    "/a/../b",
    "/..",
    "/..%2f",
    "/%2e%2e/x",
    "//evil.example.com/x",
    "/health#frag",
    "/h\u00E9alth",
    "/health\\..\\x",
    `/${"a".repeat(1024)}`,
  ])("refuses the health check path %j", (healthCheckPath) => {
    const err = expectRefused([app({ healthCheckPath })], "invalid_health_check_path");
    expect(err.userMessage).toBe("The health check path is not valid.");
  });

  it("refuses a bad health check path even when the app has no replica to check", () => {
    expectRefused([app({ upstreams: [], healthCheckPath: "/{x}" })], "invalid_health_check_path");
  });

  it("treats a null health check path as none", () => {
    const config = renderCaddyConfig([app({ healthCheckPath: null })], OPTIONS);
    const handler = config.apps.http.servers.tussilago?.routes[0]?.handle[0];
    expect(handler?.handler === "reverse_proxy" ? handler.health_checks : null).toEqual({ passive: PASSIVE });
  });

  it.each<[string, Partial<RenderOptions>]>([
    ["no listen address", { listen: [] }],
    ["a listen address with a placeholder", { listen: [":{env.PORT}"] }],
    ["a listen address without port", { listen: ["0.0.0.0"] }],
    ["an admin endpoint on all interfaces", { adminListen: "0.0.0.0:2019" }],
    ["an admin endpoint without host", { adminListen: ":2019" }],
    ["an admin endpoint on a public address", { adminListen: "203.0.113.5:2019" }],
    ["a relative admin socket", { adminListen: "unix//run/../tmp/x.sock" }],
    ["an admin socket with a space", { adminListen: "unix//run/my sock" }],
    ["a server name with a placeholder", { serverName: "{x}" }],
    ["an empty server name", { serverName: "" }],
  ])("refuses %s", (_, override) => {
    expectRefused(DESIRED, "invalid_option", { ...OPTIONS, ...override });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The client and applyCaddyConfig against the fake admin API, over TCP and over a unix socket.

const CONFIG = renderCaddyConfig(DESIRED, OPTIONS);
const FAST_RETRY = { attempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 };

function recordingSleep(): { delays: number[]; sleep: (ms: number) => Promise<void> } {
  const delays: number[] = [];
  return {
    delays,
    sleep: async (ms) => {
      delays.push(ms);
    },
  };
}

describe.each(["tcp", "unix"] as const)("against the fake admin API over %s", (transport) => {
  let fake: FakeCaddy;
  let client: CaddyClient;

  const connect = (): CaddyClient => {
    const adminEndpoint = transport === "tcp" ? fake.url : `unix:${fake.socketPath ?? ""}`;
    // Short enough to keep the hanging-request tests quick, long enough for a loopback answer on a busy machine.
    return createCaddyClient({ adminEndpoint, timeoutMs: 500 });
  };
  const posts = () => fake.requests.filter((r) => r.method === "POST");
  const gets = () => fake.requests.filter((r) => r.method === "GET");

  beforeEach(async () => {
    fake = await startFakeCaddy({ unixSocket: true });
    client = connect();
  });

  afterEach(async () => {
    await client.close();
    await fake.close();
  });

  it("pings and reads the empty config, sending the Host Caddy 2.6 accepts", async () => {
    await client.ping();
    expect(await client.getConfig()).toBeNull();
    expect(fake.requests.every((r) => r.via === transport)).toBe(true);
    const expectedHost = transport === "unix" ? "" : new URL(fake.url).host;
    expect(fake.requests.map((r) => r.host)).toEqual([expectedHost, expectedHost]);
  });

  it("loads the config once, then skips the POST while the hash and the live config agree", async () => {
    const first = await applyCaddyConfig(client, CONFIG, { lastAppliedHash: null });
    expect(first).toEqual({ applied: true, hash: configHash(CONFIG) });
    expect(fake.loads).toBe(1);
    expect(fake.config).toEqual(CONFIG);
    expect(await client.getConfig()).toEqual(CONFIG);

    const second = await applyCaddyConfig(client, CONFIG, { lastAppliedHash: first.hash });
    expect(second).toEqual({ applied: false, hash: first.hash });
    expect(posts()).toHaveLength(1);
    expect(fake.loads).toBe(1);
  });

  it("POSTs without a known hash, and Caddy then does not reload an unchanged config", async () => {
    await applyCaddyConfig(client, CONFIG);
    const again = await applyCaddyConfig(client, CONFIG);
    expect(again.applied).toBe(true);
    expect(posts()).toHaveLength(2);
    expect(gets()).toHaveLength(0);
    expect(fake.loads).toBe(1);
  });

  it("re-applies to a restarted (emptied) Caddy", async () => {
    const { hash } = await applyCaddyConfig(client, CONFIG);
    fake.restart();
    const result = await applyCaddyConfig(client, CONFIG, { lastAppliedHash: hash });
    expect(result).toEqual({ applied: true, hash });
    expect(fake.loads).toBe(2);
    expect(fake.config).toEqual(CONFIG);
  });

  it("POSTs at once when the desired config changed", async () => {
    const { hash } = await applyCaddyConfig(client, CONFIG);
    const changed = renderCaddyConfig(DESIRED.slice(1), OPTIONS);
    const result = await applyCaddyConfig(client, changed, { lastAppliedHash: hash });
    expect(result.applied).toBe(true);
    expect(result.hash).not.toBe(hash);
    expect(gets()).toHaveLength(0);
    expect(fake.config).toEqual(changed);
  });

  it("retries 5xx answers with bounded backoff and succeeds", async () => {
    fake.failNext(2, 500);
    const { delays, sleep } = recordingSleep();
    const retries: number[] = [];
    const result = await applyCaddyConfig(client, CONFIG, {
      retry: FAST_RETRY,
      sleep,
      onRetry: (err, attempt) => {
        expect(err.kind).toBe("server_error");
        retries.push(attempt);
      },
    });
    expect(result.applied).toBe(true);
    expect(posts()).toHaveLength(3);
    expect(retries).toEqual([1, 2]);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeGreaterThanOrEqual(50);
    expect(delays[0]).toBeLessThanOrEqual(100);
    expect(delays[1]).toBeGreaterThanOrEqual(100);
    expect(delays[1]).toBeLessThanOrEqual(200);
    expect(fake.loads).toBe(1);
  });

  it("gives up after the last attempt with the last 5xx as a retryable CaddyError", async () => {
    fake.failNext(5, 503);
    const { delays, sleep } = recordingSleep();
    const err = await rejectsWithCaddyError(applyCaddyConfig(client, CONFIG, { retry: FAST_RETRY, sleep }));
    expect(err).toMatchObject({ kind: "server_error", operation: "load", status: 503, retryable: true });
    expect(posts()).toHaveLength(3);
    expect(delays).toHaveLength(2);
    expect(fake.loads).toBe(0);
  });

  it("retries the live-config check too", async () => {
    const { hash } = await applyCaddyConfig(client, CONFIG);
    fake.failNext(1, 502);
    const { delays, sleep } = recordingSleep();
    const result = await applyCaddyConfig(client, CONFIG, { lastAppliedHash: hash, retry: FAST_RETRY, sleep });
    expect(result.applied).toBe(false);
    expect(gets()).toHaveLength(2);
    expect(delays).toHaveLength(1);
  });

  it("retries requests Caddy does not answer, then succeeds", async () => {
    fake.hangNext(2);
    const { delays, sleep } = recordingSleep();
    const result = await applyCaddyConfig(client, CONFIG, { retry: FAST_RETRY, sleep });
    expect(result.applied).toBe(true);
    expect(posts()).toHaveLength(3);
    expect(delays).toHaveLength(2);
    expect(fake.config).toEqual(CONFIG);
  });

  it("turns repeated timeouts into a clear CaddyError", async () => {
    fake.hangNext(3);
    const { delays, sleep } = recordingSleep();
    const err = await rejectsWithCaddyError(applyCaddyConfig(client, CONFIG, { retry: FAST_RETRY, sleep }));
    expect(err).toMatchObject({ kind: "timeout", operation: "load", status: null, retryable: true });
    expect(err.userMessage).toBe("The router (Caddy) did not answer in time.");
    expect(posts()).toHaveLength(3);
    expect(delays).toHaveLength(2);
  });

  it("does not retry a rejected config (400) and keeps Caddy's reason for the logs only", async () => {
    fake.failNext(1, 400);
    const { delays, sleep } = recordingSleep();
    const err = await rejectsWithCaddyError(applyCaddyConfig(client, CONFIG, { retry: FAST_RETRY, sleep }));
    expect(err).toMatchObject({ kind: "rejected", operation: "load", status: 400, retryable: false });
    expect(err.detail).toContain("loading config");
    expect(err.userMessage).toBe("The router (Caddy) rejected the configuration.");
    expect(toUserMessage(err)).toBe(err.userMessage);
    expect(posts()).toHaveLength(1);
    expect(delays).toHaveLength(0);
    for (const secret of [fake.url, new URL(fake.url).port, fake.socketPath ?? "", ":80", "bind"]) {
      expect(err.userMessage).not.toContain(secret);
    }
  });

  it("reports an unreachable admin API as retryable and says so safely", async () => {
    await fake.close();
    const { delays, sleep } = recordingSleep();
    const err = await rejectsWithCaddyError(applyCaddyConfig(client, CONFIG, { retry: FAST_RETRY, sleep }));
    expect(err).toMatchObject({ kind: "unavailable", status: null, retryable: true });
    expect(err.detail).toBe(transport === "tcp" ? "ECONNREFUSED" : "ENOENT");
    expect(err.userMessage).toBe("The router (Caddy) is not reachable.");
    expect(delays).toHaveLength(2);
  });
});

describe("createCaddyClient", () => {
  it("is refused by Caddy's Host check over a unix socket unless the Host is empty", async () => {
    const fake = await startFakeCaddy({ unixSocket: true });
    const agent = new Agent({ connect: { socketPath: fake.socketPath } });
    try {
      // A client that names a host (as curl --unix-socket http://localhost/ does) sends Host: localhost.
      const client = createCaddyClient({ adminEndpoint: "http://localhost", dispatcher: agent });
      const err = await rejectsWithCaddyError(client.ping());
      expect(err).toMatchObject({ kind: "rejected", operation: "ping", status: 403, retryable: false });
      expect(err.detail).toContain("host not allowed");
      expect(err.userMessage).toBe("The router (Caddy) refused the request.");
    } finally {
      await agent.close();
      await fake.close();
    }
  });

  it.each([
    "unix:relative/caddy.sock",
    "unix:",
    "https://127.0.0.1:2019",
    "http://user:secret@127.0.0.1:2019",
    "http://127.0.0.1:2019/config/",
    "http://127.0.0.1:2019/?x=1",
    "127.0.0.1:2019",
    "",
  ])("refuses the admin endpoint %j", (adminEndpoint) => {
    const err = caddyError(() => createCaddyClient({ adminEndpoint }));
    expect(err.kind).toBe("invalid_option");
  });

  describe("with a mocked dispatcher", () => {
    let mock: MockAgent;
    const ORIGIN = "http://127.0.0.1:2019";

    beforeEach(() => {
      mock = new MockAgent();
      mock.disableNetConnect();
    });

    afterEach(async () => {
      await mock.close();
    });

    it("reports a config that is not JSON as an unexpected answer", async () => {
      mock.get(ORIGIN).intercept({ path: "/config/", method: "GET" }).reply(200, "<html>proxy</html>");
      const client = createCaddyClient({ adminEndpoint: ORIGIN, dispatcher: mock });
      const err = await rejectsWithCaddyError(client.getConfig());
      expect(err).toMatchObject({ kind: "unexpected_response", operation: "get_config", retryable: false });
    });

    it("reads an empty body as no config", async () => {
      mock.get(ORIGIN).intercept({ path: "/config/", method: "GET" }).reply(200, "");
      const client = createCaddyClient({ adminEndpoint: ORIGIN, dispatcher: mock });
      expect(await client.getConfig()).toBeNull();
    });

    it("sends the canonical JSON with the JSON content type", async () => {
      let seen: { body: unknown; contentType: unknown } | null = null;
      mock
        .get(ORIGIN)
        .intercept({ path: "/load", method: "POST" })
        .reply(200, (options) => {
          const headers = new Headers(options.headers as Record<string, string>);
          seen = { body: options.body, contentType: headers.get("content-type") };
          return "";
        });
      const client = createCaddyClient({ adminEndpoint: ORIGIN, dispatcher: mock });
      await client.load(CONFIG);
      expect(seen).toEqual({ body: canonicalJson(CONFIG), contentType: "application/json" });
    });
  });
});

describe("applyCaddyConfig", () => {
  const stubClient = (load: () => Promise<void>): CaddyClient => ({
    getConfig: async () => null,
    load,
    ping: async () => {},
    close: async () => {},
  });

  it("does not retry errors that are not CaddyErrors", async () => {
    let calls = 0;
    const client = stubClient(async () => {
      calls++;
      throw new TypeError("bug");
    });
    const { delays, sleep } = recordingSleep();
    await expect(applyCaddyConfig(client, CONFIG, { retry: FAST_RETRY, sleep })).rejects.toThrow(TypeError);
    expect(calls).toBe(1);
    expect(delays).toHaveLength(0);
  });

  it.each<ApplyOptions["retry"]>([
    { attempts: 0, baseDelayMs: 100, maxDelayMs: 1_000 },
    { attempts: 1.5, baseDelayMs: 100, maxDelayMs: 1_000 },
    { attempts: 3, baseDelayMs: -1, maxDelayMs: 1_000 },
    { attempts: 3, baseDelayMs: 100, maxDelayMs: 50 },
    { attempts: 3, baseDelayMs: 100, maxDelayMs: Number.POSITIVE_INFINITY },
  ])("refuses the retry policy %j", async (retry) => {
    const client = stubClient(async () => {});
    const err = await rejectsWithCaddyError(applyCaddyConfig(client, CONFIG, { retry }));
    expect(err.kind).toBe("invalid_option");
  });
});

describe("backoffDelay", () => {
  const policy = { attempts: 10, baseDelayMs: 100, maxDelayMs: 1_000 };

  it("doubles per attempt, caps at maxDelayMs and keeps jitter in the upper half", () => {
    expect([1, 2, 3, 4, 5, 9].map((n) => backoffDelay(policy, n, () => 0))).toEqual([50, 100, 200, 400, 500, 500]);
    expect([1, 2, 3, 4, 5, 9].map((n) => backoffDelay(policy, n, () => 0.999_999))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });
});
