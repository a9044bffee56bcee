import { Agent, MockAgent } from "undici";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeCaddy, startFakeCaddy } from "../../../test/fake-caddy";
import { toUserMessage } from "../exec";
import {
  applyCaddyConfig,
  type CaddyClient,
  canonicalJson,
  configHash,
  createCaddyClient,
  renderCaddyConfig,
} from "./index";
import {
  CONFIG,
  caddyError,
  DESIRED,
  FAST_RETRY,
  OPTIONS,
  recordingSleep,
  rejectsWithCaddyError,
} from "./test-fixtures";

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
