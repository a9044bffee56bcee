// Desired state (the database) against actual state (podman's containers by label, Caddy's live config), converged
// by platform__reconcile every few minutes and at worker start (docs/architecture.md, "Jobs"):
// - a container labelled by the platform that no row wants (a crash between `podman run` and the row's removal, an
//   app deleted while podman was down) is removed, if it belongs to one of this installation's teams and is older
//   than two minutes;
// - a running app whose serving replicas are gone or exited (host reboot, OOM, podman restarted) gets a restart
//   through the release engine, in its own queue (health-gated, no duplicates: lib/domain/lifecycle.ts dedupes it);
// - a Caddy whose live config is not the one rendered from the database (restarted without autosave, edited by hand)
//   gets a caddy__sync;
// - first of all, a deployment or operation past its time limit is ended with a reason (lib/engine/expire.ts), so
//   what an interrupted release started is an orphan by the time the containers are looked at.
// And image pruning for platform__prune: each app keeps the images of its current release and of its last N
// successful deployments (rollback targets); older ones are removed and marked on their deployment.
//
// Idempotent: every step looks first and acts only on what differs, so a second run right after the first does
// nothing. Rows are always written before containers exist and deleted after they are gone (lib/engine/release),
// so listing containers first and reading rows second never mistakes a container being started for an orphan.
import type { Logger } from "pino";
import { enqueue } from "@/jobs/enqueue";
import type { Db } from "@/lib/db";
import { requestSystemRestart } from "@/lib/domain/lifecycle";
import { type ExpiryLimits, type ExpiryReport, expireStuck } from "@/lib/engine/expire";
import { releaseContainerName } from "@/lib/engine/release";
import { type RoutingConfig, renderDesiredConfig } from "@/lib/engine/routing";
import { runContainerName } from "@/lib/engine/runs";
import { type CaddyClient, configHash } from "@/lib/infra/caddy";
import type { ContainerHost } from "@/lib/infra/container-host";
import { LABEL_APP, LABEL_PROCESS, LABEL_TEAM, type Podman, PodmanError } from "@/lib/infra/podman";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const isUuid = (value: string) => UUID.test(value);

/** Deployment statuses whose release is still to come or under way: their containers and images are wanted. */
const IN_PROGRESS = ["queued", "building", "built", "releasing"] as const;
const SUCCESSFUL = ["running", "superseded"] as const;

export type ReconcileDeps = {
  db: Db;
  /** Null on a host without podman: only the router is checked. */
  podman: ContainerHost | null;
  caddy: CaddyClient;
  routing: RoutingConfig;
  log: Logger;
  /** Null: nothing is expired (tests of the other passes). */
  limits: ExpiryLimits | null;
  now?: () => number;
};

/** Containers younger than this are never orphans yet (a margin on top of the rows-first ordering). */
const ORPHAN_MIN_AGE_MS = 2 * 60_000;

/** podman ps gives Created as Unix seconds; older versions (and the fake) as a time. */
function createdAtMs(created: string | null): number | null {
  if (created === null) return null;
  if (/^\d+$/.test(created)) return Number(created) * 1000;
  const parsed = Date.parse(created);
  return Number.isNaN(parsed) ? null : parsed;
}

export type ReconcileReport = {
  /** Names of the orphan containers removed. */
  removed: string[];
  /** Apps that got a restart because replicas were missing. */
  restarted: string[];
  /** Whether a caddy__sync was queued; null when Caddy could not be read. */
  routingResynced: boolean | null;
  /** Deployments and operations ended past their time limit. */
  expired: ExpiryReport;
};

export async function reconcile(deps: ReconcileDeps): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    removed: [],
    restarted: [],
    routingResynced: null,
    expired: { deployments: [], operations: [] },
  };
  if (deps.limits) {
    report.expired = await expireStuck({
      db: deps.db,
      log: deps.log,
      limits: deps.limits,
      ...(deps.now ? { now: deps.now } : {}),
    });
  }
  if (deps.podman) {
    const { removed, restarted } = await reconcileContainers(deps, deps.podman);
    report.removed = removed;
    report.restarted = restarted;
  }
  report.routingResynced = await reconcileRouting(deps);
  return report;
}

