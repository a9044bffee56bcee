// The web server process (started by scripts/start.ts): Next.js behind a plain node:http server, so that the
// client's address comes from the connection and TUSSILAGO_TRUSTED_PROXIES (lib/services/web-server.ts) rather
// than from a header the client chose. `--dev` runs Next in development mode (npm run dev).
import { fileURLToPath } from "node:url";
import next from "next";
import { getDb } from "@/lib/db";
import { startTlsAskServer } from "@/lib/engine/tls-ask";
import { loadEnvOrExit } from "@/lib/env";
import { logger } from "@/lib/logger";
import { createWebServer } from "@/lib/services/web-server";

const env = loadEnvOrExit();
const dev = process.argv.includes("--dev");
const log = logger({ component: "web" });
const root = fileURLToPath(new URL("..", import.meta.url));
// Requests in flight get this long after SIGTERM; the supervisor's own limit (25 s) is longer.
const SHUTDOWN_GRACE_MS = 20_000;

async function main(): Promise<void> {
  let handle: ReturnType<ReturnType<typeof next>["getRequestHandler"]> | null = null;
  const server = createWebServer((request, response) => {
    if (!handle) {
      response.statusCode = 503;
      response.end();
      return;
    }
    return handle(request, response);
  }, env.trustedProxies);
  // httpServer lets Next attach its own upgrade handler (hot reload's websocket in development).
  const app = next({ dev, dir: root, hostname: env.bindAddress, port: env.port, httpServer: server });
  await app.prepare();
  handle = app.getRequestHandler();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(env.port, env.bindAddress, resolve);
  });
  log.info({ bind: `${env.bindAddress}:${env.port}`, mode: dev ? "development" : "production" }, "web server ready");
  // Caddy's on-demand TLS asks here (loopback only) before it requests a certificate for a name. Without the
  // listener (its port taken, e.g. by a second platform on this host) Caddy's asks fail and no certificate is
  // requested: closed, not open, so the portal keeps serving and the operator reads why in the log.
  const tlsAsk = await startTlsAskServer({
    db: getDb(),
    port: env.tlsAskPort,
    appsDomain: env.appsDomain,
    log: logger({ component: "tls-ask" }),
  }).catch((error: unknown) => {
    log.error(
      { err: error, port: env.tlsAskPort },
      "the TLS ask listener could not start (set TUSSILAGO_TLS_ASK_PORT); no certificates will be requested",
    );
    return null;
  });

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping the web server: finishing requests in flight");
    const force = setTimeout(() => process.exit(0), SHUTDOWN_GRACE_MS);
    force.unref();
    void tlsAsk?.close();
    server.close(() => {
      void app.close().finally(() => process.exit(0));
    });
    server.closeIdleConnections();
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

main().catch((error: unknown) => {
  log.fatal({ err: error }, "the web server could not start");
  process.exit(1);
});
