// `npm start` / `npm run dev`: one supervised process tree.
//   1. the embedded PostgreSQL when no DATABASE_URL is set, 2. migrations, 3. the tenant PostgreSQL and Redis when
//   not configured (lib/services/tenant-services-start.ts), 4. a production build when the sources changed since the
//   last one (skipped with --no-build), 5. the web server (scripts/web-server.ts: Next.js in production or
//   development mode behind our own node:http server) and 6. the worker.
// Ctrl-C or SIGTERM stops everything in order. A web server or worker that dies is restarted with a growing backoff
// (lib/services/supervised-process.ts, lib/services/restart-policy.ts): a crashed worker left the platform without
// jobs until a person came. Only repeated crashes in a short window stop everything, with exit code 1.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { migrateAll } from "@/lib/database/migrate";
import { loadEnvOrExit } from "@/lib/env";
import { logger } from "@/lib/logger";
import { openPlatformDatabase } from "@/lib/services/database";
import { DEFAULT_RESTART_POLICY, type RestartPolicy } from "@/lib/services/restart-policy";
import { migrateSecrets } from "@/lib/services/secrets-migration";
import { type SupervisedProcess, superviseProcess } from "@/lib/services/supervised-process";
import { startTenantServices, type TenantServicesHandle } from "@/lib/services/tenant-services-start";
import { webServerArgs } from "@/lib/services/web-server";

const env = loadEnvOrExit();
const dev = process.argv.includes("--dev");
// Serve the existing production build as it is: a second instance in the same working tree (the e2e suite's) must
// not rebuild .next while the first one serves it.
const noBuild = process.argv.includes("--no-build");
const root = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);
const log = logger({ component: "supervisor" });
const STOP_GRACE_MS = 25_000;
// The worker gets its drain time (TUSSILAGO_WORKER_DRAIN_S) plus this to hand back unfinished jobs and exit: a
// SIGKILL before that leaves their locks until another worker finds them stale.
const WORKER_STOP_MARGIN_MS = 15_000;
const restartPolicy: RestartPolicy = {
  ...DEFAULT_RESTART_POLICY,
  maxCrashes: env.supervisor.restartMaxCrashes,
  windowMs: env.supervisor.restartWindowMs,
};

type Prettifier = (line: string) => string;

async function prettifier(): Promise<Prettifier | null> {
  if (!dev) return null;
  const { prettyFactory } = await import("pino-pretty");
  const pretty = prettyFactory({ colorize: process.stdout.isTTY, translateTime: "HH:MM:ss", ignore: "pid,hostname" });
  return (line) => {
    if (!line.startsWith("{")) return `${line}\n`;
    try {
      return pretty(JSON.parse(line) as Record<string, unknown>);
    } catch {
      return `${line}\n`;
    }
  };
}

function forwardLines(stream: NodeJS.ReadableStream | null, out: NodeJS.WritableStream, pretty: Prettifier | null) {
  if (!stream) return;
  const lines = readline.createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on("line", (line) => out.write(pretty ? pretty(line) : `${line}\n`));
}

/** A hash of everything the production build depends on, to rebuild only when something changed. */
async function sourceHash(): Promise<string> {
  const hash = createHash("sha256");
  const inputs = ["app", "components", "lib", "prisma/schema.prisma", "next.config.ts", "package-lock.json"];
  const visit = async (relative: string): Promise<void> => {
    const absolute = path.join(root, relative);
    const stat = await fs.stat(absolute).catch(() => null);
    if (!stat) return;
    if (stat.isDirectory()) {
      if (relative === path.join("lib", "generated")) return;
      const entries = (await fs.readdir(absolute)).sort();
      for (const entry of entries) await visit(path.join(relative, entry));
      return;
    }
    hash.update(relative);
    hash.update(await fs.readFile(absolute));
  };
  for (const input of inputs) await visit(input);
  hash.update("postcss.config.mjs");
  hash.update(await fs.readFile(path.join(root, "postcss.config.mjs")).catch(() => Buffer.alloc(0)));
  return hash.digest("hex");
}

