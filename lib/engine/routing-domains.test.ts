// Custom domains in the routing config (issue #13): which domains join their app's route, the HTTPS half of the
// config with TLS on (redirect once the certificate is issued, HSTS, the portal), the environment that turns it on,
// and a constant number of queries however many apps and domains there are.
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { desiredRouting, type RoutingConfig, routingConfigFromEnv, syncRouting } from "@/lib/engine/routing";
import { ConfigError, parseEnv } from "@/lib/env";
import type { AppStatus, DomainStatus, DomainTlsStatus } from "@/lib/generated/prisma/enums";
import { createCaddyClient } from "@/lib/infra/caddy";
import { createTestTeam, createTestUser } from "@/test/factories";
import { type FakeCaddy, startFakeCaddy } from "@/test/fake-caddy";
import { routingFor, silentLog } from "@/test/release-helpers";

let caddy: FakeCaddy;

beforeAll(async () => {
  caddy = await startFakeCaddy();
});

afterAll(async () => {
  await caddy.close();
});

const ASK = "http://127.0.0.1:7103/tls/ask";

function tlsRouting(portal: { hostname: string; dial: string } | null = null): RoutingConfig {
  return {
    ...routingFor(caddy),
    tls: {
      httpsListen: [":443"],
      askUrl: ASK,
      acme: { ca: "https://acme.example/directory", email: null, trustedRootsPemFile: null },
      portal,
    },
  };
}

async function appWith(status: AppStatus, healthyReplicas = 1) {
  const db = getDb();
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const app = await db.app.create({ data: { teamId: team.id, name: `d-${randomBytes(3).toString("hex")}`, status } });
  const deployment = await db.deployment.create({
    data: { appId: app.id, teamId: team.id, number: 1, status: "running", sourceType: "upload" },
  });
  for (let index = 0; index < healthyReplicas; index++) {
    await db.replica.create({
      data: {
        appId: app.id,
        deploymentId: deployment.id,
        index,
        containerName: `tsl-${app.id.replaceAll("-", "")}-1-${index}`,
        hostPort: 30_000 + Math.floor(Math.random() * 20_000),
        status: "healthy",
      },
    });
  }
  return { app, team, host: `${app.name}-${team.slug}.localhost` };
}

type DomainOptions = {
  status?: DomainStatus;
  tlsStatus?: DomainTlsStatus;
  redirectHttps?: boolean;
  hsts?: boolean;
  proofMissingSince?: Date;
};

async function domainOn(app: { id: string; teamId: string }, options: DomainOptions = {}): Promise<string> {
  const hostname = `${randomBytes(4).toString("hex")}.shop.example`;
  await getDb().domain.create({
    data: {
      teamId: app.teamId,
      appId: app.id,
      hostname,
      verificationToken: randomUUID(),
      status: options.status ?? "verified",
      tlsStatus: options.tlsStatus ?? "pending",
      redirectHttps: options.redirectHttps ?? true,
      hsts: options.hsts ?? false,
      proofMissingSince: options.proofMissingSince ?? null,
    },
  });
  return hostname;
}

type Route = { "@id": string; match?: { host: string[] }[]; handle: { handler: string }[] };

function routesOf(config: unknown, server = "tussilago"): Route[] {
  return (config as { apps: { http: { servers: Record<string, { routes: Route[] }> } } }).apps.http.servers[server]
    ?.routes as Route[];
}

function hostsOf(config: unknown, id: string, server = "tussilago"): string[] | null {
  return routesOf(config, server).find((route) => route["@id"] === id)?.match?.[0]?.host ?? null;
}

const hex = (id: string) => id.replaceAll("-", "");

