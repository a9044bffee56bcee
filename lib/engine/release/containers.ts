// The containers of a release: the team network, the environment, `podman run` under the app's limits, the replica
// rows planned before any container exists (adopted by a retry), and the health check that gates the switch.
import { APP_PORT } from "@/lib/build/containerfile";
import { resolveEnvForRelease } from "@/lib/domain/env-vars";
import { planProcessCommand, planProcessTypes } from "@/lib/domain/processes";
import { resolveServiceEnvForApp } from "@/lib/domain/service-env";
import { userFailure } from "@/lib/engine/failure";
import {
  type AppRow,
  HEALTH_BACKOFF_BASE_MS,
  HEALTH_BACKOFF_MAX_MS,
  OUTPUT_TAIL_LINES,
  outputOf,
  PROBE_TIMEOUT_MS,
  PROCESS_SETTLE_MS,
  type ReleaseDeps,
  replicaContainerName,
  type Spec,
  teamNetworkName,
  withOutput,
} from "@/lib/engine/release/context";
import { isAppError } from "@/lib/errors";
import type { Deployment, Replica } from "@/lib/generated/prisma/client";
import { PodmanError } from "@/lib/infra/podman";

export async function ensureNetwork(deps: ReleaseDeps, teamId: string): Promise<string> {
  const name = teamNetworkName(teamId);
  const { created } = await deps.podman.createNetwork(name, { team: teamId });
  if (created) deps.log.info({ network: name }, "team network created");
  return name;
}

export async function specFor(deps: ReleaseDeps, app: AppRow, deployment: Deployment): Promise<Spec> {
  if (!deployment.imageRef) throw userFailure(`Deployment #${deployment.number} has no image to release.`);
  const network = await ensureNetwork(deps, app.teamId);
  let services: Record<string, string>;
  try {
    // DATABASE_URL, REDIS_URL... of the attached database and Redis (their keys are reserved for users).
    services = await resolveServiceEnvForApp(deps.db, app.id);
  } catch (error) {
    if (isAppError(error)) throw userFailure(error.message, error);
    throw error;
  }
  // PORT last: the platform's contract wins over anything stored (reserved keys are refused when set, too).
  const env = { ...(await resolveEnvForRelease(deps.db, app.id)), ...services, PORT: String(APP_PORT) };
  return { app, deployment, image: deployment.imageRef, network, env, types: planProcessTypes(deployment.plan) };
}

/** Starts a container; false when the name was already taken (the caller decides whether that is success). */
export async function runContainer(
  deps: ReleaseDeps,
  spec: Spec,
  name: string,
  process: string,
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
    if (error instanceof PodmanError && error.kind === "not_found" && error.resource === "image") {
      throw userFailure(
        `The image of deployment #${spec.deployment.number} is no longer on this host. Deploy again to rebuild it.`,
      );
    }
    throw error;
  }
}

export type Plan = { rows: Replica[]; resumed: Set<string> };

/**
 * Rows for the replicas this release brings up, `counts` per process type. Rows still "starting" from an earlier
 * attempt at the same deployment are adopted (per type); new ones take indexes after every existing row of the
 * deployment and type, so a restart of the running deployment gets new names next to the old containers.
 */
