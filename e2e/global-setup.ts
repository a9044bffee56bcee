// Starts the whole platform the way `npm start` does (embedded PostgreSQL, migrations, production build, web and
// worker) on a free port with a throwaway data directory, and stops it after the run. The worker talks to the fake
// podman (test/fake-podman) and a fake Caddy admin API (test/fake-caddy.ts), never to real infrastructure.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FullConfig } from "@playwright/test";
import { startFakeCaddy } from "../test/fake-caddy";

const STARTUP_DEADLINE_MS = 5 * 60_000;

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === "object" ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

const FAKE_PODMAN = fileURLToPath(new URL("../test/fake-podman/fake-podman.mjs", import.meta.url));

/**
 * Failure switches for specs: while `<dir>/<file>` exists, each call of the fake gets the variable. Specs find the
 * directory in E2E_FAKE_PODMAN_DIR, create the file, deploy, and remove it again.
 */
const SWITCHES = { "fail-build": "FAKE_PODMAN_FAIL_BUILD", "hang-build": "FAKE_PODMAN_HANG_BUILD" };

/**
 * An executable the platform runs as podman (TUSSILAGO_PODMAN_PATH), like test/fake-podman/install.ts makes for
 * integration tests. The platform's worker is already running when a spec wants a failure, so switches are files
 * the wrapper checks at each call rather than variables in the worker's environment.
 */
async function installFakePodman(dir: string): Promise<string> {
  const wrapper = path.join(dir, "podman");
  const lines = [
    "#!/usr/bin/env node",
    'import { existsSync } from "node:fs";',
    `process.env.FAKE_PODMAN_STATE = ${JSON.stringify(path.join(dir, "state"))};`,
    ...Object.entries(SWITCHES).map(
      ([file, variable]) => `if (existsSync(${JSON.stringify(path.join(dir, file))})) process.env.${variable} = "1";`,
    ),
    `await import(${JSON.stringify(FAKE_PODMAN)});`,
  ];
  await fs.writeFile(wrapper, `${lines.join("\n")}\n`, { mode: 0o755 });
  return wrapper;
}

async function waitForHealthy(url: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + STARTUP_DEADLINE_MS;
  let delay = 250;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the platform exited with code ${child.exitCode}; see ${logFile}`);
    try {
      const response = await fetch(`${url}/api/health`);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 2_000);
  }
  throw new Error(`the platform did not become healthy in time; see ${logFile}`);
}

export default async function globalSetup(_config: FullConfig): Promise<() => Promise<void>> {
  const port = await freePort();
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-e2e-"));
  await fs.chmod(dataDir, 0o711);
  await fs.mkdir("test-results", { recursive: true });
  const logFile = path.resolve("test-results", "e2e-platform.log");
  const podmanDir = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-e2e-podman-"));
  const podmanPath = await installFakePodman(podmanDir);
  process.env.E2E_FAKE_PODMAN_DIR = podmanDir;
  // Releases switch routes through Caddy's admin API; a Caddy on this machine's default port is not ours to change.
  const caddy = await startFakeCaddy();
  const log = createWriteStream(logFile);
  const { DATABASE_URL: _ignored, DATABASE_DIRECT_URL: _ignoredToo, ...inherited } = process.env;
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    env: {
      ...inherited,
      TUSSILAGO_SECRET_KEY: randomBytes(32).toString("base64url"),
      TUSSILAGO_DATA_DIR: dataDir,
      // A prepared host's /etc/tussilago/host.env must not turn the e2e platform into a real one.
      TUSSILAGO_HOST_CONFIG: "none",
      PORT: String(port),
      TUSSILAGO_PODMAN_PATH: podmanPath,
      TUSSILAGO_CADDY_ADMIN: caddy.url,
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const baseUrl = `http://127.0.0.1:${port}`;
  process.env.E2E_BASE_URL = baseUrl;
  try {
    await waitForHealthy(baseUrl, child, logFile);
  } catch (error) {
    child.kill("SIGTERM");
    await caddy.close();
    await fs.rm(podmanDir, { recursive: true, force: true });
    throw error;
  }

  return async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    log.end();
    await caddy.close();
    await fs.rm(dataDir, { recursive: true, force: true });
    await fs.rm(podmanDir, { recursive: true, force: true });
  };
}
