// recovery_ms and reboot_ms: how long the whole platform (scripts/start.ts through scripts/launcher.ts, supervisor,
// web server and worker as `npm start` runs them) takes to converge by itself after a crash and after a reboot. The
// containers are the fake podman's (test/fake-podman, with its serve-http switch: each "container" answers HTTP 200 on
// its published port), so the figures are the control plane's: supervision, stale-lock release, job retry, the
// start-up reconcile and Caddy. Caddy is a real, private one (own admin socket and port; the host's is never used).
// The portal is served from the existing production build (--no-build): the bench must not rebuild .next under
// another instance, and a build's minutes would only add noise to the platform's start time.
//
// recovery_ms: the fake podman SIGKILLs the worker right after a release's first `podman run` (FAKE_PODMAN_KILL_ON,
// the same switch the fault-injection suite uses), mid-release; from that kill to the deployment's final state. The
// supervisor restarts the worker and the new worker frees the dead one's job once its heartbeat is older than
// TUSSILAGO_WORKER_STALE_AFTER_S. Floor, measured in the same run: that limit plus the time from the kill to the new
// worker's first heartbeat (the supervisor's restart delay and the worker's start).
//
// reboot_ms: three running apps; the platform is stopped, every tenant container removed (what a reboot leaves), and
// the platform started again on the same data; from that start to every app answering 200 through Caddy. Floor: the
// same start's time until the platform is ready (GET /api/health 200).
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { uploadPath } from "@/lib/data-paths";
import { readOrCreatePassword, runningClusterPort } from "@/lib/database/embedded";
import { createPrismaClient, type Db } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { createDeployment } from "@/lib/domain/deployments";
import { getEnv } from "@/lib/env";
import { findCaddy, type PrivateCaddy, startPrivateCaddy } from "@/scripts/bench/caddy";
import { type BenchContext, execFileAsync, sleep, waitFor } from "@/scripts/bench/context";
import { type SeededTeam, seedTeam, uploadExample } from "@/scripts/bench/deploy-kit";
import { type Metric, ratio, round, summarize } from "@/scripts/bench/stats";
import { freePort, type LaunchedPlatform, launchPlatform, PlatformExitedError } from "@/scripts/launcher";

const FAKE_PODMAN = fileURLToPath(new URL("../../test/fake-podman/fake-podman.mjs", import.meta.url));
const APPS_DOMAIN = "localhost";
/** The platform's default (lib/env.ts); the operator's own value when the bench is started with one. */
const DEFAULT_STALE_AFTER_S = 30;
const STARTUP_TIMEOUT_MS = 5 * 60_000;
const DEPLOY_TIMEOUT_MS = 3 * 60_000;
const CONVERGE_TIMEOUT_MS = 5 * 60_000;
/** Polling resolution of the timings below: small beside figures of seconds. */
const POLL_MS = 20;
const RECOVERY_RUNS = 3;
const QUICK_RECOVERY_RUNS = 1;
const REBOOT_APPS = 3;
const FINAL = new Set(["running", "failed", "cancelled"]);
const NO_BUILD = "Could not find a production build";
const BUILD_RETRY_MS = 20_000;

function skipped(reason: string): Metric {
  return { value: null, unit: "ms", skipped: reason };
}

type Rig = {
  caddy: PrivateCaddy;
  podman: string;
  podmanState: string;
  dataDir: string;
  staleAfterS: number;
  /** Started, and when the attempt that succeeded began (performance.now()). */
  launch(): Promise<{ platform: LaunchedPlatform; startedAt: number }>;
  /** A client of the platform's database; `reconnect` after a restart (its PostgreSQL may listen elsewhere). */
  db(reconnect?: boolean): Promise<Db>;
};