function run(name: string, args: string[], childEnv: NodeJS.ProcessEnv, pretty: Prettifier | null): ChildProcess {
  const child = spawn(process.execPath, args, { cwd: root, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  forwardLines(child.stdout, process.stdout, pretty);
  forwardLines(child.stderr, process.stderr, pretty);
  log.info({ process: name, pid: child.pid }, "started");
  return child;
}

async function buildIfNeeded(childEnv: NodeJS.ProcessEnv, pretty: Prettifier | null): Promise<void> {
  const stampFile = path.join(root, ".next", "tussilago-source-hash");
  const wanted = await sourceHash();
  const existing = await fs.readFile(stampFile, "utf8").catch(() => null);
  const hasBuild = await fs
    .stat(path.join(root, ".next", "BUILD_ID"))
    .then(() => true)
    .catch(() => false);
  if (hasBuild && existing === wanted) return;
  log.info("building the portal (first start, or the sources changed); this takes a minute");
  const build = run("build", [require.resolve("next/dist/bin/next"), "build"], childEnv, pretty);
  const code = await new Promise<number | null>((resolve) => build.on("exit", (exitCode) => resolve(exitCode)));
  if (code !== 0) throw new Error(`next build failed with exit code ${code}`);
  await fs.writeFile(stampFile, wanted);
}

async function main(): Promise<void> {
  const pretty = await prettifier();
  log.info({ dataDir: env.dataDir, mode: dev ? "development" : "production" }, "starting Tussilago");
  const database = await openPlatformDatabase(env, log, { attachIfRunning: false });
  const children = new Map<string, SupervisedProcess>();
  let tenantServices: TenantServicesHandle | null = null;
  let stopping = false;

  const shutdown = async (exitCode: number, reason: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, "stopping Tussilago");
    await Promise.all([...children.values()].map((child) => child.stop()));
    // After the worker: a job still running must not lose its server mid-step.
    await tenantServices?.stop();
    await database.stop().catch((error: unknown) => log.error({ err: error }, "PostgreSQL did not stop cleanly"));
    log.info("stopped");
    process.exit(exitCode);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => void shutdown(0, signal));
  }

  try {
    const { applied } = await migrateAll(database.directUrl, log);
    log.info({ applied: applied.length }, applied.length ? "migrations applied" : "database schema up to date");
    await migrateSecrets(database.directUrl, log);
    const started = await startTenantServices(env, log);
    tenantServices = started;
    // A signal during the start: shutdown() already ran without these, so stop them here.
    if (stopping) return await started.stop();

    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: dev ? "development" : "production",
      DATABASE_URL: database.url,
      DATABASE_DIRECT_URL: database.directUrl,
      TUSSILAGO_DATA_DIR: env.dataDir,
      NEXT_TELEMETRY_DISABLED: "1",
      // TENANT_PG_ADMIN_URL, and TENANT_REDIS_ADMIN_URL unless Redis is unavailable: lib/env reads them.
      ...started.env,
    };
    if (!dev && !noBuild) await buildIfNeeded(childEnv, pretty);
    else if (noBuild) log.info("--no-build: serving the existing build of the portal");
    if (stopping) return;

    const port = String(env.port);
    // Our own node:http server around Next (not `next start`): it sets the client's address from the connection
    // (lib/services/web-server.ts). It reads PORT and TUSSILAGO_BIND from the environment, as this process does.
    const workerArgs = dev
      ? [require.resolve("tsx/cli"), "watch", "--clear-screen=false", "jobs/worker.ts"]
      : ["--import", "tsx", "jobs/worker.ts"];
    const commands = { web: webServerArgs({ dev }), worker: workerArgs };
    for (const [name, args] of Object.entries(commands)) {
      children.set(
        name,
        superviseProcess({
          name,
          start: () => run(name, args, childEnv, pretty),
          policy: restartPolicy,
          log,
          // Restarting does not help (a broken build, a bad configuration): stop all, and let the service
          // manager or a person see the exit code.
          onGiveUp: (reason) => void shutdown(1, reason),
          stopGraceMs: name === "worker" ? env.workerDrainMs + WORKER_STOP_MARGIN_MS : STOP_GRACE_MS,
        }),
      );
    }
    log.info(
      { url: env.publicUrl, bind: `${env.bindAddress}:${port}` },
      "Tussilago is starting; the portal will answer shortly",
    );
  } catch (error) {
    log.fatal({ err: error }, "Tussilago could not start");
    await shutdown(1, "startup failed");
  }
}

main().catch((error: unknown) => {
  log.fatal({ err: error }, "Tussilago could not start");
  process.exit(1);
});
