import { describe, expect, it } from "vitest";
import { ACCESS_LOGGER, canonicalJson, configHash, renderCaddyConfig, routeIdForApp } from "./index";
import {
  ADMIN_SOCKET,
  APP_A,
  DESIRED,
  FALLBACK,
  HEX_A,
  HEX_B,
  HEX_C,
  LB,
  OPTIONS,
  PASSIVE,
  shuffled,
  TEXT,
} from "./test-fixtures";

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

describe("the access log (metrics)", () => {
  const desired = [{ appId: "0f3c2a6e-8b1d-4c7e-9a5f-2d4b6c8e0a1b", hostnames: ["a-t.apps.test"], upstreams: [] }];
  const accessLog = { filename: "/var/lib/tussilago/logs/caddy/access.log", rollSizeMb: 50, rollKeep: 5 };

  it("logs every server's requests as JSON to the rolled file, and nowhere else", () => {
    const config = renderCaddyConfig(desired, {
      listen: [":80"],
      adminListen: "127.0.0.1:2019",
      automaticHttps: false,
      accessLog,
    });
    expect(config.apps.http.servers.tussilago?.logs).toEqual({ default_logger_name: ACCESS_LOGGER });
    expect(config.logging?.logs[ACCESS_LOGGER]).toEqual({
      writer: {
        output: "file",
        filename: accessLog.filename,
        roll_size_mb: 50,
        roll_keep: 5,
        roll_keep_days: 7,
      },
      encoder: { format: "json" },
      include: [`http.log.access.${ACCESS_LOGGER}`],
    });
    expect(config.logging?.logs.default).toEqual({ exclude: [`http.log.access.${ACCESS_LOGGER}`] });
  });

  it("renders no logging without it, and refuses a relative path", () => {
    const options = { listen: [":80"], adminListen: "127.0.0.1:2019", automaticHttps: false };
    expect(renderCaddyConfig(desired, options).logging).toBeUndefined();
    expect(() =>
      renderCaddyConfig(desired, { ...options, accessLog: { ...accessLog, filename: "logs/access.log" } }),
    ).toThrow();
  });
});