/** A fake podman whose containers serve HTTP, with `env` for its switches; a private Caddy; the launch settings. */
async function rig(context: BenchContext, name: string, caddyPath: string, env: Record<string, string>): Promise<Rig> {
  const caddy = await startPrivateCaddy(context, caddyPath, `${name}-caddy`);
  const dir = await context.dir(`${name}-podman`);
  const podmanState = path.join(dir, "state");
  await fs.mkdir(podmanState, { recursive: true });
  await fs.writeFile(path.join(podmanState, "serve-http"), "");
  // The platform's executor gives podman a fixed environment: the switches travel in the wrapper.
  const podman = path.join(dir, "podman");
  const lines = [
    "#!/usr/bin/env node",
    ...Object.entries({ FAKE_PODMAN_STATE: podmanState, ...env }).map(
      ([key, value]) => `process.env[${JSON.stringify(key)}] = ${JSON.stringify(value)};`,
    ),
    `await import(${JSON.stringify(FAKE_PODMAN)});`,
  ];
  await fs.writeFile(podman, `${lines.join("\n")}\n`, { mode: 0o755 });

  const dataDir = await context.dir(`${name}-data`);
  const port = await freePort();
  const secretKey = randomBytes(32).toString("base64url");
  const staleAfterS = Number(context.originalEnv.TUSSILAGO_WORKER_STALE_AFTER_S ?? DEFAULT_STALE_AFTER_S);
  const logFile = path.join(context.root, `${name}-platform.log`);
  let db: Db | null = null;
  return {
    caddy,
    podman,
    podmanState,
    dataDir,
    staleAfterS,
    async launch() {
      const deadline = Date.now() + STARTUP_TIMEOUT_MS;
      for (;;) {
        const startedAt = performance.now();
        try {
          const platform = await launchPlatform({
            dataDir,
            port,
            secretKey,
            hostConfig: "none",
            baseEnv: context.originalEnv,
            build: false,
            env: {
              TUSSILAGO_PODMAN_PATH: podman,
              TUSSILAGO_CADDY_ADMIN: caddy.adminEndpoint,
              TUSSILAGO_CADDY_LISTEN: caddy.listen,
              TUSSILAGO_APPS_DOMAIN: APPS_DOMAIN,
              TUSSILAGO_WORKER_STALE_AFTER_S: String(staleAfterS),
            },
            logFile,
            startupTimeoutMs: Math.max(deadline - Date.now(), 0),
            note: (message) => context.progress(message),
            onSpawn: ({ stop }) => context.defer(`platform (${name})`, stop),
          });
          return { platform, startedAt };
        } catch (error) {
          // Another instance in this working tree (an e2e run, npm start) may be rebuilding .next right now: the
          // web server then finds no build and the platform gives up. Wait for the build, then start again.
          if (
            !(error instanceof PlatformExitedError) ||
            !error.output.includes(NO_BUILD) ||
            Date.now() + BUILD_RETRY_MS > deadline
          ) {
            throw error;
          }
          context.progress("the portal's build is being rebuilt by another instance; waiting for it");
          await sleep(BUILD_RETRY_MS);
        }
      }
    },
    async db(reconnect = false) {
      if (db && !reconnect) return db;
      const pgPort = await runningClusterPort(dataDir);
      if (pgPort === null) throw new Error("the platform's PostgreSQL is not running");
      const password = await readOrCreatePassword(dataDir);
      const client = createPrismaClient(
        `postgresql://tussilago:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/tussilago`,
        2,
      );
      context.defer(`database client (${name})`, () => client.$disconnect());
      db = client;
      return client;
    },
  };
}

type DeployedApp = { appId: string; host: string; deploymentId: string; operationId: string };

/** An app with one replica and a deployment of examples/wsgi-stdlib, queued for the platform's own worker. */
async function deployApp(context: BenchContext, rigged: Rig, team: SeededTeam, label: string): Promise<DeployedApp> {
  const db = await rigged.db();
  const name = `${label}-${randomBytes(3).toString("hex")}`;
  const app = await createApp(db, team.ctx, { name, settings: { replicas: 1 } });
  // The upload lands in this process's data directory; the platform's worker reads its own.
  const uploadId = await uploadExample(context, db, team.ctx);
  const target = uploadPath(rigged.dataDir, uploadId);
  await fs.mkdir(path.dirname(target), { recursive: true });
  await fs.copyFile(uploadPath(getEnv().dataDir, uploadId), target);
  const { deployment, operation } = await createDeployment(db, team.ctx, app.id, { type: "upload", uploadId });
  return {
    appId: app.id,
    host: `${name}-${team.slug}.${APPS_DOMAIN}`,
    deploymentId: deployment.id,
    operationId: operation.id,
  };
}

async function finalStatus(db: Db, deploymentId: string): Promise<string | null> {
  const row = await db.deployment.findUniqueOrThrow({ where: { id: deploymentId }, select: { status: true } });
  return FINAL.has(row.status) ? row.status : null;
}

