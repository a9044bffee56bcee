// Caddy's on-demand TLS `ask` (lib/engine/tls-ask.ts) over its loopback listener: yes (200) only for verified custom
// domains of apps not being deleted and for the host of an existing app under the apps domain (names and team slugs
// with hyphens included); no for pending, unknown, deleting, malformed and foreign names; one query per answer.
import { randomBytes } from "node:crypto";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import type { Ctx } from "@/lib/domain/context";
import { addDomain } from "@/lib/domain/domains";
import { startTlsAskServer, type TlsAskServer, tlsAskAllows } from "@/lib/engine/tls-ask";
import { getEnv, parseEnv, resetEnvForTests } from "@/lib/env";
import { createTestTeam, createTestUser, userCtx } from "@/test/factories";

const APPS_DOMAIN = "apps.tussilago.test";
let server: TlsAskServer;
let ctx: Ctx;
let slug: string;
let appId: string;

beforeAll(async () => {
  process.env.TUSSILAGO_APPS_DOMAIN = APPS_DOMAIN;
  resetEnvForTests();
  const user = await createTestUser();
  const team = await createTestTeam(user.id, `Big Co ${randomBytes(3).toString("hex")}`);
  slug = team.slug;
  ctx = await userCtx(user.id, team.id);
  appId = (await createApp(getDb(), ctx, { name: "my-shop" })).id;
  server = await startTlsAskServer({ db: getDb(), port: 0, appsDomain: APPS_DOMAIN, log: pino({ level: "silent" }) });
});

afterAll(async () => {
  await server.close();
  delete process.env.TUSSILAGO_APPS_DOMAIN;
  resetEnvForTests();
});

async function ask(domain: string, path = "/tls/ask"): Promise<number> {
  const url = new URL(server.url.replace("/tls/ask", path));
  url.searchParams.set("domain", domain);
  return (await fetch(url)).status;
}

async function domainWithStatus(status: "pending" | "verified") {
  const hostname = `d${randomBytes(4).toString("hex")}.example.com`;
  const domain = await addDomain(getDb(), ctx, appId, { hostname });
  if (status === "verified") await getDb().domain.update({ where: { id: domain.id }, data: { status } });
  return hostname;
}

describe("the ask listener", () => {
  it("listens on loopback and reports its URL", () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/tls/ask`);
  });

  it("says yes to a verified domain (any case, trailing dot) and no to a pending one", async () => {
    const verified = await domainWithStatus("verified");
    const pending = await domainWithStatus("pending");
    expect(await ask(verified)).toBe(200);
    expect(await ask(`${verified.toUpperCase()}.`)).toBe(200);
    expect(await ask(pending)).toBe(403);
  });

  it("says yes to an existing app's host (hyphens in app name and slug) and no to others under the apps domain", async () => {
    expect(slug).toContain("-");
    expect(await ask(`my-shop-${slug}.${APPS_DOMAIN}`)).toBe(200);
    expect(await ask(`other-${slug}.${APPS_DOMAIN}`)).toBe(403);
    expect(await ask(`my-shop-nobody.${APPS_DOMAIN}`)).toBe(403);
    expect(await ask(APPS_DOMAIN)).toBe(403);
    expect(await ask(`a.my-shop-${slug}.${APPS_DOMAIN}`)).toBe(403);
  });

  it("says no once the app is being deleted", async () => {
    const other = await createApp(getDb(), ctx, { name: `bye-${randomBytes(3).toString("hex")}` });
    const hostname = `bye${randomBytes(4).toString("hex")}.example.com`;
    const domain = await addDomain(getDb(), ctx, other.id, { hostname });
    await getDb().domain.update({ where: { id: domain.id }, data: { status: "verified" } });
    expect(await ask(hostname)).toBe(200);
    expect(await ask(`${other.name}-${slug}.${APPS_DOMAIN}`)).toBe(200);
    await getDb().app.update({ where: { id: other.id }, data: { status: "deleting" } });
    expect(await ask(hostname)).toBe(403);
    expect(await ask(`${other.name}-${slug}.${APPS_DOMAIN}`)).toBe(403);
  });

  it.each([
    "unknown.example.com",
    "*.example.com",
    "127.0.0.1",
    "exa mple.com",
    "{http.request.host}",
    "a".repeat(300),
  ])("says no to %s", async (name) => {
    expect(await ask(name)).toBe(403);
  });

  it("answers 404 off its path or without a domain", async () => {
    expect(await ask("x.example.com", "/other")).toBe(404);
    expect((await fetch(server.url)).status).toBe(404);
  });

  it("decides in one query", async () => {
    const verified = await domainWithStatus("verified");
    for (const name of [verified, `my-shop-${slug}.${APPS_DOMAIN}`, "nothing.example.com"]) {
      const { count } = await countQueries(() => tlsAskAllows(getDb(), name, APPS_DOMAIN));
      expect(count).toBe(1);
    }
  });
});

describe("configuration", () => {
  it("exports the ask URL (default port 7103) and none for port 0", () => {
    const base = { TUSSILAGO_SECRET_KEY: "k".repeat(40) };
    expect(parseEnv(base).tlsAskUrl).toBe("http://127.0.0.1:7103/tls/ask");
    expect(parseEnv({ ...base, TUSSILAGO_TLS_ASK_PORT: "0" }).tlsAskUrl).toBeNull();
    expect(getEnv().tlsAskPort).toBeTypeOf("number");
  });

  it("parses TUSSILAGO_DNS_RESOLVERS and TUSSILAGO_PUBLIC_IPS, refusing malformed entries", () => {
    const base = { TUSSILAGO_SECRET_KEY: "k".repeat(40) };
    const parsed = parseEnv({
      ...base,
      TUSSILAGO_DNS_RESOLVERS: "127.0.0.1:5353, [::1]:53,9.9.9.9",
      TUSSILAGO_PUBLIC_IPS: "203.0.113.1, 2001:db8::1",
    });
    expect(parsed.domains).toEqual({
      dnsResolvers: ["127.0.0.1:5353", "[::1]:53", "9.9.9.9"],
      publicIps: ["203.0.113.1", "2001:db8::1"],
    });
    expect(parseEnv(base).domains).toEqual({ dnsResolvers: [], publicIps: [] });
    expect(() => parseEnv({ ...base, TUSSILAGO_DNS_RESOLVERS: "dns.example.com:53" })).toThrow(/DNS_RESOLVERS/);
    expect(() => parseEnv({ ...base, TUSSILAGO_PUBLIC_IPS: "203.0.113.1,example.com" })).toThrow(/PUBLIC_IPS/);
    expect(parseEnv(base).quotaDefaults.domains).toBe(20);
  });
});