async function reconcileContainers(
  deps: ReconcileDeps,
  podman: ContainerHost,
): Promise<{ removed: string[]; restarted: string[] }> {
  const { db, log } = deps;
  // Containers first, rows second (see the header).
  const containers = await podman.listContainers();
  const byName = new Map(containers.map((container) => [container.name, container]));
  const rows = await db.replica.findMany({
    select: { appId: true, containerName: true, status: true, restartAt: true, restartCount: true },
  });
  const wanted = new Set(rows.map((row) => row.containerName));
  const releasing = await db.deployment.findMany({
    where: { status: { in: [...IN_PROGRESS] } },
    select: { appId: true, number: true },
  });
  for (const deployment of releasing) wanted.add(releaseContainerName(deployment.appId, deployment.number));
  // One-off and cron runs still queued or running (lib/engine/runs.ts); the containers of ended runs are orphans.
  const runs = await db.run.findMany({ where: { status: { in: ["queued", "running"] } }, select: { id: true } });
  for (const run of runs) wanted.add(runContainerName(run.id));

  // Only this platform's teams: another installation sharing the host's podman (a benchmark, a second instance) labels
  // its containers the same way, and they are not ours to remove.
  const teamIds = [...new Set(containers.flatMap((c) => (c.labels[LABEL_TEAM] ? [c.labels[LABEL_TEAM]] : [])))];
  const ours = new Set(
    teamIds.length === 0
      ? []
      : (await db.team.findMany({ where: { id: { in: teamIds.filter(isUuid) } }, select: { id: true } })).map(
          (team) => team.id,
        ),
  );
  const now = (deps.now ?? Date.now)();
  const removed: string[] = [];
  for (const container of containers) {
    if (wanted.has(container.name)) continue;
    if (!ours.has(container.labels[LABEL_TEAM] ?? "")) continue;
    const created = createdAtMs(container.created);
    if (created === null || now - created < ORPHAN_MIN_AGE_MS) continue;
    try {
      await podman.remove(container.name);
      removed.push(container.name);
      log.info(
        {
          container: container.name,
          appId: container.labels[LABEL_APP],
          process: container.labels[LABEL_PROCESS],
        },
        "orphan container removed",
      );
    } catch (error) {
      log.warn({ err: error, container: container.name }, "could not remove an orphan container");
    }
  }

  // Running apps whose serving replicas are gone: a restart brings up a full new set, health-checked, then switches.
  const busy = new Set(releasing.map((deployment) => deployment.appId));
  const missingByApp = new Map<string, string[]>();
  for (const row of rows) {
    if (row.status !== "healthy" || busy.has(row.appId)) continue;
    const container = byName.get(row.containerName);
    if (container && container.state === "running") continue;
    // Exited while the crash watch (lib/engine/crash-watch.ts) is restarting it with backoff or counting its
    // restarts: replacing the whole app would reset a crash loop's count. Only a container gone altogether is ours.
    if (container && (row.restartAt !== null || row.restartCount > 0)) continue;
    missingByApp.set(row.appId, [...(missingByApp.get(row.appId) ?? []), row.containerName]);
  }
  const restarted: string[] = [];
  if (missingByApp.size > 0) {
    const pending = await db.operation.findMany({
      where: { targetId: { in: [...missingByApp.keys()] }, status: { in: ["queued", "running"] } },
      select: { targetId: true },
    });
    const withOperation = new Set(pending.map((operation) => operation.targetId));
    for (const [appId, containersGone] of missingByApp) {
      // A lifecycle operation already on its way replaces the replicas anyway.
      if (withOperation.has(appId)) continue;
      const operation = await db.$transaction((tx) => requestSystemRestart(tx, appId, "replicas missing"));
      if (!operation) continue;
      restarted.push(appId);
      log.info({ appId, operationId: operation.id, containers: containersGone }, "replicas missing: restart queued");
    }
  }
  return { removed, restarted };
}

