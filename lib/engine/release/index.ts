// Releases (docs/architecture.md, deploy pipeline, step 5): start a deployment's image as sandboxed replicas, check
// them, switch Caddy to them, then drain and remove the previous ones. One engine serves every way an app's
// containers change: a fresh deployment (with its release command), restart, start, rollback (an earlier image, no
// rebuild), scale and stop.
//
// Every step is idempotent, so a job retried after a crash anywhere converges instead of duplicating work:
// - names are deterministic: `tsl-<app hex>-<number>-<index>` for replicas, `tsl-<app hex>-<number>-release` for the
//   one-off release container, `tsl-<team hex>` for the team's network; podman is asked first, or its "name in
//   use" answer is handled, so nothing is created twice;
// - the plan is written before any container exists: Replica rows in status "starting" are the containers the
//   release in progress is bringing up, and a retry adopts them instead of planning new ones;
// - the traffic switch is one transaction that also loads Caddy (lib/engine/routing.ts): either the database and
//   the router both moved to the new replicas, or neither did;
// - the old replicas are marked "draining" by that same switch, and the operation succeeds in the transaction that
//   deletes their rows, so "switched but not drained" is always visible to a retry.
// Jobs that touch an app's containers run in that app's graphile-worker queue (jobs/queues.ts), one at a time.
//
// A failure the user can act on (release command, health check, router) is a ReleaseFailure: the new containers are
// removed, the previous release keeps serving untouched, and the operation fails with the reason. Anything else is
// thrown for graphile-worker to retry; the last attempt's onGiveUp cleans up the same way.
import fs from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { z } from "zod";
import { APP_PORT } from "@/lib/build/containerfile";
import type { Db, Tx } from "@/lib/db";
import { endPhases, enterPhase, parsePhases } from "@/lib/domain/deployment-phases";
import { resolveEnvForRelease } from "@/lib/domain/env-vars";
import { claimOperation, failOperation, succeedOperation } from "@/lib/domain/operations";
import { resolveServiceEnvForApp } from "@/lib/domain/service-env";
import { getEnv } from "@/lib/env";
import { AppError, isAppError } from "@/lib/errors";
import type { App, Deployment, Replica } from "@/lib/generated/prisma/client";
import { type CaddyClient, CaddyError, type RetryPolicy } from "@/lib/infra/caddy";
import { CommandError } from "@/lib/infra/exec";
import { type Podman, PodmanError, toResourceName } from "@/lib/infra/podman";
import { collectAppLogs } from "@/lib/engine/app-logs";
import { httpProbe, type Probe } from "@/lib/engine/health-probe";
import { getInfra, MissingExecutableError } from "@/lib/platform/infra";
import type { LifecycleAction } from "@/lib/platform/lifecycle-actions";
import { deploymentLogPath } from "@/lib/platform/paths";
import { type RoutingConfig, routingConfigFromEnv, syncRouting } from "@/lib/engine/routing";

/** A failure the user can read and act on; never retried. */
export class ReleaseFailure extends Error {
  override name = "ReleaseFailure";
}

export type ReleaseDeps = {
  db: Db;
  podman: Podman;
  caddy: CaddyClient;
  routing: RoutingConfig;
  log: Logger;
  dataDir: string;
  /** How long draining replicas keep running after traffic left them, for requests in flight. */
  drainMs: number;
  healthTimeoutMs: number;
  releaseCommandTimeoutMs: number;
  caddyRetry: RetryPolicy;
  probe: Probe;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  /** Called after each step; tests throw here to simulate a worker that died between two steps. */
  checkpoint?: (step: string) => Promise<void> | void;
};

export { LIFECYCLE_ACTIONS, type LifecycleAction } from "@/lib/platform/lifecycle-actions";

const PROBE_TIMEOUT_MS = 5_000;
const HEALTH_BACKOFF_BASE_MS = 250;
const HEALTH_BACKOFF_MAX_MS = 5_000;
const OUTPUT_TAIL_LINES = 20;
const RELEASE_OUTPUT_LINES = 2_000;
/** A bit more patient than the default: a deploy should survive Caddy restarting under it. */
export const CADDY_RELEASE_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 500, maxDelayMs: 8_000 };
const CADDY_CLEANUP_RETRY: RetryPolicy = { attempts: 2, baseDelayMs: 250, maxDelayMs: 1_000 };

const NO_PODMAN =
  "This host has no container engine (podman) set up, so apps cannot be started. An operator needs to run the host setup.";

export function teamNetworkName(teamId: string): string {
  return toResourceName(teamId);
}

export function replicaContainerName(appId: string, deploymentNumber: number, index: number): string {
  return toResourceName(appId, deploymentNumber, index);
}

