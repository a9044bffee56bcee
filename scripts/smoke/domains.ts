// Custom domains and HTTPS on the real host (issue #13): a local Pebble (Let's Encrypt's test CA, test/pebble.ts) is
// the ACME CA of the platform under test and pebble-challtestsrv its DNS, so the smoke proves the whole chain without
// a public name: add a domain to the deployed example, prove it with a TXT record, get a Pebble-issued certificate
// through the host's Caddy on its HTTPS port, see the status recorded and HTTP redirected, then remove the domain and
// see it no longer served. Nothing here touches public DNS or a public CA.
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import os from "node:os";
import path from "node:path";
import type { TLSSocket } from "node:tls";
import { caddyAdminListen } from "@/lib/engine/routing";
import { type TlsTarget, tlsTargetFromListen } from "@/lib/engine/tls-status";
import type { Env } from "@/lib/env";
import { createCaddyClient, renderCaddyConfig } from "@/lib/infra/caddy";
import { freePort } from "@/test/net";
import { type Pebble, pebbleInstalled, startPebble } from "@/test/pebble";
import { type Api, type App, field } from "./api";
import type { Front } from "./caddy";
import { fail, OPERATION_DEADLINE_MS, phase, SERVE_DEADLINE_MS, say, waitUntil } from "./support";

export type SmokeTls = {
  pebble: Pebble;
  dir: string;
  /** The platform's environment for HTTPS against this Pebble. */
  platformEnv: Record<string, string>;
  /** Where the host's Caddy serves HTTPS (TUSSILAGO_CADDY_HTTPS_LISTEN, :443 by default). */
  https: TlsTarget;
  stop(): Promise<void>;
};

type DomainJson = {
  id: string;
  hostname: string;
  status: string;
  verification: { type: string; name: string; value: string };
  tls: { status: string; issuer: string | null; expiresAt: string | null; error: string | null };
};

// A request may wait while Caddy obtains the certificate during the handshake.
const REQUEST_TIMEOUT_MS = 60_000;

/** Starts Pebble and says how the platform must be configured for it; before the platform starts. */
export async function startSmokeTls(env: Env): Promise<SmokeTls> {
  if (!(await pebbleInstalled())) {
    fail("the HTTPS step needs pebble, pebble-challtestsrv and openssl: apt-get install pebble openssl (or --no-tls)");
  }
  const listen = env.release.caddyHttpsListen[0];
  if (listen === undefined) fail("TUSSILAGO_CADDY_HTTPS_LISTEN names no address");
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-smoke-pebble-"));
  // The host's Caddy (root) reads the Pebble listener's root from here.
  await fs.chmod(dir, 0o755);
  const pebble = await startPebble(dir);
  say(`pebble: ${pebble.directoryUrl}, DNS ${pebble.dnsAddress}, log in ${dir}`);
  return {
    pebble,
    dir,
    platformEnv: {
      TUSSILAGO_TLS: "on",
      TUSSILAGO_ACME_CA: pebble.directoryUrl,
      TUSSILAGO_ACME_CA_ROOT: pebble.listenerRootPath,
      TUSSILAGO_ACME_EMAIL: "smoke@example.com",
      TUSSILAGO_DNS_RESOLVERS: pebble.dnsAddress,
      // Its own ask port: a production platform on this host may hold the default 7103.
      TUSSILAGO_TLS_ASK_PORT: String(await freePort()),
    },
    https: tlsTargetFromListen(listen),
    async stop() {
      await pebble.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * After the platform stopped: the host's Caddy gets a plain HTTP config again. Its autosaved config would otherwise
 * name this run's Pebble (gone) and its root file (deleted), and a Caddy restarted with --resume would fail to load it.
 * The host's own platform loads its routes again when it starts (or within seconds: the worker's Caddy watch).
 */
export async function resetHostCaddy(env: Env): Promise<void> {
  const client = createCaddyClient({ adminEndpoint: env.release.caddyAdmin, timeoutMs: 30_000 });
  try {
    await client.load(
      renderCaddyConfig([], {
        listen: env.release.caddyListen,
        adminListen: caddyAdminListen(env.release.caddyAdmin),
        automaticHttps: false,
      }),
    );
  } finally {
    await client.close();
  }
}

type Answer = { status: number; body: string; location?: string | undefined; issuer?: string | undefined };

/** GET https://<hostname>/ through the host's Caddy (SNI = hostname), trusting only Pebble's issuing root. */
function httpsGet(target: TlsTarget, hostname: string, ca: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: target.host,
        port: target.port,
        servername: hostname,
        headers: { host: hostname },
        path: "/",
        ca,
        agent: false,
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const issuer = (res.socket as TLSSocket).getPeerCertificate().issuer?.CN;
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
            issuer: Array.isArray(issuer) ? issuer[0] : issuer,
          }),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error("HTTPS request timed out")));
    req.on("error", reject);
    req.end();
  });
}

