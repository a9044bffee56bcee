// Starts the whole platform the way `npm start` does (embedded PostgreSQL, migrations, production build, web and
// worker) on a free port with a throwaway data directory, and stops it after the run.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { FullConfig } from "@playwright/test";

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
  const log = createWriteStream(logFile);
  const { DATABASE_URL: _ignored, DATABASE_DIRECT_URL: _ignoredToo, ...inherited } = process.env;
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    env: {
      ...inherited,
      TUSSILAGO_SECRET_KEY: randomBytes(32).toString("base64url"),
      TUSSILAGO_DATA_DIR: dataDir,
      PORT: String(port),
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
    throw error;
  }

  return async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    log.end();
    await fs.rm(dataDir, { recursive: true, force: true });
  };
}
