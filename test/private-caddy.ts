// A private Caddy for tests, the bench and the host smoke: its own admin socket, config and data directories under
// `dir`, HTTP (and optionally HTTPS) listeners on free loopback ports. The host's Caddy and its autosaved config are
// never touched (docs/development.md).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "@/lib/database/embedded";
import { type CaddyClient, createCaddyClient, renderCaddyConfig } from "@/lib/infra/caddy";
import { MissingExecutableError, resolveExecutable } from "@/lib/services/infra";

const execFileAsync = promisify(execFile);

export type PrivateCaddy = {
  /** For TUSSILAGO_CADDY_ADMIN: unix:<socket>. */
  adminEndpoint: string;
  /** Caddy's own notation, for the rendered config's admin block. */
  adminListen: string;
  /** 127.0.0.1:<port>, where it serves apps over HTTP. */
  listen: string;
  httpPort: number;
  /** 127.0.0.1:<port> for HTTPS, when asked for. */
  httpsListen: string | null;
  httpsPort: number | null;
  client: CaddyClient;
  version: string;
  /** Caddy's stdout and stderr. */
  logFile: string;
  stop(): Promise<void>;
};

export function findCaddy(): string | null {
  try {
    return resolveExecutable("caddy");
  } catch (error) {
    if (error instanceof MissingExecutableError) return null;
    throw error;
  }
}

export async function startPrivateCaddy(
  caddyPath: string,
  dir: string,
  options: { https?: boolean } = {},
): Promise<PrivateCaddy> {
  await fs.mkdir(dir, { recursive: true });
  const socket = path.join(dir, "admin.sock");
  const httpPort = await freePort();
  const httpsPort = options.https ? await freePort() : null;
  const listen = `127.0.0.1:${httpPort}`;
  const adminListen = `unix/${socket}`;
  const configFile = path.join(dir, "caddy.json");
  await fs.writeFile(
    configFile,
    JSON.stringify(renderCaddyConfig([], { listen: [listen], adminListen, automaticHttps: false })),
  );
  const logFile = path.join(dir, "caddy.log");
  const log = await fs.open(logFile, "a");
  const child: ChildProcess = spawn(caddyPath, ["run", "--config", configFile], {
    // Caddy autosaves the last loaded config under its config directory, which `caddy run --resume` on this host
    // would pick up: a private one keeps its own. (The cast: Next's types declare NODE_ENV as always present.)
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: dir,
      XDG_CONFIG_HOME: path.join(dir, "config"),
      XDG_DATA_HOME: path.join(dir, "data"),
    } as Record<string, string> as NodeJS.ProcessEnv,
    stdio: ["ignore", log.fd, log.fd],
  });
  await log.close();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const client = createCaddyClient({ adminEndpoint: `unix:${socket}`, timeoutMs: 60_000 });
  const stop = async () => {
    await client.close();
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await client.close();
      throw new Error(`caddy exited with code ${child.exitCode}; see ${logFile}`);
    }
    if (
      await client.ping().then(
        () => true,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the private Caddy's admin API did not answer within 30 s; see ${logFile}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const { stdout } = await execFileAsync(caddyPath, ["version"], { timeout: 30_000 });
  const version = stdout.trim().split(" ")[0] ?? "unknown";
  return {
    adminEndpoint: `unix:${socket}`,
    adminListen,
    listen,
    httpPort,
    httpsListen: httpsPort === null ? null : `127.0.0.1:${httpsPort}`,
    httpsPort,
    client,
    version,
    logFile,
    stop,
  };
}