/** One GET through Caddy with the app's Host header: whether it answered 200. */
function servesThroughCaddy(caddy: PrivateCaddy, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get({ host: "127.0.0.1", port: caddy.httpPort, path: "/", headers: { host }, timeout: 2_000 });
    request.on("response", (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(false));
  });
}

async function waitServing(caddy: PrivateCaddy, host: string, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await servesThroughCaddy(caddy, host)) return performance.now();
    await sleep(POLL_MS);
  }
  throw new Error(`${host} did not answer 200 through Caddy within ${timeoutMs / 1000} s`);
}

async function fileTime(file: string): Promise<number | null> {
  try {
    return (await fs.stat(file)).mtimeMs;
  } catch {
    return null;
  }
}

export async function measureRecovery(context: BenchContext): Promise<Metric> {
  const caddyPath = findCaddy();
  if (!caddyPath) return skipped("no caddy on PATH for a private router (the host's own Caddy is never used)");
  // The first `podman run` of each round (the release's first replica) kills the worker that called it, once.
  const rigged = await rig(context, "recovery", caddyPath, { FAKE_PODMAN_KILL_ON: "RUN:1" });
  const { platform } = await rigged.launch();
  const db = await rigged.db();
  const team = await seedTeam(db, "recovery");
  const runs = context.options.quick ? QUICK_RECOVERY_RUNS : RECOVERY_RUNS;
  const recoveries: number[] = [];
  const restarts: number[] = [];
  const killed = path.join(rigged.podmanState, "killed");
  for (let round_ = 0; round_ < runs; round_++) {
    await fs.rm(killed, { force: true });
    await fs.rm(path.join(rigged.podmanState, "kill-on-RUN.count"), { force: true });
    const before = new Set((await db.workerHeartbeat.findMany({ select: { workerId: true } })).map((w) => w.workerId));
    const app = await deployApp(context, rigged, team, `recovery-${round_}`);
    // Wall-clock times throughout: the kill's is the fake's file, written just before it sends SIGKILL.
    const killedAt = await waitFor(
      "the worker to be killed mid-release",
      () => fileTime(killed),
      DEPLOY_TIMEOUT_MS,
      POLL_MS,
    );
    let restartedAt: number | null = null;
    const status = await waitFor(
      "the deployment to converge after the kill",
      async () => {
        if (restartedAt === null) {
          const fresh = await db.workerHeartbeat.findFirst({
            where: { workerId: { notIn: [...before] } },
            select: { workerId: true },
          });
          // Its first beat: written once the new worker's runner exists.
          if (fresh) restartedAt = Date.now();
        }
        return await finalStatus(db, app.deploymentId);
      },
      CONVERGE_TIMEOUT_MS,
      POLL_MS,
    );
    const convergedAt = Date.now();
    if (status !== "running") {
      throw new Error(`the deployment ended ${status} after the worker was killed; see ${platform.logFile}`);
    }
    await waitServing(rigged.caddy, app.host, DEPLOY_TIMEOUT_MS);
    recoveries.push(convergedAt - killedAt);
    restarts.push((restartedAt ?? convergedAt) - killedAt);
    context.progress(
      `recovery ${round_ + 1}/${runs}: ${Math.round(convergedAt - killedAt)} ms (worker back after ${Math.round((restartedAt ?? convergedAt) - killedAt)} ms)`,
    );
  }
  await platform.stop();
  const recovery = summarize(recoveries);
  const restart = summarize(restarts);
  const floor = rigged.staleAfterS * 1000 + restart.p50;
  return {
    value: round(recovery.p50),
    unit: "ms",
    p50: round(recovery.p50),
    p99: round(recovery.p99),
    baseline: round(floor),
    baseline_unit: "ms",
    ratio: ratio(recovery.p50, floor),
    runs: recoveries.length,
    stale_after_s: rigged.staleAfterS,
    worker_restart_ms: round(restart.p50),
    notes:
      "worker SIGKILLed right after the release's first podman run (fake podman) until the deployment is running; " +
      "floor = TUSSILAGO_WORKER_STALE_AFTER_S + kill-to-new-worker heartbeat; the new worker's sweep runs every " +
      "half limit, so up to 1.5 limits is expected",
  };
}

