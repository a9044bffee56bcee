// Caddy's on-demand TLS `ask`: before Caddy requests a certificate for a name it was asked for (an SNI in a TLS
// handshake), it asks this listener `GET <tlsAskUrl>?domain=<name>` and goes on only on a 2xx. Without it anyone
// could point any name at the server and make Caddy request certificates for it, burning the CA's rate limits.
// Yes only for a verified custom domain whose app is not being deleted, or an app host
// `<app>-<team slug>.<apps domain>` of an existing app; one indexed query either way. Served on loopback only, by
// the web server process (scripts/web-server.ts): Caddy runs on the same host.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Db } from "@/lib/db";
import { tlsAskUrlFor } from "@/lib/env";

const LDH_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** Every (app name, team slug) a label `<app>-<slug>` can be split into: both may contain hyphens themselves. */
function appHostSplits(label: string): { name: string; slug: string }[] {
  const splits: { name: string; slug: string }[] = [];
  for (let index = label.indexOf("-"); index > 0; index = label.indexOf("-", index + 1)) {
    const name = label.slice(0, index);
    const slug = label.slice(index + 1);
    if (slug) splits.push({ name, slug });
  }
  return splits;
}

/** Whether Caddy may obtain a certificate for `domain`. */
export async function tlsAskAllows(db: Db, domain: string, appsDomain: string): Promise<boolean> {
  const name = domain.trim().toLowerCase().replace(/\.$/, "");
  if (!LDH_NAME.test(name)) return false;
  const suffix = `.${appsDomain}`;
  if (name.endsWith(suffix)) {
    const label = name.slice(0, -suffix.length);
    if (label.includes(".")) return false;
    const splits = appHostSplits(label);
    if (splits.length === 0) return false;
    // (Team.slug unique, App (teamId, name) unique): each alternative is an index lookup.
    const app = await db.app.findFirst({
      where: {
        status: { not: "deleting" },
        team: { status: "active" },
        OR: splits.map((split) => ({ name: split.name, team: { slug: split.slug } })),
      },
      select: { id: true },
    });
    return app !== null;
  }
  if (name === appsDomain) return false;
  const row = await db.domain.findFirst({
    where: { hostname: name, status: "verified", app: { status: { not: "deleting" } } },
    select: { id: true },
  });
  return row !== null;
}

export type TlsAskServer = { url: string; port: number; close(): Promise<void> };

/** Listens on 127.0.0.1:`port` (0: a free one, reported in `url`). */
export async function startTlsAskServer(options: {
  db: Db;
  port: number;
  appsDomain: string;
  log: Logger;
}): Promise<TlsAskServer> {
  const { db, appsDomain, log } = options;
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const domain = url.searchParams.get("domain");
    if (request.method !== "GET" || url.pathname !== "/tls/ask" || !domain) {
      response.writeHead(404).end();
      return;
    }
    tlsAskAllows(db, domain, appsDomain).then(
      (allowed) => {
        log.info({ domain: domain.slice(0, 253), allowed }, "tls ask");
        response.writeHead(allowed ? 200 : 403, { "content-type": "text/plain" }).end(allowed ? "ok" : "no");
      },
      (error: unknown) => {
        // Caddy reads any non-2xx as "no": a database hiccup delays a certificate, it never grants one.
        log.error({ err: error }, "tls ask failed");
        response.writeHead(503).end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ port }, "tls ask listener ready");
  return {
    url: tlsAskUrlFor(port),
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