export async function planReplicas(
  deps: ReleaseDeps,
  app: AppRow,
  deployment: Deployment,
  counts: Record<string, number>,
): Promise<Plan> {
  return await deps.db.$transaction(async (tx) => {
    // "starting" rows of another deployment belong to a release that never finished: not part of anything.
    await tx.replica.updateMany({
      where: { appId: app.id, status: "starting", deploymentId: { not: deployment.id } },
      data: { status: "stopped" },
    });
    const all = await tx.replica.findMany({ where: { deploymentId: deployment.id }, orderBy: { index: "asc" } });
    // A "starting" row of a type this plan no longer wants belongs to nothing either.
    const unwanted = all.filter((row) => row.status === "starting" && counts[row.process] === undefined);
    const rows: Replica[] = [];
    const resumed = new Set<string>();
    const surplus = [...unwanted];
    for (const [process, count] of Object.entries(counts)) {
      const existing = all.filter((row) => row.process === process);
      const starting = existing.filter((row) => row.status === "starting");
      const kept = starting.slice(0, count);
      surplus.push(...starting.slice(count));
      for (const row of kept) resumed.add(row.id);
      rows.push(...kept);
      let next = existing.reduce((max, row) => Math.max(max, row.index), -1) + 1;
      for (let planned = kept.length; planned < count; planned += 1) {
        rows.push(
          await tx.replica.create({
            data: {
              appId: app.id,
              deploymentId: deployment.id,
              process,
              index: next,
              containerName: replicaContainerName(app.id, deployment.number, next, process),
              status: "starting",
            },
          }),
        );
        next += 1;
      }
    }
    if (surplus.length > 0) {
      await tx.replica.updateMany({ where: { id: { in: surplus.map((row) => row.id) } }, data: { status: "stopped" } });
    }
    return { rows, resumed };
  });
}

export async function startReplica(deps: ReleaseDeps, spec: Spec, row: Replica, resumed: boolean): Promise<Replica> {
  const { podman } = deps;
  // Under a resumed name, the container is the one a crashed attempt started: adopted if it still runs. A freshly
  // planned name has no container unless something else left one there, which is never adopted (its environment
  // may be stale): podman's "name in use" answer says so, and the leftover goes.
  let container = resumed ? await podman.inspectContainer(row.containerName) : null;
  if (container && !container.running) {
    await podman.remove(row.containerName);
    container = null;
  }
  if (row.process !== "web") return await startProcess(deps, spec, row, container);
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

/** A non-web process: its plan command through the image's shell (a Procfile line), no published port. */
async function startProcess(
  deps: ReleaseDeps,
  spec: Spec,
  row: Replica,
  adopted: { running: boolean } | null,
): Promise<Replica> {
  if (adopted) return row;
  const command = planProcessCommand(spec.deployment.plan, row.process);
  if (command === null) throw userFailure(`Deployment #${spec.deployment.number} has no "${row.process}" process.`);
  const extra = { command: ["/bin/sh", "-c", command] };
  if (!(await runContainer(deps, spec, row.containerName, row.process, extra))) {
    await deps.podman.remove(row.containerName);
    await runContainer(deps, spec, row.containerName, row.process, extra);
  }
  deps.log.info({ container: row.containerName, process: row.process, replica: row.index }, "container started");
  return row;
}

/**
 * The check of processes that serve no HTTP: still running after the settle time. One that exited fails the release
 * with its exit code and output, as a web replica failing its health check does.
 */
export async function waitRunning(deps: ReleaseDeps, rows: Replica[], fallback: string): Promise<void> {
  if (rows.length === 0) return;
  await deps.sleep(deps.processSettleMs ?? PROCESS_SETTLE_MS);
  for (const row of rows) {
    const container = await deps.podman.inspectContainer(row.containerName);
    if (container?.running) continue;
    const output = await outputOf(deps.podman, row.containerName, OUTPUT_TAIL_LINES);
    const code = container ? ` with exit code ${container.exitCode}` : "";
    const seconds = Math.round((deps.processSettleMs ?? PROCESS_SETTLE_MS) / 1000);
    throw userFailure(
      withOutput(
        `The "${row.process}" process stopped${code} within ${seconds} seconds of its start. ${fallback}`,
        output,
      ),
    );
  }
}

export function appHostnameOf(deps: ReleaseDeps, app: AppRow): string {
  return `${app.name}-${app.team.slug}.${deps.routing.appsDomain}`;
}

export async function waitHealthy(deps: ReleaseDeps, app: AppRow, rows: Replica[], fallback: string): Promise<void> {
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
        throw userFailure(
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
      throw userFailure(
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
