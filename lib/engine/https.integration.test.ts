// The real HTTPS proof of custom domains (issue #13): a PRIVATE Caddy (own admin socket, own loopback ports, never the
// host's) configured by the platform's own caddy__sync task, Pebble (Let's Encrypt's test CA) as the ACME CA and
// pebble-challtestsrv as the DNS server the ownership check asks. A domain verified through a TXT record is served
// over HTTPS with a Pebble-issued certificate, tls-status records it, and HTTP then redirects to HTTPS; a name that
// was never verified gets no certificate, and Pebble is never asked for one.
// Runs when caddy, pebble, pebble-challtestsrv and openssl are installed (.ci/run installs them); skipped otherwise,
// with the reason in the suite's title.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import { createServer, request as httpRequest, type Server } from "node:http";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import type { PeerCertificate, TLSSocket } from "node:tls";
import { promisify } from "node:util";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskContext } from "@/jobs/define";
import { tasks } from "@/jobs/tasks";
import { getDb } from "@/lib/db";
import { addDomain, removeDomain, updateDomain } from "@/lib/domain/domains";
import { startTlsAskServer, type TlsAskServer } from "@/lib/engine/tls-ask";
import { resetEnvForTests } from "@/lib/env";
import { resetInfraForTests } from "@/lib/services/infra";
import { createTestTeam, createTestUser, userCtx } from "@/test/factories";
import { freePort } from "@/test/net";
import { type Pebble, pebbleInstalled, startPebble } from "@/test/pebble";
import { findCaddy, type PrivateCaddy, startPrivateCaddy } from "@/test/private-caddy";
import { silentLog } from "@/test/release-helpers";

const execFileAsync = promisify(execFile);
const caddyPath = findCaddy();
const pebbleReady = await pebbleInstalled();
const missing = [...(caddyPath === null ? ["caddy"] : []), ...(pebbleReady ? [] : ["pebble/openssl"])];
const title =
  missing.length === 0
    ? "HTTPS for custom domains, with a private Caddy and Pebble"
    : `HTTPS for custom domains (SKIPPED: ${missing.join(", ")} not installed; .ci/run installs them)`;

// Handshakes wait while Caddy obtains a certificate: generous bounds, never asserted on.
const REQUEST_TIMEOUT_MS = 90_000;
const APP_BODY = `hello from the app ${randomBytes(4).toString("hex")}\n`;

let dir: string;
let caddy: PrivateCaddy;
let pebble: Pebble;
let ask: TlsAskServer;
let upstream: Server;
let upstreamPort: number;
const askAnswers: { domain: string; allowed: boolean }[] = [];
const savedEnv: Record<string, string | undefined> = {};

function setEnv(values: Record<string, string>): void {
  for (const [key, value] of Object.entries(values)) {
    if (!(key in savedEnv)) savedEnv[key] = process.env[key];
    process.env[key] = value;
  }
  resetEnvForTests();
  resetInfraForTests();
}

function taskCtx(): TaskContext {
  return { db: getDb(), log: silentLog, jobId: "1", attempt: 1, maxAttempts: 3, workerId: "test" };
}

/** A logger whose "tls ask" lines are kept, to see what Caddy asked and what it was told. */
function askLogger() {
  return pino(
    { level: "info" },
    {
      write(line: string) {
        const entry = JSON.parse(line) as { msg?: string; domain?: string; allowed?: boolean };
        if (entry.msg === "tls ask" && entry.domain !== undefined && entry.allowed !== undefined) {
          askAnswers.push({ domain: entry.domain, allowed: entry.allowed });
        }
      },
    },
  );
}

beforeAll(async () => {
  if (missing.length > 0 || caddyPath === null) return;
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-https-test-"));
  pebble = await startPebble(path.join(dir, "pebble"));
  caddy = await startPrivateCaddy(caddyPath, path.join(dir, "caddy"), { https: true });
  // The ask listener on a port of its own, named in the environment as in production (routingConfigFromEnv).
  const askPort = await freePort();
  ask = await startTlsAskServer({ db: getDb(), port: askPort, appsDomain: "localhost", log: askLogger() });
  upstream = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(APP_BODY);
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  upstreamPort = (upstream.address() as AddressInfo).port;
  setEnv({
    TUSSILAGO_APPS_DOMAIN: "localhost",
    TUSSILAGO_CADDY_ADMIN: caddy.adminEndpoint,
    TUSSILAGO_CADDY_LISTEN: caddy.listen,
    TUSSILAGO_CADDY_HTTPS_LISTEN: caddy.httpsListen ?? "",
    TUSSILAGO_TLS: "on",
    TUSSILAGO_ACME_CA: pebble.directoryUrl,
    TUSSILAGO_ACME_CA_ROOT: pebble.listenerRootPath,
    TUSSILAGO_ACME_EMAIL: "ops@example.test",
    TUSSILAGO_DNS_RESOLVERS: pebble.dnsAddress,
    TUSSILAGO_TLS_ASK_PORT: String(askPort),
  });
}, 120_000);

