import { describe, expect, it } from "vitest";
import { CaddyError, type DesiredApp, normalizeHostname, type RenderOptions, renderCaddyConfig } from "./index";
import { APP_A, APP_B, DESIRED, expectRefused, OPTIONS, PASSIVE } from "./test-fixtures";

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
