// Starts the whole platform the way `npm start` does (embedded PostgreSQL, migrations, production build, web and
// worker) on a free port with a throwaway data directory, and stops it after the run; then a second instance with
// email (a fake SMTP server, test/fake-smtp.ts) and single sign-on (a fake OIDC issuer, test/fake-oidc.ts). The
// workers talk to the fake podman (test/fake-podman) and fake Caddy admin APIs (test/fake-caddy.ts), never to real
// infrastructure; the main instance's custom domain checks ask a fake DNS server (e2e/fake-dns-control.ts).
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FullConfig } from "@playwright/test";
import { freePort, type LaunchedPlatform, launchPlatform } from "../scripts/launcher";
import { startFakeCaddy } from "../test/fake-caddy";
import { startFakeOidc } from "../test/fake-oidc";
import { startFakeSmtp } from "../test/fake-smtp";
import { startFakeDnsControl } from "./fake-dns-control";

const STARTUP_DEADLINE_MS = 5 * 60_000;

const FAKE_PODMAN = fileURLToPath(new URL("../test/fake-podman/fake-podman.mjs", import.meta.url));

/**
 * Failure switches for specs: while `<dir>/<file>` exists, each call of the fake gets the variable. Specs find the
 * directory in E2E_FAKE_PODMAN_DIR, create the file, deploy, and remove it again.
 */
const SWITCHES = {
  "fail-build": "FAKE_PODMAN_FAIL_BUILD",
  "hang-build": "FAKE_PODMAN_HANG_BUILD",
  // Base images not already stored cannot be fetched, in podman's words for a registry name that does not resolve.
  "registry-unreachable": "FAKE_PODMAN_REGISTRY_UNREACHABLE",
};

/**
 * An executable the platform runs as podman (TUSSILAGO_PODMAN_PATH), like test/fake-podman/install.ts makes for
 * integration tests. The platform's worker is already running when a spec wants a failure, so switches are files
 * the wrapper checks at each call rather than variables in the worker's environment.
 */
async function installFakePodman(dir: string): Promise<string> {
  const wrapper = path.join(dir, "podman");
  const lines = [
    "#!/usr/bin/env node",
    'import { existsSync, readFileSync } from "node:fs";',
    `process.env.FAKE_PODMAN_STATE = ${JSON.stringify(path.join(dir, "state"))};`,
    ...Object.entries(SWITCHES).map(
      ([file, variable]) => `if (existsSync(${JSON.stringify(path.join(dir, file))})) process.env.${variable} = "1";`,
    ),
    // While `<dir>/run-output` exists, one-off run containers (named ...-run) exit 0 at once having printed its text.
    `if (existsSync(${JSON.stringify(path.join(dir, "run-output"))})) {`,
    `  process.env.FAKE_PODMAN_RUN_OUTPUT = readFileSync(${JSON.stringify(path.join(dir, "run-output"))}, "utf8");`,
    '  process.env.FAKE_PODMAN_RUN_EXIT_CODE = "0";',
    '  process.env.FAKE_PODMAN_RUN_EXIT_MATCH = "-run$";',
    "}",
    `await import(${JSON.stringify(FAKE_PODMAN)});`,
  ];
  await fs.writeFile(wrapper, `${lines.join("\n")}\n`, { mode: 0o755 });
  return wrapper;
}

type Platform = { baseUrl: string; podmanDir: string; stop: () => Promise<void> };

/**
 * One platform instance: `scripts/start.ts` with its own data directory, free port, fake podman and fake Caddy.
 * Instances start one after the other: the first builds the portal when the sources changed, the next ones start with
 * `build: false` (scripts/start.ts --no-build) and serve that build, never rebuilding .next while the first serves it.
 */