afterAll(async () => {
  for (const [key, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  resetEnvForTests();
  resetInfraForTests();
  await ask?.close();
  await new Promise<void>((resolve) => (upstream ? upstream.close(() => resolve()) : resolve()));
  await caddy?.stop();
  await pebble?.stop();
  if (dir && !process.env.KEEP_HTTPS_TEST_DIR) await fs.rm(dir, { recursive: true, force: true });
}, 60_000);

/** A running app with one healthy replica: the local HTTP server above. */
async function runningApp() {
  const db = getDb();
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const app = await db.app.create({
    data: { teamId: team.id, name: `web-${randomBytes(3).toString("hex")}`, status: "running" },
  });
  const deployment = await db.deployment.create({
    data: { appId: app.id, teamId: team.id, number: 1, status: "running", sourceType: "upload" },
  });
  await db.replica.create({
    data: {
      appId: app.id,
      deploymentId: deployment.id,
      index: 0,
      containerName: `tsl-${app.id.replaceAll("-", "")}-1-0`,
      hostPort: upstreamPort,
      status: "healthy",
    },
  });
  return { app, ctx: await userCtx(owner.id, team.id) };
}

type HttpsAnswer = {
  status: number;
  body: string;
  hsts: string | undefined;
  issuerCn: string | undefined;
  subjectAltName: string | undefined;
};

/** GET over HTTPS to the private Caddy with SNI = hostname, trusting only Pebble's issuing root. */
function httpsGet(hostname: string, ca: string): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        port: caddy.httpsPort ?? 0,
        servername: hostname,
        headers: { host: hostname },
        path: "/",
        ca,
        timeout: REQUEST_TIMEOUT_MS,
        agent: false,
      },
      (res) => {
        const cert: PeerCertificate = (res.socket as TLSSocket).getPeerCertificate();
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
            hsts:
              typeof res.headers["strict-transport-security"] === "string"
                ? res.headers["strict-transport-security"]
                : undefined,
            issuerCn: Array.isArray(cert.issuer?.CN) ? cert.issuer.CN[0] : cert.issuer?.CN,
            subjectAltName: cert.subjectaltname,
          }),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error("HTTPS request timed out")));
    req.on("error", reject);
    req.end();
  });
}

/** GET over plain HTTP to the private Caddy with the given Host header. */
function httpGet(hostname: string, pathname: string): Promise<{ status: number; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: "127.0.0.1", port: caddy.httpPort, path: pathname, headers: { host: hostname }, agent: false },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error("HTTP request timed out")));
    req.on("error", reject);
    req.end();
  });
}

/**
 * What Pebble's log says it was asked: its new orders, issued certificates, and the whole text (each order's
 * validation task names its identifier, the hostname).
 */
async function pebbleLog(): Promise<{ orders: number; issued: number; text: string }> {
  const text = await fs.readFile(path.join(dir, "pebble", "pebble.log"), "utf8");
  return {
    orders: text.split("\n").filter((line) => line.includes("Added order")).length,
    issued: text.split("\n").filter((line) => line.includes("Issued certificate serial")).length,
    text,
  };
}

/** Certificates Caddy keeps for a name, under its private data directory. */
async function storedCertificates(hostname: string): Promise<string[]> {
  const { stdout } = await execFileAsync("find", [path.join(dir, "caddy", "data"), "-name", `${hostname}*`], {
    timeout: 10_000,
  });
  return stdout.split("\n").filter(Boolean);
}

