import { describe, expect, it } from "vitest";
import { canonicalJson, type DesiredApp, type RenderOptions, renderCaddyConfig, type TlsRenderOptions } from "./index";
import {
  ADMIN_SOCKET,
  APP_A,
  APP_B,
  DESIRED,
  expectRefused,
  FALLBACK,
  HEX_A,
  HEX_B,
  LB,
  OPTIONS,
  PASSIVE,
  shuffled,
  TEXT,
} from "./test-fixtures";

// The HTTPS half of the rendered config (TUSSILAGO_TLS=on): two servers, on-demand certificates behind the ask URL,
// the ACME issuer's options, redirects for domains with a certificate, HSTS, and the portal.

const TLS: TlsRenderOptions = {
  httpsListen: [":443"],
  askUrl: "http://127.0.0.1:7103/tls/ask",
  acme: {
    ca: "https://acme-v02.api.letsencrypt.org/directory",
    email: "ops@example.com",
    trustedRootsPemFile: "/etc/tussilago/acme-root.pem",
  },
  portal: null,
};
const TLS_OPTIONS: RenderOptions = { ...OPTIONS, tls: TLS };

const APP_HOST = "shop-acme.apps.example.net";
// A has a domain with a certificate (redirect + HSTS) and one still waiting (no redirect); B has no replica.
const WITH_DOMAINS: DesiredApp[] = [
  {
    appId: APP_A,
    hostnames: [APP_HOST],
    upstreams: [{ dial: "127.0.0.1:41000" }],
    domains: [
      { hostname: "WWW.shop.example", redirectHttps: true, hsts: true },
      { hostname: "new.shop.example", redirectHttps: false, hsts: false },
    ],
  },
  { appId: APP_B, hostnames: ["b-acme.apps.example.net"], upstreams: [] },
];

const PROXY_A = {
  handler: "reverse_proxy",
  upstreams: [{ dial: "127.0.0.1:41000" }],
  load_balancing: LB,
  health_checks: { passive: PASSIVE },
};
const NOT_RUNNING = { handler: "static_response", status_code: 503, headers: TEXT, body: "This app is not running.\n" };
const ISSUER = {
  module: "acme",
  ca: "https://acme-v02.api.letsencrypt.org/directory",
  email: "ops@example.com",
  trusted_roots_pem_files: ["/etc/tussilago/acme-root.pem"],
};

