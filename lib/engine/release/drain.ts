// After a switch: the replicas that left the route drain and are removed, and the operation finishes with their
// rows. After a failure: what the release brought up is removed and the route restored.
import type { Tx } from "@/lib/db";
import { collectAppLogs } from "@/lib/engine/app-logs";
import { CADDY_CLEANUP_RETRY, type ReleaseDeps, step } from "@/lib/engine/release/context";
import { syncRouting } from "@/lib/engine/routing";

/**
 * Waits for requests in flight, then stops and removes every replica of the app that left the route, and finishes:
 * the rows go in the same transaction as `finish` (which succeeds the operation), so a retry either finds them
 * still there or finds the operation finished.
 */
export async function drainAndFinish(
  deps: ReleaseDeps,
  appId: string,
  finish: (tx: Tx) => Promise<void>,
  extraContainers: string[] = [],
): Promise<void> {
  const doomed = await deps.db.replica.findMany({
    where: { appId, status: { in: ["draining", "stopped"] } },
    orderBy: [{ createdAt: "asc" }, { index: "asc" }],
  });
  // Only web replicas have requests in flight to wait for; the other types get the drain time as their SIGTERM grace.
  const drainingWeb = doomed.some((row) => row.status === "draining" && row.process === "web");
  if (drainingWeb && deps.drainMs > 0) await deps.sleep(deps.drainMs);
  await step(deps, "drain:waited");
  const workers = doomed.filter((row) => row.status === "draining" && row.process !== "web");
  if (workers.length > 0) {
    // SIGTERM (forwarded by --init), then up to the drain time to finish the task at hand, then SIGKILL; together,
    // so a release with many workers waits one drain time, not one per worker.
    const timeoutSeconds = Math.ceil(deps.drainMs / 1000);
    await Promise.all(workers.map((row) => deps.podman.stop(row.containerName, { timeoutSeconds })));
    await step(deps, "drain:stopped");
  }
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
export async function abandonStarting(deps: ReleaseDeps, appId: string, extraContainers: string[] = []): Promise<void> {
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

export async function cleanupSafely(deps: ReleaseDeps, appId: string, extraContainers: string[] = []): Promise<void> {
  try {
    await abandonStarting(deps, appId, extraContainers);
  } catch (error) {
    // No podman on this host or podman failing: the rows stay for the next release.
    deps.log.warn({ err: error }, "could not clean up after a failed release");
  }
}