/** Every container the fake podman knows, removed: what a reboot leaves of the tenant containers. */
async function removeAllContainers(podman: string): Promise<number> {
  const { stdout } = await execFileAsync(process.execPath, [podman, "ps", "-a", "--format", "json"]);
  const names = (JSON.parse(stdout || "[]") as { Names: string[] }[]).flatMap((entry) => entry.Names);
  if (names.length > 0) await execFileAsync(process.execPath, [podman, "rm", "-f", "--", ...names]);
  return names.length;
}

export async function measureReboot(context: BenchContext): Promise<Metric> {
  const caddyPath = findCaddy();
  if (!caddyPath) return skipped("no caddy on PATH for a private router (the host's own Caddy is never used)");
  const rigged = await rig(context, "reboot", caddyPath, {});
  const { platform: first } = await rigged.launch();
  const db = await rigged.db();
  const team = await seedTeam(db, "reboot");
  const apps: DeployedApp[] = [];
  for (let index = 0; index < REBOOT_APPS; index++)
    apps.push(await deployApp(context, rigged, team, `reboot-${index}`));
  for (const app of apps) {
    const status = await waitFor("a deployment to finish", () => finalStatus(db, app.deploymentId), DEPLOY_TIMEOUT_MS);
    if (status !== "running") throw new Error(`a deployment ended ${status}; see ${first.logFile}`);
    await waitServing(rigged.caddy, app.host, DEPLOY_TIMEOUT_MS);
  }
  // A steady state before the "reboot": every deploy operation finished (its release's drain included), so no job is
  // running when the platform stops.
  for (const app of apps) {
    await waitFor(
      "a deploy operation to finish",
      async () => {
        const row = await db.operation.findUniqueOrThrow({ where: { id: app.operationId }, select: { status: true } });
        return row.status === "succeeded" || row.status === "failed" ? row.status : null;
      },
      DEPLOY_TIMEOUT_MS,
    );
  }
  context.progress(`${apps.length} apps serve through Caddy; stopping the platform and removing every container`);
  await first.stop();
  const removed = await removeAllContainers(rigged.podman);
  // The fake's per-container servers go within a second of the removal.
  await waitFor(
    "the removed containers to stop answering",
    async () =>
      (await Promise.all(apps.map((app) => servesThroughCaddy(rigged.caddy, app.host)))).some(Boolean) ? null : true,
    30_000,
  );

  const { platform: second, startedAt: started } = await rigged.launch();
  const readyAt = performance.now();
  let servingAt = readyAt;
  for (const app of apps) {
    servingAt = Math.max(servingAt, await waitServing(rigged.caddy, app.host, CONVERGE_TIMEOUT_MS));
  }
  // Where the time after "ready" goes: the restarts the worker's start-up reconcile queued, one per app.
  const startedWall = Date.now() - (performance.now() - started);
  const restarts = await (await rigged.db(true)).operation.findMany({
    where: { kind: "app.restart", createdAt: { gte: new Date(startedWall) } },
    select: { createdAt: true, startedAt: true },
  });
  const latest = (times: (Date | null)[]) =>
    times.length === 0 ? null : round(Math.max(...times.map((time) => (time?.getTime() ?? Number.NaN) - startedWall)));
  // Nothing runs twice: one container per app's one replica.
  const { stdout } = await execFileAsync(process.execPath, [rigged.podman, "ps", "--format", "json"]);
  const running = (JSON.parse(stdout || "[]") as unknown[]).length;
  await second.stop();
  if (running !== apps.length) throw new Error(`${running} containers run for ${apps.length} one-replica apps`);
  const reboot = servingAt - started;
  const floor = readyAt - started;
  return {
    value: round(reboot),
    unit: "ms",
    baseline: round(floor),
    baseline_unit: "ms",
    ratio: ratio(reboot, floor),
    apps: apps.length,
    containers_removed: removed,
    restarts_queued: restarts.length,
    last_restart_queued_ms: latest(restarts.map((row) => row.createdAt)),
    last_restart_started_ms: latest(restarts.map((row) => row.startedAt)),
    notes:
      "from the platform's start after a simulated reboot (stopped, every container removed) to every app answering " +
      "200 through Caddy; floor = the same start until GET /api/health answers 200",
  };
}