describe("custom domains in the routing config", () => {
  it("routes verified domains (flagged ones too) with their app, never pending ones or a deleting app's", async () => {
    const { app, host } = await appWith("running");
    const verified = await domainOn(app);
    const flagged = await domainOn(app, { proofMissingSince: new Date() });
    const pending = await domainOn(app, { status: "pending" });
    const stopped = await appWith("stopped");
    const onStopped = await domainOn(stopped.app);
    const deleting = await appWith("deleting");
    const onDeleting = await domainOn(deleting.app);

    await syncRouting(getDb(), createCaddyClient({ adminEndpoint: caddy.url }), {
      config: routingFor(caddy),
      log: silentLog,
    });
    const config = caddy.config;
    expect(hostsOf(config, `tsl-app-${hex(app.id)}`)).toEqual([flagged, host, verified].sort());
    expect(hostsOf(config, `tsl-app-${hex(stopped.app.id)}`)).toEqual([onStopped, stopped.host].sort());
    expect(JSON.stringify(config)).not.toContain(pending);
    expect(JSON.stringify(config)).not.toContain(onDeleting);
  });

  it("with TLS on, redirects HTTP to HTTPS only for domains with an issued certificate, and adds HSTS", async () => {
    const { app, host } = await appWith("running");
    const issued = await domainOn(app, { tlsStatus: "issued", hsts: true });
    const waiting = await domainOn(app, { tlsStatus: "pending" });
    const optedOut = await domainOn(app, { tlsStatus: "issued", redirectHttps: false });

    await syncRouting(getDb(), createCaddyClient({ adminEndpoint: caddy.url }), {
      config: tlsRouting(),
      log: silentLog,
    });
    const config = caddy.config;
    expect(hostsOf(config, `tsl-redirect-${hex(app.id)}`)).toEqual([issued]);
    expect(hostsOf(config, `tsl-app-${hex(app.id)}`)).toEqual([host, optedOut, waiting].sort());
    expect(hostsOf(config, `tsl-hsts-${hex(app.id)}`, "tussilago-https")).toEqual([issued]);
    expect(hostsOf(config, `tsl-app-${hex(app.id)}-https`, "tussilago-https")).toEqual(
      [host, issued, optedOut, waiting].sort(),
    );
    expect(config).toMatchObject({ apps: { tls: { automation: { on_demand: { ask: ASK } } } } });
  });

  it("leaves out a domain that collides with the portal's host, and keeps the app and the portal routed", async () => {
    const { app, host } = await appWith("running");
    const hostname = await domainOn(app);
    const desired = await desiredRouting(
      getDb(),
      tlsRouting({ hostname: hostname.toUpperCase(), dial: "127.0.0.1:3000" }),
      silentLog,
    );
    expect(desired.find((entry) => entry.appId === app.id)).toMatchObject({ hostnames: [host] });
    expect(desired.find((entry) => entry.appId === app.id)?.domains).toBeUndefined();
  });

  it("reads apps and their domains with a constant number of queries", async () => {
    const config = tlsRouting();
    const first = await appWith("running");
    await domainOn(first.app);
    const one = await countQueries(() => desiredRouting(getDb(), config));
    for (let i = 0; i < 4; i++) {
      const { app } = await appWith("running", 2);
      await domainOn(app, { tlsStatus: "issued" });
      await domainOn(app, { hsts: true });
    }
    const five = await countQueries(() => desiredRouting(getDb(), config));
    expect(five.result.length).toBeGreaterThanOrEqual(one.result.length + 4);
    expect(five.count).toBe(one.count);
  });
});