describe("renderCaddyConfig with TLS", () => {
  it("renders an HTTP and an HTTPS server, on-demand certificates behind the ask URL, redirects and HSTS", () => {
    expect(renderCaddyConfig(WITH_DOMAINS, TLS_OPTIONS)).toEqual({
      admin: { listen: ADMIN_SOCKET },
      apps: {
        http: {
          http_port: 80,
          https_port: 443,
          servers: {
            tussilago: {
              listen: [":80"],
              automatic_https: { disable: true },
              routes: [
                {
                  "@id": `tsl-redirect-${HEX_A}`,
                  match: [{ host: ["www.shop.example"] }],
                  handle: [
                    {
                      handler: "static_response",
                      status_code: 308,
                      headers: { Location: ["https://{http.request.host}{http.request.uri}"] },
                    },
                  ],
                  terminal: true,
                },
                {
                  "@id": `tsl-app-${HEX_A}`,
                  match: [{ host: ["new.shop.example", APP_HOST] }],
                  handle: [PROXY_A],
                  terminal: true,
                },
                {
                  "@id": `tsl-app-${HEX_B}`,
                  match: [{ host: ["b-acme.apps.example.net"] }],
                  handle: [NOT_RUNNING],
                  terminal: true,
                },
                FALLBACK,
              ],
            },
            "tussilago-https": {
              listen: [":443"],
              automatic_https: { disable: true },
              tls_connection_policies: [{}],
              routes: [
                {
                  "@id": `tsl-hsts-${HEX_A}`,
                  match: [{ host: ["www.shop.example"] }],
                  handle: [
                    {
                      handler: "headers",
                      response: { set: { "Strict-Transport-Security": ["max-age=31536000"] }, deferred: true },
                    },
                  ],
                },
                {
                  "@id": `tsl-app-${HEX_A}-https`,
                  match: [{ host: ["new.shop.example", APP_HOST, "www.shop.example"] }],
                  handle: [PROXY_A],
                  terminal: true,
                },
                {
                  "@id": `tsl-app-${HEX_B}-https`,
                  match: [{ host: ["b-acme.apps.example.net"] }],
                  handle: [NOT_RUNNING],
                  terminal: true,
                },
                { ...FALLBACK, "@id": "tsl-fallback-https" },
              ],
            },
          },
        },
        tls: {
          automation: {
            policies: [{ issuers: [ISSUER], on_demand: true }],
            on_demand: { ask: "http://127.0.0.1:7103/tls/ask" },
          },
        },
      },
    });
  });

  it("leaves the email and trusted roots out when unset, and names a non-default HTTPS port in redirects", () => {
    const config = renderCaddyConfig(WITH_DOMAINS, {
      ...OPTIONS,
      listen: [":8080"],
      tls: {
        ...TLS,
        httpsListen: ["127.0.0.1:8443"],
        acme: { ca: TLS.acme.ca, email: null, trustedRootsPemFile: null },
      },
    });
    expect(config.apps.http).toMatchObject({ http_port: 8080, https_port: 8443 });
    expect(config.apps.tls?.automation.policies).toEqual([
      { issuers: [{ module: "acme", ca: TLS.acme.ca }], on_demand: true },
    ]);
    const redirect = config.apps.http.servers.tussilago?.routes[0]?.handle[0];
    expect(redirect).toMatchObject({ headers: { Location: ["https://{http.request.host}:8443{http.request.uri}"] } });
  });

  it("serves the portal over HTTPS with its own managed certificate, and redirects it from HTTP", () => {
    const config = renderCaddyConfig(WITH_DOMAINS, {
      ...TLS_OPTIONS,
      tls: { ...TLS, portal: { hostname: "Portal.example.net", dial: "127.0.0.1:3000" } },
    });
    expect(config.apps.tls).toEqual({
      certificates: { automate: ["portal.example.net"] },
      automation: {
        // The portal's policy first: Caddy takes the first policy that matches a name, and the catch-all matches all.
        policies: [
          { subjects: ["portal.example.net"], issuers: [ISSUER] },
          { issuers: [ISSUER], on_demand: true },
        ],
        on_demand: { ask: "http://127.0.0.1:7103/tls/ask" },
      },
    });
    const https = config.apps.http.servers["tussilago-https"]?.routes[0];
    expect(https).toEqual({
      "@id": "tsl-portal-https",
      match: [{ host: ["portal.example.net"] }],
      handle: [
        {
          handler: "reverse_proxy",
          upstreams: [{ dial: "127.0.0.1:3000" }],
          load_balancing: LB,
          health_checks: { passive: PASSIVE },
        },
      ],
      terminal: true,
    });
    expect(config.apps.http.servers.tussilago?.routes[0]).toMatchObject({
      "@id": "tsl-portal",
      match: [{ host: ["portal.example.net"] }],
      handle: [{ status_code: 308 }],
    });
  });

  it("is deterministic: apps and domains in any order render the same JSON", () => {
    const reference = canonicalJson(renderCaddyConfig(WITH_DOMAINS, TLS_OPTIONS));
    for (const seed of [1, 7, 42]) {
      const desired = shuffled(WITH_DOMAINS, seed).map((app) => ({
        ...app,
        hostnames: shuffled(app.hostnames, seed),
        domains: shuffled(app.domains ?? [], seed + 1),
      }));
      expect(canonicalJson(renderCaddyConfig(desired, TLS_OPTIONS))).toBe(reference);
    }
  });

  it("with TLS off, routes verified domains over plain HTTP like today's config, without redirects or HSTS", () => {
    expect(renderCaddyConfig(DESIRED, { ...OPTIONS, tls: null })).toEqual(renderCaddyConfig(DESIRED, OPTIONS));
    const config = renderCaddyConfig(WITH_DOMAINS, OPTIONS);
    expect(config.apps.tls).toBeUndefined();
    expect(Object.keys(config.apps.http.servers)).toEqual(["tussilago"]);
    expect(config.apps.http.servers.tussilago?.routes[0]).toEqual({
      "@id": `tsl-app-${HEX_A}`,
      match: [{ host: ["new.shop.example", APP_HOST, "www.shop.example"] }],
      handle: [PROXY_A],
      terminal: true,
    });
  });

  it.each([
    ["an ask URL off the host", { askUrl: "http://10.0.0.5:7103/tls/ask" }],
    ["an https ask URL", { askUrl: "https://127.0.0.1:7103/tls/ask" }],
    ["an ask URL with a placeholder", { askUrl: "http://127.0.0.1:7103/{http.request.host}" }],
    ["a plain-http CA", { acme: { ...TLS.acme, ca: "http://acme.example/directory" } }],
    ["a CA with a placeholder", { acme: { ...TLS.acme, ca: "https://acme.example/{env.HOME}" } }],
    ["an email with a placeholder", { acme: { ...TLS.acme, email: "{env.X}@example.com" } }],
    ["a relative CA root", { acme: { ...TLS.acme, trustedRootsPemFile: "root.pem" } }],
    ["a CA root outside the tree", { acme: { ...TLS.acme, trustedRootsPemFile: "/etc/../root.pem" } }],
    ["no HTTPS listen address", { httpsListen: [] }],
  ])("refuses %s", (_label, override) => {
    expectRefused(WITH_DOMAINS, "invalid_option" as const, { ...OPTIONS, tls: { ...TLS, ...override } });
  });

  it("refuses a domain that is not a plain hostname or that another app or the portal has, and a bad portal upstream", () => {
    const app = WITH_DOMAINS[0] as DesiredApp;
    const withDomain = (hostname: string): DesiredApp[] => [
      { ...app, domains: [{ hostname, redirectHttps: true, hsts: false }] },
      WITH_DOMAINS[1] as DesiredApp,
    ];
    expectRefused(WITH_DOMAINS, "invalid_upstream", {
      ...OPTIONS,
      tls: { ...TLS, portal: { hostname: "portal.example.net", dial: "{http.request.host}:80" } },
    });
    expectRefused(withDomain("shop.example/{path}"), "invalid_hostname", TLS_OPTIONS);
    expectRefused(withDomain("*.shop.example"), "invalid_hostname", TLS_OPTIONS);
    expectRefused(withDomain("b-acme.apps.example.net"), "duplicate_hostname", TLS_OPTIONS);
    expectRefused(withDomain("portal.example.net"), "duplicate_hostname", {
      ...OPTIONS,
      tls: { ...TLS, portal: { hostname: "portal.example.net", dial: "127.0.0.1:3000" } },
    });
  });
});