async function startPlatform(
  name: string,
  port: number,
  options: { host?: "127.0.0.1" | "localhost"; env?: Record<string, string>; build?: boolean } = {},
): Promise<Platform> {
  const baseUrl = `http://${options.host ?? "127.0.0.1"}:${port}`;
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `tussilago-${name}-`));
  await fs.chmod(dataDir, 0o711);
  await fs.mkdir("test-results", { recursive: true });
  const logFile = path.resolve("test-results", `${name}-platform.log`);
  const podmanDir = await fs.mkdtemp(path.join(os.tmpdir(), `tussilago-${name}-podman-`));
  const podmanPath = await installFakePodman(podmanDir);
  // Releases switch routes through Caddy's admin API; a Caddy on this machine's default port is not ours to change.
  const caddy = await startFakeCaddy();
  const cleanupFiles = async () => {
    await caddy.close();
    await fs.rm(dataDir, { recursive: true, force: true });
    await fs.rm(podmanDir, { recursive: true, force: true });
  };
  let platform: LaunchedPlatform;
  try {
    platform = await launchPlatform({
      dataDir,
      port,
      // A prepared host's /etc/tussilago/host.env must not turn the e2e platform into a real one.
      hostConfig: "none",
      build: options.build,
      env: {
        // Every spec signs its people up and in from 127.0.0.1: the per-address limits are for real clients.
        TUSSILAGO_PER_IP_RATE_LIMIT_SCALE: "1000",
        TUSSILAGO_PODMAN_PATH: podmanPath,
        TUSSILAGO_CADDY_ADMIN: caddy.url,
        // The address the specs use: links in pages and mails, and next-auth's redirects, are built on it.
        TUSSILAGO_PUBLIC_URL: baseUrl,
        // Caddy's TLS ask listener on a free port: two platforms on the default port 7103 would collide.
        TUSSILAGO_TLS_ASK_PORT: "0",
        ...options.env,
      },
      logFile,
      truncateLog: true,
      startupTimeoutMs: STARTUP_DEADLINE_MS,
    });
  } catch (error) {
    await cleanupFiles();
    throw error;
  }
  const stop = async () => {
    await platform.stop();
    await cleanupFiles();
  };
  return { baseUrl, podmanDir, stop };
}

/** The second platform's client at the fake issuer (docs/configuration.md: OIDC_CLIENT_ID, OIDC_CLIENT_SECRET). */
const OIDC_CLIENT = { clientId: "tussilago-e2e", clientSecret: randomBytes(24).toString("base64url") };
const OIDC_NAME = "Fake IdP";

/**
 * Two instances: the main one without SMTP or OIDC (specs rely on "without SMTP the inviter copies the link"), and a
 * second one, for e2e/auth-providers.spec.ts, that sends mail to a fake SMTP server and signs in through a fake OIDC
 * issuer. Specs run in other processes and find them through environment variables: E2E_BASE_URL; E2E_AUTH_BASE_URL,
 * E2E_SMTP_INBOX_URL (GET /messages), E2E_OIDC_ISSUER (POST /_test/user picks who the issuer signs in) and
 * E2E_OIDC_NAME.
 */
export default async function globalSetup(_config: FullConfig): Promise<() => Promise<void>> {
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step();
  };
  try {
    // Custom domains' DNS checks ask a fake server whose records specs set (E2E_FAKE_DNS_URL, POST /records).
    const dns = await startFakeDnsControl();
    cleanups.push(dns.close);
    const main = await startPlatform("e2e", await freePort(), {
      env: {
        TUSSILAGO_DNS_RESOLVERS: dns.dnsAddress,
        // e2e/notifications.spec.ts points a webhook channel at a listener of its own on 127.0.0.1.
        TUSSILAGO_WEBHOOK_ALLOW_PRIVATE_HOSTS: "1",
      },
    });
    cleanups.push(main.stop);
    process.env.E2E_BASE_URL = main.baseUrl;
    process.env.E2E_FAKE_DNS_URL = dns.url;
    process.env.E2E_FAKE_PODMAN_DIR = main.podmanDir;

    const smtp = await startFakeSmtp({ inbox: true });
    cleanups.push(smtp.stop);
    const authPort = await freePort();
    // On localhost rather than 127.0.0.1: Next's NextRequest reports loopback addresses as `localhost`, so next-auth's
    // route handlers see http://localhost:<port> whatever the browser used, and its redirects and the OIDC
    // redirect_uri agree with the public URL only when that is localhost too.
    const authBaseUrl = `http://localhost:${authPort}`;
    // The redirect URI operators register (docs/configuration.md): the public URL's /api/auth/callback/oidc only.
    const oidc = await startFakeOidc({ ...OIDC_CLIENT, redirectUris: [`${authBaseUrl}/api/auth/callback/oidc`] });
    cleanups.push(oidc.close);
    const providers = await startPlatform("e2e-auth", authPort, {
      host: "localhost",
      build: false,
      env: {
        SMTP_URL: smtp.url,
        SMTP_FROM: "Tussilago E2E <no-reply@tussilago.test>",
        OIDC_ISSUER: oidc.issuer,
        OIDC_CLIENT_ID: OIDC_CLIENT.clientId,
        OIDC_CLIENT_SECRET: OIDC_CLIENT.clientSecret,
        OIDC_NAME: OIDC_NAME,
      },
    });
    cleanups.push(providers.stop);
    process.env.E2E_AUTH_BASE_URL = providers.baseUrl;
    process.env.E2E_SMTP_INBOX_URL = smtp.inboxUrl ?? "";
    process.env.E2E_OIDC_ISSUER = oidc.issuer;
    process.env.E2E_OIDC_NAME = OIDC_NAME;
  } catch (error) {
    await cleanup();
    throw error;
  }
  return cleanup;
}