/** Queues a caddy__sync when Caddy does not run the config rendered from the database; null when it cannot tell. */
async function reconcileRouting(deps: ReconcileDeps): Promise<boolean | null> {
  const { db, log } = deps;
  const rendered = await renderDesiredConfig(db, deps.routing, log);
  let live: unknown;
  try {
    live = await deps.caddy.getConfig();
  } catch (error) {
    log.warn({ err: error }, "caddy's admin API did not answer; routing not reconciled");
    return null;
  }
  if (configHash(live) === configHash(rendered)) return false;
  await db.$transaction((tx) => enqueue(tx, "caddy__sync", {}, { jobKey: "caddy-sync" }));
  log.info("caddy does not run the rendered routing config (restarted or edited): sync queued");
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// Images

export type PruneDeps = { db: Db; podman: Podman; log: Logger; keep: number };

/**
 * Removes the images of deployments no rollback will need: per app, everything but the current release, the last
 * `keep` successful deployments, deployments still in progress and any deployment a replica row still refers to.
 * An image podman says is in use stays (and is tried again next time). Returns the image references removed.
 */
export async function pruneImages(deps: PruneDeps): Promise<string[]> {
  const { db, podman, log, keep } = deps;
  const deployments = await db.deployment.findMany({
    where: { imageRef: { not: null }, imagePrunedAt: null },
    select: { id: true, appId: true, number: true, status: true, imageRef: true },
    orderBy: [{ appId: "asc" }, { number: "desc" }],
  });
  if (deployments.length === 0) return [];
  const apps = await db.app.findMany({
    where: { id: { in: [...new Set(deployments.map((deployment) => deployment.appId))] } },
    select: { id: true, currentDeploymentId: true },
  });
  const current = new Set(apps.flatMap((app) => (app.currentDeploymentId ? [app.currentDeploymentId] : [])));
  const withReplicas = new Set(
    (await db.replica.findMany({ select: { deploymentId: true }, distinct: ["deploymentId"] })).map(
      (row) => row.deploymentId,
    ),
  );
  const successfulSeen = new Map<string, number>();
  const doomed: typeof deployments = [];
  const keptRefs = new Set<string>();
  for (const deployment of deployments) {
    const successful = (SUCCESSFUL as readonly string[]).includes(deployment.status);
    let kept = current.has(deployment.id) || withReplicas.has(deployment.id);
    kept ||= (IN_PROGRESS as readonly string[]).includes(deployment.status);
    if (successful) {
      const rank = (successfulSeen.get(deployment.appId) ?? 0) + 1;
      successfulSeen.set(deployment.appId, rank);
      kept ||= rank <= keep;
    }
    if (!kept) doomed.push(deployment);
    else keptRefs.add(deployment.imageRef as string);
  }
  const removed: string[] = [];
  for (const deployment of doomed) {
    const ref = deployment.imageRef as string;
    // A deployment that reused an earlier one's image (lib/engine/build/reuse.ts) shares its tag: an image a kept
    // deployment references stays, whichever deployment built it.
    if (keptRefs.has(ref)) continue;
    try {
      await podman.removeImage(ref);
    } catch (error) {
      if (error instanceof PodmanError && error.kind === "in_use") {
        log.debug({ image: ref }, "image still in use; kept");
        continue;
      }
      log.warn({ err: error, image: ref }, "could not remove an old image");
      continue;
    }
    // Only images of this deployment that nobody can roll back to any more: the row says so for the UI and API.
    await db.deployment.updateMany({
      where: { id: deployment.id, imagePrunedAt: null },
      data: { imagePrunedAt: new Date() },
    });
    removed.push(ref);
    log.info({ appId: deployment.appId, deploymentId: deployment.id, image: ref }, "old image removed");
  }
  return removed;
}