describe("routingConfigFromEnv with TLS", () => {
  const base = { TUSSILAGO_SECRET_KEY: "x".repeat(32), TUSSILAGO_HOST_CONFIG: "none" };

  it("is off for a localhost apps domain, on for another, and TUSSILAGO_TLS decides when set", () => {
    expect(routingConfigFromEnv(parseEnv(base)).tls).toBeUndefined();
    expect(routingConfigFromEnv(parseEnv({ ...base, TUSSILAGO_APPS_DOMAIN: "apps.localhost" })).tls).toBeUndefined();
    const on = routingConfigFromEnv(parseEnv({ ...base, TUSSILAGO_APPS_DOMAIN: "apps.example.net" }));
    expect(on.tls).toEqual({
      httpsListen: [":443"],
      askUrl: "http://127.0.0.1:7103/tls/ask",
      acme: { ca: "https://acme-v02.api.letsencrypt.org/directory", email: null, trustedRootsPemFile: null },
      portal: null,
    });
    expect(
      routingConfigFromEnv(parseEnv({ ...base, TUSSILAGO_APPS_DOMAIN: "apps.example.net", TUSSILAGO_TLS: "off" })).tls,
    ).toBeUndefined();
    expect(routingConfigFromEnv(parseEnv({ ...base, TUSSILAGO_TLS: "on" })).tls).toBeDefined();
  });

  it("takes the ACME settings, the HTTPS listen addresses and the portal from the environment", () => {
    const env = parseEnv({
      ...base,
      TUSSILAGO_TLS: "on",
      TUSSILAGO_ACME_CA: "https://localhost:14000/dir",
      TUSSILAGO_ACME_EMAIL: "ops@example.com",
      TUSSILAGO_ACME_CA_ROOT: "/etc/tussilago/pebble.pem",
      TUSSILAGO_CADDY_HTTPS_LISTEN: ":8443",
      TUSSILAGO_PUBLIC_URL: "https://Portal.example.net",
      PORT: "3100",
    });
    expect(routingConfigFromEnv(env).tls).toEqual({
      httpsListen: [":8443"],
      askUrl: "http://127.0.0.1:7103/tls/ask",
      acme: {
        ca: "https://localhost:14000/dir",
        email: "ops@example.com",
        trustedRootsPemFile: "/etc/tussilago/pebble.pem",
      },
      portal: { hostname: "portal.example.net", dial: "127.0.0.1:3100" },
    });
    // Caddy is the one proxy in front of a loopback-only web server: its X-Forwarded-For entry is trusted.
    expect(env.trustedProxies).toBe(1);
    const everywhere = parseEnv({ ...base, TUSSILAGO_TLS: "on", TUSSILAGO_PUBLIC_URL: "https://p.example.net" });
    expect(parseEnv({ ...base, TUSSILAGO_TLS: "on", TUSSILAGO_BIND: "0.0.0.0" }).trustedProxies).toBe(0);
    expect(everywhere.trustedProxies).toBe(1);
    expect(
      parseEnv({
        ...base,
        TUSSILAGO_TLS: "on",
        TUSSILAGO_PUBLIC_URL: "https://p.example.net",
        TUSSILAGO_BIND: "0.0.0.0",
      }).trustedProxies,
    ).toBe(0);
    expect(parseEnv({ ...base, TUSSILAGO_TRUSTED_PROXIES: "2", TUSSILAGO_TLS: "on" }).trustedProxies).toBe(2);
    expect(parseEnv(base).trustedProxies).toBe(0);
  });

  it("needs the ask listener's port with TLS on, and refuses unusable ACME settings", () => {
    const noPort = parseEnv({ ...base, TUSSILAGO_TLS: "on", TUSSILAGO_TLS_ASK_PORT: "0" });
    expect(() => routingConfigFromEnv(noPort)).toThrow(ConfigError);
    expect(routingConfigFromEnv(noPort, { tlsAskUrl: "http://127.0.0.1:4567/tls/ask" }).tls?.askUrl).toBe(
      "http://127.0.0.1:4567/tls/ask",
    );
    for (const bad of [
      { TUSSILAGO_TLS: "yes" },
      { TUSSILAGO_ACME_CA: "http://acme.example/directory" },
      { TUSSILAGO_ACME_EMAIL: "not an email" },
      { TUSSILAGO_ACME_CA_ROOT: "relative.pem" },
    ]) {
      expect(() => parseEnv({ ...base, ...bad })).toThrow(ConfigError);
    }
  });
});