export function releaseContainerName(appId: string, deploymentNumber: number): string {
  return toResourceName(appId, deploymentNumber, "release");
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The worker's dependencies from configuration; a ReleaseFailure when this host has no podman. */
export function releaseDepsFromEnv(base: { db: Db; log: Logger }): ReleaseDeps {
  const env = getEnv();
  const infra = getInfra();
  let podman: Podman;
  try {
    podman = infra.podman();
  } catch (error) {
    if (error instanceof MissingExecutableError) throw new ReleaseFailure(NO_PODMAN);
    throw error;
  }
  return {
    db: base.db,
    log: base.log,
    podman,
    caddy: infra.caddy(),
    routing: routingConfigFromEnv(env),
    dataDir: env.dataDir,
    drainMs: env.release.drainMs,
    healthTimeoutMs: env.release.healthTimeoutMs,
    releaseCommandTimeoutMs: env.release.releaseCommandTimeoutMs,
    caddyRetry: CADDY_RELEASE_RETRY,
    probe: httpProbe,
    sleep: defaultSleep,
    now: Date.now,
  };
}

/**
 * For errors a job throws to be retried: podman's and Caddy's own user messages, as an AppError, so the reason shown
 * when the attempts run out says what broke (jobs/runner.ts only trusts AppError messages). Anything else unchanged.
 */
export function asRetryableFailure(error: unknown): unknown {
  if (error instanceof PodmanError || error instanceof CaddyError) {
    return new AppError("unavailable", `${error.userMessage} Several attempts failed; nothing was switched.`, {
      cause: error,
    });
  }
  return error;
}

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

type AppRow = App & { team: { slug: string } };

type Spec = {
  app: AppRow;
  deployment: Deployment;
  image: string;
  network: string;
  env: Record<string, string>;
};

type Say = (text: string) => Promise<void>;

const silent: Say = async () => undefined;

async function step(deps: ReleaseDeps, name: string): Promise<void> {
  await deps.checkpoint?.(name);
}

function deploymentSay(dataDir: string, deploymentId: string): Say {
  const file = deploymentLogPath(dataDir, deploymentId);
  return async (text) => {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await fs.appendFile(file, text.endsWith("\n") ? text : `${text}\n`, { mode: 0o600 });
  };
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/** The last lines a container printed (the tenant's own output, so safe to show the tenant). */
async function outputOf(podman: Podman, name: string, lines: number): Promise<string> {
  const logs = await podman.logs(name, { tail: lines }).catch(() => null);
  if (!logs) return "";
  const text = [logs.stdout, logs.stderr]
    .map((part) => part.trimEnd())
    .filter(Boolean)
    .join("\n");
  return text.split("\n").slice(-lines).join("\n");
}

function withOutput(message: string, output: string): string {
  return output ? `${message} The end of its output:\n${output}` : message;
}

function isTimeout(error: unknown): boolean {
  return error instanceof PodmanError && error.cause instanceof CommandError && error.cause.kind === "timeout";
}

const planSchema = z.object({ release: z.string().nullable().optional() }).loose();

/** The plan's release command (which already includes the app's override at build time), else the app setting. */
function releaseCommandOf(deployment: Deployment, app: App): string | null {
  const plan = planSchema.safeParse(deployment.plan);
  if (plan.success && plan.data.release !== undefined) return plan.data.release?.trim() || null;
  return app.releaseCommand?.trim() || null;
}

async function loadApp(db: Db, appId: string): Promise<AppRow | null> {
  return await db.app.findUnique({ where: { id: appId }, include: { team: { select: { slug: true } } } });
}

async function ensureNetwork(deps: ReleaseDeps, teamId: string): Promise<string> {
  const name = teamNetworkName(teamId);
  const { created } = await deps.podman.createNetwork(name, { team: teamId });
  if (created) deps.log.info({ network: name }, "team network created");
  return name;
}

async function specFor(deps: ReleaseDeps, app: AppRow, deployment: Deployment): Promise<Spec> {
  if (!deployment.imageRef) throw new ReleaseFailure(`Deployment #${deployment.number} has no image to release.`);
  const network = await ensureNetwork(deps, app.teamId);
  let services: Record<string, string>;
  try {
    // DATABASE_URL, REDIS_URL... of the attached database and Redis (their keys are reserved for users).
    services = await resolveServiceEnvForApp(deps.db, app.id);
  } catch (error) {
    if (isAppError(error)) throw new ReleaseFailure(error.message);
    throw error;
  }
  // PORT last: the platform's contract wins over anything stored (reserved keys are refused when set, too).
  const env = { ...(await resolveEnvForRelease(deps.db, app.id)), ...services, PORT: String(APP_PORT) };
  return { app, deployment, image: deployment.imageRef, network, env };
}

/** Starts a container; false when the name was already taken (the caller decides whether that is success). */
async function runContainer(
  deps: ReleaseDeps,
  spec: Spec,
  name: string,
  process: "web" | "release",
  extra: { port?: number; command?: string[] },
): Promise<boolean> {
  try {
    await deps.podman.run({
      name,
      image: spec.image,
      network: spec.network,
      labels: { team: spec.app.teamId, app: spec.app.id, deployment: spec.deployment.id, process },
      env: spec.env,
      memoryMiB: spec.app.memoryMb,
      cpus: spec.app.cpuMillis / 1000,
      ...(extra.port === undefined ? {} : { port: extra.port }),
      ...(extra.command === undefined ? {} : { command: extra.command }),
    });
    return true;
  } catch (error) {
    if (error instanceof PodmanError && error.kind === "already_exists") return false;
    if (error instanceof PodmanError && error.kind === "not_found" && error.message.includes("image")) {
      throw new ReleaseFailure(
        `The image of deployment #${spec.deployment.number} is no longer on this host. Deploy again to rebuild it.`,
      );
    }
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Steps

async function runReleaseCommand(deps: ReleaseDeps, spec: Spec, command: string, say: Say): Promise<void> {
  const { podman } = deps;
  const name = releaseContainerName(spec.app.id, spec.deployment.number);
  // An exited release container from an earlier attempt means the command already ran: it is not run twice. It is
  // removed when the release finishes either way.
  if ((await podman.inspectContainer(name)) === null) {
    await say(`==> Running the release command: ${command}`);
    // Name taken: a concurrent attempt started it a moment ago, and waiting for it below is right.
    await runContainer(deps, spec, name, "release", { command: ["/bin/sh", "-c", command] });
    deps.log.info({ container: name }, "release command started");
  }
  let exitCode: number;
  try {
    exitCode = await podman.wait(name, { timeoutMs: deps.releaseCommandTimeoutMs });
  } catch (error) {
    if (!isTimeout(error)) throw error;
    await say(await outputOf(podman, name, RELEASE_OUTPUT_LINES));
    await podman.remove(name);
    throw new ReleaseFailure(
      `The release command did not finish within ${Math.round(deps.releaseCommandTimeoutMs / 1000)} seconds and was stopped.`,
    );
  }
  const output = await outputOf(podman, name, RELEASE_OUTPUT_LINES);
  if (output) await say(output);
  if (exitCode !== 0) {
    await podman.remove(name);
    const tail = output.split("\n").slice(-OUTPUT_TAIL_LINES).join("\n");
    throw new ReleaseFailure(withOutput(`The release command failed with exit code ${exitCode}.`, tail));
  }
  await say("==> The release command succeeded");
  await step(deps, "release_command:exited");
}

type Plan = { rows: Replica[]; resumed: Set<string> };

/**
 * Rows for the replicas this release brings up. Rows still "starting" from an earlier attempt at the same
 * deployment are adopted; new ones take indexes after every existing row of the deployment, so a restart of the
 * running deployment gets new names next to the old containers.
 */
async function planReplicas(deps: ReleaseDeps, app: AppRow, deployment: Deployment, count: number): Promise<Plan> {
  return await deps.db.$transaction(async (tx) => {
    // "starting" rows of another deployment belong to a release that never finished: not part of anything.
    await tx.replica.updateMany({
      where: { appId: app.id, status: "starting", deploymentId: { not: deployment.id } },
      data: { status: "stopped" },
    });
    const existing = await tx.replica.findMany({ where: { deploymentId: deployment.id }, orderBy: { index: "asc" } });
    const starting = existing.filter((row) => row.status === "starting");
    const kept = starting.slice(0, count);
    const surplus = starting.slice(count);
    if (surplus.length > 0) {
      await tx.replica.updateMany({ where: { id: { in: surplus.map((row) => row.id) } }, data: { status: "stopped" } });
    }
    let next = existing.reduce((max, row) => Math.max(max, row.index), -1) + 1;
    const created: Replica[] = [];
    while (kept.length + created.length < count) {
      created.push(
        await tx.replica.create({
          data: {
            appId: app.id,
            deploymentId: deployment.id,
            index: next,
            containerName: replicaContainerName(app.id, deployment.number, next),
            status: "starting",
          },
        }),
      );
      next += 1;
    }
    return { rows: [...kept, ...created], resumed: new Set(kept.map((row) => row.id)) };
  });
}

async function startReplica(deps: ReleaseDeps, spec: Spec, row: Replica, resumed: boolean): Promise<Replica> {
  const { podman } = deps;
  // Under a resumed name, the container is the one a crashed attempt started: adopted if it still runs. A freshly
  // planned name has no container unless something else left one there, which is never adopted (its environment
  // may be stale): podman's "name in use" answer says so, and the leftover goes.
  let container = resumed ? await podman.inspectContainer(row.containerName) : null;
  if (container && !container.running) {
    await podman.remove(row.containerName);
    container = null;
  }
  if (!container) {
    if (!(await runContainer(deps, spec, row.containerName, "web", { port: APP_PORT }))) {
      await podman.remove(row.containerName);
      await runContainer(deps, spec, row.containerName, "web", { port: APP_PORT });
    }
    deps.log.info({ container: row.containerName, replica: row.index }, "container started");
    // The host port is podman's choice: read it back.
    container = await podman.inspectContainer(row.containerName);
  }
  const hostPort = container?.ports.find(
    (port) => port.containerPort === APP_PORT && port.protocol === "tcp",
  )?.hostPort;
  if (!container || hostPort === undefined) throw new Error(`replica ${row.index} has no published port`);
  await deps.db.replica.updateMany({ where: { id: row.id }, data: { hostPort } });
  return { ...row, hostPort };
}

function appHostnameOf(deps: ReleaseDeps, app: AppRow): string {
  return `${app.name}-${app.team.slug}.${deps.routing.appsDomain}`;
}

async function waitHealthy(deps: ReleaseDeps, app: AppRow, rows: Replica[], fallback: string): Promise<void> {
  if (rows.length === 0) return;
  const host = appHostnameOf(deps, app);
  const deadline = deps.now() + deps.healthTimeoutMs;
  const last = new Map<string, number | null>();
  const position = new Map(rows.map((row, i) => [row.id, i + 1]));
  let pending = rows;
  for (let attempt = 0; ; attempt += 1) {
    const results = await Promise.all(
      pending.map(async (row) => {
        // Each probe has its own bound; the deadline bounds the loop (a last probe may end a little after it).
        const status =
          row.hostPort === null
            ? null
            : await deps.probe({ port: row.hostPort, path: app.healthCheckPath, host, timeoutMs: PROBE_TIMEOUT_MS });
        last.set(row.id, status);
        return { row, healthy: status !== null && status < 500 };
      }),
    );
    pending = results.filter((result) => !result.healthy).map((result) => result.row);
    if (pending.length === 0) return;

    // A replica that exited will never answer: say so now, with its output, instead of waiting for the deadline.
    // One that answered (even 5xx) is running, so podman is only asked about the silent ones.
    for (const row of pending.filter((pendingRow) => last.get(pendingRow.id) === null)) {
      const container = await deps.podman.inspectContainer(row.containerName);
      if (!container?.running) {
        const output = await outputOf(deps.podman, row.containerName, OUTPUT_TAIL_LINES);
        const code = container ? ` with exit code ${container.exitCode}` : "";
        throw new ReleaseFailure(
          withOutput(
            `Replica ${position.get(row.id)} of ${rows.length} stopped${code} before it passed its health check. ${fallback}`,
            output,
          ),
        );
      }
    }
    const remaining = deadline - deps.now();
    if (remaining <= 0) {
      const sample = pending[0] as Replica;
      const status = last.get(sample.id) ?? null;
      const answer = status === null ? "got no answer" : `got HTTP ${status}`;
      const output = await outputOf(deps.podman, sample.containerName, OUTPUT_TAIL_LINES);
      throw new ReleaseFailure(
        withOutput(
          `The new containers did not pass the health check: GET ${app.healthCheckPath} ${answer} within ` +
            `${Math.round(deps.healthTimeoutMs / 1000)} seconds. ${fallback}`,
          output,
        ),
      );
    }
    const backoff = Math.min(HEALTH_BACKOFF_MAX_MS, HEALTH_BACKOFF_BASE_MS * 2 ** attempt);
    await deps.sleep(Math.min(backoff, remaining));
  }
}

/** Where traffic goes if this release fails, for messages: only say "keeps serving" when something does. */
async function fallbackText(db: Db, appId: string): Promise<string> {
  const serving = await db.replica.count({ where: { appId, status: "healthy" } });
  return serving > 0 ? "The previous release keeps serving." : "Nothing was switched.";
}

type SwitchOptions = {
  /** Every other replica of the app leaves the route (a release); false adds to it (a scale-up). */
  replace: boolean;
  /** Deployment status changes that belong with the switch. */
  onSwitch?: (tx: Tx) => Promise<void>;
};

async function switchTraffic(
  deps: ReleaseDeps,
  spec: Spec,
  rows: Replica[],
  options: SwitchOptions,
  fallback: string,
): Promise<void> {
  const ids = rows.map((row) => row.id);
  try {
    await syncRouting(deps.db, deps.caddy, {
      config: deps.routing,
      log: deps.log,
      retry: deps.caddyRetry,
      sleep: deps.sleep,
      afterApply: () => step(deps, "switch:applied"),
      change: async (tx) => {
        const claimed = await tx.app.updateMany({
          where: { id: spec.app.id, status: { not: "deleting" } },
          data: { currentDeploymentId: spec.deployment.id, status: "running" },
        });
        if (claimed.count === 0) throw new ReleaseFailure("The app is being deleted.");
        await tx.replica.updateMany({ where: { id: { in: ids } }, data: { status: "healthy" } });
        if (options.replace) {
          await tx.replica.updateMany({
            where: { appId: spec.app.id, id: { notIn: ids }, status: { in: ["starting", "healthy"] } },
            data: { status: "draining" },
          });
          await tx.deployment.updateMany({
            where: { appId: spec.app.id, id: { not: spec.deployment.id }, status: "running" },
            data: { status: "superseded" },
          });
        }
        await options.onSwitch?.(tx);
      },
    });
  } catch (error) {
    if (error instanceof CaddyError) {
      deps.log.error({ caddy: error.toLog() }, "traffic switch failed: caddy did not take the config");
      throw new ReleaseFailure(`${error.userMessage} Traffic was not switched. ${fallback}`);
    }
    throw error;
  }
  deps.log.info({ deploymentId: spec.deployment.id, replicas: rows.length }, "traffic switched");
}

/**
 * Brings up `count` replicas of the spec's deployment, waits until they answer, and switches traffic to them. On
 * return the switch is committed; the replicas it replaced are "draining".
 */
async function rollout(deps: ReleaseDeps, spec: Spec, count: number, options: SwitchOptions, say: Say): Promise<void> {
  const fallback = await fallbackText(deps.db, spec.app.id);
  const { rows, resumed } = await planReplicas(deps, spec.app, spec.deployment, count);
  await step(deps, "plan");
  if (rows.length > 0) await say(`==> Starting ${plural(rows.length, "container")}`);
  const started: Replica[] = [];
  for (const [position, row] of rows.entries()) {
    started.push(await startReplica(deps, spec, row, resumed.has(row.id)));
    await step(deps, `start:${position}`);
  }
  await waitHealthy(deps, spec.app, started, fallback);
  if (rows.length > 0) await say(`==> Health check passed (GET ${spec.app.healthCheckPath})`);
  await step(deps, "health");
  await switchTraffic(deps, spec, started, options, fallback);
  await say("==> Traffic switched to the new containers");
  await step(deps, "switch");
}

/**
 * Waits for requests in flight, then stops and removes every replica of the app that left the route, and finishes:
 * the rows go in the same transaction as `finish` (which succeeds the operation), so a retry either finds them
 * still there or finds the operation finished.
 */
async function drainAndFinish(
  deps: ReleaseDeps,
  appId: string,
  finish: (tx: Tx) => Promise<void>,
  extraContainers: string[] = [],
): Promise<void> {
  const doomed = await deps.db.replica.findMany({
    where: { appId, status: { in: ["draining", "stopped"] } },
    orderBy: [{ createdAt: "asc" }, { index: "asc" }],
  });
  if (doomed.some((row) => row.status === "draining") && deps.drainMs > 0) await deps.sleep(deps.drainMs);
  await step(deps, "drain:waited");
  const draining = doomed.filter((row) => row.status === "draining").map((row) => row.containerName);
  if (draining.length > 0) {
    // What the old containers printed last would go with them (only collected for apps whose logs are read).
    await collectAppLogs(deps, appId, { containers: draining, onlyIfRead: true }).catch((error: unknown) =>
      deps.log.warn({ err: error }, "could not collect the logs of the old containers"),
    );
  }
  for (const row of doomed) {
    // `podman rm --force` stops the container first: SIGTERM (forwarded by --init), podman's grace period, then
    // SIGKILL; the app finishes the requests it still has.
    await deps.podman.remove(row.containerName);
    await deps.db.replica.updateMany({ where: { id: row.id }, data: { status: "stopped" } });
    deps.log.info({ container: row.containerName, replica: row.index }, "container removed");
    await step(deps, "drain:removed");
  }
  for (const name of extraContainers) await deps.podman.remove(name);
  await deps.db.$transaction(async (tx) => {
    await tx.replica.deleteMany({ where: { id: { in: doomed.map((row) => row.id) }, status: "stopped" } });
    await finish(tx);
  });
}

/** Removes what a failed release brought up ("starting" rows and their containers) and restores the route. */
async function abandonStarting(deps: ReleaseDeps, appId: string, extraContainers: string[] = []): Promise<void> {
  const rows = await deps.db.replica.findMany({ where: { appId, status: "starting" } });
  const names = [...rows.map((row) => row.containerName), ...extraContainers];
  if (names.length > 0) {
    try {
      for (const name of names) {
        await deps.podman.remove(name);
        deps.log.info({ container: name }, "container of a failed release removed");
      }
    } catch (error) {
      // The rows stay: the next release marks them stopped and removes the containers then.
      deps.log.warn({ err: error }, "could not remove the containers of a failed release");
      return;
    }
  }
  await deps.db.replica.deleteMany({ where: { id: { in: rows.map((row) => row.id) }, status: "starting" } });
  // A switch that failed after Caddy took the config (an answer lost to a timeout) would leave Caddy pointing at the
  // containers just removed: load the database's view again.
  try {
    await syncRouting(deps.db, deps.caddy, {
      config: deps.routing,
      log: deps.log,
      retry: CADDY_CLEANUP_RETRY,
      sleep: deps.sleep,
    });
  } catch (error) {
    deps.log.warn({ err: error }, "could not re-sync the router after a failed release");
  }
}

// ---------------------------------------------------------------------------------------------------------------
// A deployment's first release, after its build

export type ReleaseInput = { deploymentId: string; operationId: string };

export async function releaseDeployment(deps: ReleaseDeps, input: ReleaseInput): Promise<void> {
  const { db } = deps;
  const found = await db.deployment.findUnique({ where: { id: input.deploymentId } });
  if (!found) {
    await failOperation(db, input.operationId, "The deployment no longer exists.");
    return;
  }
  if (!(await claimOperation(db, input.operationId))) return;
  const app = await loadApp(db, found.appId);
  if (!app) {
    await failOperation(db, input.operationId, "The app no longer exists.");
    return;
  }
  const log = deps.log.child({
    appId: app.id,
    teamId: app.teamId,
    deploymentId: found.id,
    operationId: input.operationId,
  });
  const scoped: ReleaseDeps = { ...deps, log };
  const say = deploymentSay(deps.dataDir, found.id);
  const releaseContainer = releaseContainerName(app.id, found.number);
  const finish = async () => {
    await drainAndFinish(scoped, app.id, (tx) => succeedOperation(tx, input.operationId).then(() => undefined), [
      releaseContainer,
    ]);
    await say(`==> Deployment #${found.number} is live`);
    log.info("release finished");
  };

  if (found.status === "running") {
    // The switch committed before a crash: only the previous containers are left to remove.
    await finish();
    return;
  }
  if (found.status !== "built" && found.status !== "releasing") {
    await failOperation(db, input.operationId, found.error ?? `The deployment is ${found.status}.`);
    return;
  }
  try {
    const newer = app.currentDeploymentId
      ? await db.deployment.findFirst({ where: { id: app.currentDeploymentId, number: { gt: found.number } } })
      : null;
    if (newer) {
      await failDeployment(
        scoped,
        found,
        input.operationId,
        `Deployment #${newer.number}, started later, was released first; this one was skipped.`,
        "cancelled",
      );
      return;
    }
    if (app.status === "deleting") throw new ReleaseFailure("The app is being deleted.");
    const claimed = await db.deployment.updateMany({
      where: { id: found.id, status: { in: ["built", "releasing"] } },
      data: {
        status: "releasing",
        error: null,
        ...(found.status === "built" ? { phases: enterPhase(parsePhases(found.phases), "releasing", new Date()) } : {}),
      },
    });
    if (claimed.count === 0) throw new ReleaseFailure("The deployment changed while it was being released.");
    if (found.status === "built") await say("==> Releasing");
    await step(scoped, "releasing");

    const spec = await specFor(scoped, app, found);
    await step(scoped, "network");
    const command = releaseCommandOf(found, app);
    if (command) await runReleaseCommand(scoped, spec, command, say);
    await step(scoped, "release_command");

    await rollout(
      scoped,
      spec,
      app.replicas,
      {
        replace: true,
        onSwitch: async (tx) => {
          const row = await tx.deployment.findUniqueOrThrow({ where: { id: found.id }, select: { phases: true } });
          const now = new Date();
          await tx.deployment.update({
            where: { id: found.id },
            data: {
              status: "running",
              error: null,
              finishedAt: now,
              phases: endPhases(parsePhases(row.phases), "succeeded", now),
            },
          });
        },
      },
      say,
    );
    await finish();
  } catch (error) {
    if (!(error instanceof ReleaseFailure)) throw error;
    await failDeployment(scoped, found, input.operationId, error.message);
  }
}

/** Marks a deployment failed after removing what its release brought up; the previous release is not touched. */
async function failDeployment(
  deps: ReleaseDeps,
  deployment: Deployment,
  operationId: string,
  reason: string,
  status: "failed" | "cancelled" = "failed",
): Promise<void> {
  await deploymentSay(
    deps.dataDir,
    deployment.id,
  )(`==> ${status === "failed" ? "Failed" : "Skipped"}: ${reason}`).catch(() => undefined);
  await cleanupSafely(deps, deployment.appId, [releaseContainerName(deployment.appId, deployment.number)]);
  await markDeploymentFailed(deps.db, deployment.id, operationId, reason, status);
  deps.log.info({ reason: reason.split("\n")[0] }, "release failed");
}

/**
 * The records of a release that did not happen: the deployment, its app if this was its first try, the operation.
 * Touches no infrastructure (the tasks use it alone when the host has no container engine).
 */
export async function markDeploymentFailed(
  db: Db,
  deploymentId: string,
  operationId: string,
  reason: string,
  status: "failed" | "cancelled" = "failed",
): Promise<void> {
  const now = new Date();
  const row = await db.deployment.findUnique({ where: { id: deploymentId }, select: { phases: true, appId: true } });
  if (row) {
    await db.deployment.updateMany({
      where: { id: deploymentId, status: { in: ["queued", "building", "built", "releasing"] } },
      data: {
        status,
        error: reason.slice(0, 4000),
        finishedAt: now,
        phases: endPhases(parsePhases(row.phases), status, now),
      },
    });
    await settleDeployingApp(db, row.appId);
  }
  await failOperation(db, operationId, reason);
}

/** An app whose deployment did not make it is "stopped" if an earlier release exists, else "failed". */
export async function settleDeployingApp(db: Db, appId: string): Promise<void> {
  const app = await db.app.findUnique({ where: { id: appId }, select: { currentDeploymentId: true } });
  if (!app) return;
  await db.app.updateMany({
    where: { id: appId, status: "deploying" },
    data: { status: app.currentDeploymentId ? "stopped" : "failed" },
  });
}

async function cleanupSafely(deps: ReleaseDeps, appId: string, extraContainers: string[] = []): Promise<void> {
  try {
    await abandonStarting(deps, appId, extraContainers);
  } catch (error) {
    // No podman on this host (ReleaseFailure from the getter) or podman failing: the rows stay for the next release.
    deps.log.warn({ err: error }, "could not clean up after a failed release");
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Lifecycle: start, stop, restart, rollback, scale

export type LifecycleInput = {
  operationId: string;
  appId: string;
  action: LifecycleAction;
  /** The earlier deployment to roll back to. */
  deploymentId?: string | undefined;
};

export async function runLifecycle(deps: ReleaseDeps, input: LifecycleInput): Promise<void> {
  const { db } = deps;
  if (!(await claimOperation(db, input.operationId))) return;
  const app = await loadApp(db, input.appId);
  if (!app) {
    await failOperation(db, input.operationId, "The app no longer exists.");
    return;
  }
  if (app.status === "deleting") {
    await failOperation(db, input.operationId, "The app is being deleted.");
    return;
  }
  const log = deps.log.child({
    appId: app.id,
    teamId: app.teamId,
    operationId: input.operationId,
    action: input.action,
  });
  const scoped: ReleaseDeps = { ...deps, log };
  const finish = (tx: Tx) => succeedOperation(tx, input.operationId).then(() => undefined);
  try {
    if (input.action === "stop") await stopApp(scoped, app, finish);
    else if (input.action === "scale") await scaleApp(scoped, app, finish);
    else await rerelease(scoped, app, input, finish);
    log.info("lifecycle operation finished");
  } catch (error) {
    if (!(error instanceof ReleaseFailure)) throw error;
    await cleanupSafely(scoped, app.id);
    await failOperation(db, input.operationId, error.message);
    log.info({ reason: error.message.split("\n")[0] }, "lifecycle operation failed");
  }
}

async function stopApp(deps: ReleaseDeps, app: AppRow, finish: (tx: Tx) => Promise<void>): Promise<void> {
  try {
    await syncRouting(deps.db, deps.caddy, {
      config: deps.routing,
      log: deps.log,
      retry: deps.caddyRetry,
      sleep: deps.sleep,
      change: async (tx) => {
        await tx.app.updateMany({ where: { id: app.id, status: { not: "deleting" } }, data: { status: "stopped" } });
        await tx.replica.updateMany({
          where: { appId: app.id, status: { in: ["starting", "healthy"] } },
          data: { status: "draining" },
        });
      },
    });
  } catch (error) {
    if (error instanceof CaddyError) throw new ReleaseFailure(`${error.userMessage} The app was not stopped.`);
    throw error;
  }
  await step(deps, "switch");
  await drainAndFinish(deps, app.id, finish);
}

/** restart, start and rollback: a full new set of containers of one deployment's image, then the switch. */
async function rerelease(
  deps: ReleaseDeps,
  app: AppRow,
  input: LifecycleInput,
  finish: (tx: Tx) => Promise<void>,
): Promise<void> {
  const { db } = deps;
  const targetId = input.action === "rollback" ? input.deploymentId : app.currentDeploymentId;
  if (input.action === "restart" && (app.status !== "running" || !targetId)) {
    // Stopped in the meantime: the next start uses the current settings anyway.
    await drainAndFinish(deps, app.id, finish);
    return;
  }
  if (!targetId) throw new ReleaseFailure("This app has no release yet: deploy it first.");
  const deployment = await db.deployment.findFirst({ where: { id: targetId, appId: app.id } });
  if (!deployment?.imageRef || !["running", "superseded"].includes(deployment.status)) {
    throw new ReleaseFailure("Only a deployment that was released successfully can be released again.");
  }
  const replicas = await db.replica.findMany({ where: { appId: app.id } });
  const switched =
    app.status === "running" &&
    app.currentDeploymentId === deployment.id &&
    !replicas.some((row) => row.status === "starting");
  // After a crash between the switch and the end of the drain: finish the drain.
  if (switched && replicas.some((row) => row.status === "draining")) {
    await drainAndFinish(deps, app.id, finish);
    return;
  }
  // start and rollback converge: nothing to do when the app already runs that deployment at its scale.
  const healthy = replicas.filter((row) => row.status === "healthy" && row.deploymentId === deployment.id);
  if (input.action !== "restart" && switched && healthy.length === app.replicas) {
    await drainAndFinish(deps, app.id, finish);
    return;
  }
  if (!(await deps.podman.imageExists(deployment.imageRef))) {
    throw new ReleaseFailure(
      `The image of deployment #${deployment.number} is no longer on this host. Deploy again to rebuild it.`,
    );
  }
  const spec = await specFor(deps, app, deployment);
  await step(deps, "network");
  await rollout(
    deps,
    spec,
    app.replicas,
    {
      replace: true,
      onSwitch: async (tx) => {
        await tx.deployment.updateMany({
          where: { id: deployment.id, status: { in: ["running", "superseded"] } },
          data: { status: "running" },
        });
      },
    },
    silent,
  );
  await drainAndFinish(deps, app.id, finish);
}

/** Converges the number of replicas of the current deployment to app.replicas. */
async function scaleApp(deps: ReleaseDeps, app: AppRow, finish: (tx: Tx) => Promise<void>): Promise<void> {
  const { db } = deps;
  const current = app.currentDeploymentId
    ? await db.deployment.findUnique({ where: { id: app.currentDeploymentId } })
    : null;
  if (app.status !== "running" || !current) {
    // Stored on the app (by the request); the next start or deployment uses it.
    await drainAndFinish(deps, app.id, finish);
    return;
  }
  const replicas = await db.replica.findMany({ where: { appId: app.id }, orderBy: { index: "asc" } });
  const healthy = replicas.filter((row) => row.status === "healthy" && row.deploymentId === current.id);
  const starting = replicas.some((row) => row.status === "starting" && row.deploymentId === current.id);
  if (starting || healthy.length < app.replicas) {
    const spec = await specFor(deps, app, current);
    await step(deps, "network");
    await rollout(deps, spec, app.replicas - healthy.length, { replace: false }, silent);
  } else if (healthy.length > app.replicas) {
    // The newest replicas go first; the route loses them before they stop.
    const surplus = healthy.slice(app.replicas).map((row) => row.id);
    try {
      await syncRouting(db, deps.caddy, {
        config: deps.routing,
        log: deps.log,
        retry: deps.caddyRetry,
        sleep: deps.sleep,
        change: async (tx) => {
          await tx.replica.updateMany({ where: { id: { in: surplus } }, data: { status: "draining" } });
        },
      });
    } catch (error) {
      if (error instanceof CaddyError) throw new ReleaseFailure(`${error.userMessage} The app was not scaled down.`);
      throw error;
    }
    await step(deps, "switch");
  }
  await drainAndFinish(deps, app.id, finish);
}

// ---------------------------------------------------------------------------------------------------------------
// Giving up (the job's last attempt failed)

/**
 * Leaves the app as safe as the infrastructure allows: whatever was starting is removed, replicas already out of
 * the route are marked stopped (the next release removes them), the deployment (if any) fails unless it is live.
 */
export async function giveUpRelease(
  deps: ReleaseDeps,
  input: { operationId: string; appId?: string; deploymentId?: string },
  reason: string,
): Promise<void> {
  const { db } = deps;
  const deployment = input.deploymentId ? await db.deployment.findUnique({ where: { id: input.deploymentId } }) : null;
  const appId = input.appId ?? deployment?.appId;
  if (appId) {
    await cleanupSafely(deps, appId, deployment ? [releaseContainerName(deployment.appId, deployment.number)] : []);
    await db.replica.updateMany({ where: { appId, status: "draining" }, data: { status: "stopped" } });
  }
  if (deployment && deployment.status !== "running") {
    await failDeployment(deps, deployment, input.operationId, reason);
    return;
  }
  await failOperation(db, input.operationId, reason);
}