/** GET http://<hostname>/<path> through the host's Caddy, redirects not followed. */
function httpGet(front: Front, hostname: string, pathname: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: "127.0.0.1", port: front.port, path: pathname, headers: { host: hostname }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
            location: res.headers.location,
          }),
        );
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error("HTTP request timed out")));
    req.on("error", reject);
    req.end();
  });
}

async function getDomain(api: Api, id: string): Promise<DomainJson> {
  return field<DomainJson>(await api("GET", `/api/v1/domains/${id}`), "domain");
}

/** The custom domain journey on a running app whose HTTP answers satisfy `greets`. */
export async function smokeCustomDomain(
  api: Api,
  front: Front,
  tls: SmokeTls,
  app: App,
  greets: (body: string) => boolean,
): Promise<void> {
  const hostname = `smoke-${randomBytes(4).toString("hex")}.example.com`;
  const ca = await tls.pebble.issuerRootPem();
  let domain = await phase(`domain ${hostname}: add, prove with a TXT record, verify`, async () => {
    const added = field<DomainJson>(await api("POST", `/api/v1/apps/${app.id}/domains`, { hostname }, [201]), "domain");
    if (added.status !== "pending") fail(`a new domain is ${added.status}, not pending`);
    await tls.pebble.setTxt(added.verification.name, added.verification.value);
    const verified = field<DomainJson>(await api("POST", `/api/v1/domains/${added.id}/verify`, {}), "domain");
    if (verified.status !== "verified") fail(`the domain is ${verified.status} after its TXT record was set`);
    return verified;
  });

  await phase(`domain ${hostname}: HTTPS through the host's Caddy with a Pebble certificate`, async () => {
    // The worker's caddy__sync routes the name; until then Caddy answers the fallback (or refuses the handshake).
    const answer = await waitUntil(`https://${hostname}/ to answer 200`, SERVE_DEADLINE_MS, async () => {
      const got = await httpsGet(tls.https, hostname, ca).catch(() => null);
      return got !== null && got.status === 200 && greets(got.body) ? got : null;
    });
    if (!answer.issuer?.startsWith("Pebble Intermediate CA")) fail(`certificate issued by ${answer.issuer}`);
    say(`    served over HTTPS, certificate by ${answer.issuer}`);
  });

  domain = await phase(`domain ${hostname}: certificate status issued, HTTP redirects to HTTPS`, async () => {
    // domain__check_tls runs 10 s after verification (then every 5 minutes while not issued).
    const issued = await waitUntil("tls.status issued", OPERATION_DEADLINE_MS, async () => {
      const current = await getDomain(api, domain.id);
      return current.tls.status === "issued" ? current : null;
    });
    say(`    tls: issued by ${issued.tls.issuer}, expires ${issued.tls.expiresAt}`);
    const portSuffix = tls.https.port === 443 ? "" : `:${tls.https.port}`;
    const expected = `https://${hostname}${portSuffix}/smoke?x=1`;
    await waitUntil(`http://${hostname}/ to redirect to HTTPS`, SERVE_DEADLINE_MS, async () => {
      const got = await httpGet(front, hostname, "/smoke?x=1").catch(() => null);
      return got?.status === 308 && got.location === expected ? true : null;
    });
    return issued;
  });

  await phase(`domain ${hostname}: removed, no longer served`, async () => {
    await api("DELETE", `/api/v1/domains/${domain.id}`, undefined, [204]);
    await tls.pebble.clearTxt(domain.verification.name);
    // Caddy may keep the certificate in memory, so the handshake can still succeed: what matters is that the app is
    // not behind the name any more on either port.
    await waitUntil(`${hostname} to stop being served`, SERVE_DEADLINE_MS, async () => {
      const plain = await httpGet(front, hostname, "/").catch(() => null);
      const secure = await httpsGet(tls.https, hostname, ca).catch(() => null);
      const gone = (answer: Answer | null) => answer === null || answer.status === 404;
      return gone(plain) && gone(secure) ? true : null;
    });
    await api("GET", `/api/v1/domains/${domain.id}`, undefined, [404]);
  });
}