describe.skipIf(missing.length > 0)(title, { timeout: 240_000 }, () => {
  it("serves a domain verified by TXT over HTTPS with a Pebble certificate, records it, then redirects HTTP", async () => {
    const db = getDb();
    const { app, ctx } = await runningApp();
    const hostname = `shop-${randomBytes(4).toString("hex")}.example.test`;
    const domain = await addDomain(db, ctx, app.id, { hostname });
    expect(domain.status).toBe("pending");

    // The ownership proof, in the DNS server the platform asks (TUSSILAGO_DNS_RESOLVERS), checked by the worker's task.
    await pebble.setTxt(domain.verification.name, domain.verification.value);
    await tasks.domain__check.run({ domainId: domain.id }, taskCtx());
    expect((await db.domain.findUniqueOrThrow({ where: { id: domain.id } })).status).toBe("verified");

    // The routing sync the verification requested, run as the worker runs it: into the private Caddy.
    await tasks.caddy__sync.run({}, taskCtx());

    // The handshake with SNI = the domain makes Caddy ask the platform, then obtain a certificate from Pebble.
    const pebbleBefore = await pebbleLog();
    const answer = await httpsGet(hostname, await pebble.issuerRootPem());
    expect(answer.status).toBe(200);
    expect(answer.body).toBe(APP_BODY);
    expect(answer.subjectAltName).toBe(`DNS:${hostname}`);
    expect(answer.issuerCn).toMatch(/^Pebble Intermediate CA/);
    expect(askAnswers).toContainEqual({ domain: hostname, allowed: true });
    // What the other test relies on to say Pebble was never asked: this order and this name are in Pebble's log.
    const pebbleAfter = await pebbleLog();
    expect(pebbleAfter.orders).toBeGreaterThan(pebbleBefore.orders);
    expect(pebbleAfter.issued).toBeGreaterThan(pebbleBefore.issued);
    expect(pebbleAfter.text).toContain(hostname);

    // Plain HTTP is still served (no redirect before the platform saw the certificate).
    expect(await httpGet(hostname, "/before")).toEqual({ status: 200, location: undefined });

    // The certificate check records what Caddy serves, and asks for a routing sync (the redirect follows it).
    await tasks.domain__check_tls.run({ domainId: domain.id }, taskCtx());
    const checked = await db.domain.findUniqueOrThrow({ where: { id: domain.id } });
    expect(checked.tlsStatus).toBe("issued");
    expect(checked.tlsIssuer).toMatch(/Pebble Intermediate CA/);
    expect(checked.tlsExpiresAt?.getTime()).toBeGreaterThan(Date.now());
    expect(checked.tlsError).toBeNull();

    await tasks.caddy__sync.run({}, taskCtx());
    expect(await httpGet(hostname, "/cart?x=1")).toEqual({
      status: 308,
      location: `https://${hostname}:${caddy.httpsPort}/cart?x=1`,
    });
    expect((await httpsGet(hostname, await pebble.issuerRootPem())).hsts).toBeUndefined();

    // HSTS, once asked for, on HTTPS answers only.
    await updateDomain(db, ctx, domain.id, { hsts: true });
    await tasks.caddy__sync.run({}, taskCtx());
    expect((await httpsGet(hostname, await pebble.issuerRootPem())).hsts).toBe("max-age=31536000");

    // Removed: no longer routed on either port (Caddy keeps the certificate in storage, but nothing answers with the
    // app), and the ask endpoint says no, so no renewal will be obtained for it.
    await removeDomain(db, ctx, domain.id);
    await tasks.caddy__sync.run({}, taskCtx());
    expect(await httpGet(hostname, "/")).toEqual({ status: 404, location: undefined });
    const gone = await httpsGet(hostname, await pebble.issuerRootPem());
    expect(gone.status).toBe(404);
    expect(gone.body).not.toBe(APP_BODY);
  });

  it("gives a name that was never verified no certificate, and never asks Pebble for one", async () => {
    const db = getDb();
    const { app, ctx } = await runningApp();
    // Added but never proven (no TXT record): pending, not routed, and the ask endpoint says no.
    const pendingHost = `pending-${randomBytes(4).toString("hex")}.example.test`;
    await addDomain(db, ctx, app.id, { hostname: pendingHost });
    // A name nobody added at all.
    const strangerHost = `stranger-${randomBytes(4).toString("hex")}.example.test`;
    await tasks.caddy__sync.run({}, taskCtx());
    const before = await pebbleLog();
    const ca = await pebble.issuerRootPem();

    for (const hostname of [pendingHost, strangerHost]) {
      await expect(httpsGet(hostname, ca)).rejects.toThrow();
      expect(askAnswers).toContainEqual({ domain: hostname, allowed: false });
      expect(askAnswers).not.toContainEqual({ domain: hostname, allowed: true });
      expect(await storedCertificates(hostname)).toEqual([]);
    }
    const after = await pebbleLog();
    expect({ orders: after.orders, issued: after.issued }).toEqual({ orders: before.orders, issued: before.issued });
    expect(after.text).not.toContain(pendingHost);
    expect(after.text).not.toContain(strangerHost);
    const caddyLog = await fs.readFile(caddy.logFile, "utf8");
    expect(caddyLog).not.toContain(pendingHost);
    expect(caddyLog).not.toContain(strangerHost);
  });
});
