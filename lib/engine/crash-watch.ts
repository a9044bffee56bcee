// Crash handling for every process type (issue #15): platform__crash_watch runs this twice a minute. One `podman ps
// -a` per pass (never one call per container) is compared with the serving replicas of running apps:
// - a container that exited is recorded (exit code, time, the end of its output) and restarted with `podman start`
//   (the same container: same env, limits and published port, so the route stays right) after an exponential
//   backoff: 10 s, 20 s, 40 s ... capped at 5 minutes;
// - once it has been restarted CRASH_POLICY.maxRestarts times without running 10 minutes in a row, the next exit
//   marks the replica "crashed": no more restarts until the next release, restart or start replaces it; its exit
//   code and output stay on the row for the API and the app page;
// - a container that kept running 10 minutes since its last exit starts over with a clean count.
// A container that is gone altogether (not exited) is reconcile's (lib/engine/reconcile.ts): it restarts the app.
// Reconcile leaves rows this watcher is handling alone (restartAt set or restarts counted).
//
// Idempotent and safe to run concurrently with releases: only "healthy" rows of running apps are looked at, every
// write is conditional on the row still being what was read, and a container a release removes in between makes
// `podman start` fail, which is logged and left to the next pass.
import type { Logger } from "pino";
import type { Db } from "@/lib/db";
import { notifyTeam } from "@/lib/domain/notifications";
import { CRASH_LOG_LINES } from "@/lib/domain/processes";
import { outputOf } from "@/lib/engine/release/context";
import type { ContainerHost } from "@/lib/infra/container-host";

export type CrashPolicy = {
  /** The first restart's delay; each following one doubles it. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Running this long since the last exit forgives the earlier restarts. */
  stableMs: number;
  /** Restarts allowed within one unstable stretch; the exit after the last one marks the replica crashed. */
  maxRestarts: number;
};

export const CRASH_POLICY: CrashPolicy = {
  baseDelayMs: 10_000,
  maxDelayMs: 5 * 60_000,
  stableMs: 10 * 60_000,
  maxRestarts: 5,
};

/** Output kept per crash, on top of the line count: a single huge line must not bloat the row. */
const CRASH_LOG_MAX_CHARS = 16_384;

export type CrashWatchDeps = {
  db: Db;
  podman: ContainerHost;
  log: Logger;
  now?: () => number;
  policy?: CrashPolicy;
};

export type CrashWatchReport = {
  /** Container names restarted in this pass. */
  restarted: string[];
  /** Exits recorded in this pass, waiting for their backoff. */
  waiting: string[];
  /** Replicas marked crashed in this pass. */
  crashed: string[];
  /** Replicas whose restart count was forgiven after running stably. */
  stable: string[];
};

export function restartDelayMs(policy: CrashPolicy, restartCount: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(restartCount, 30));
}

const EXITED = new Set(["exited", "stopped"]);

export async function watchCrashes(deps: CrashWatchDeps): Promise<CrashWatchReport> {
  const { db, podman, log } = deps;
  const policy = deps.policy ?? CRASH_POLICY;
  const now = (deps.now ?? Date.now)();
  const report: CrashWatchReport = { restarted: [], waiting: [], crashed: [], stable: [] };
  // Containers first, rows second, as reconcile does: a row written after the listing is simply not seen yet.
  const containers = await podman.listContainers();
  const byName = new Map(containers.map((container) => [container.name, container]));
  const rows = await db.replica.findMany({
    where: { status: "healthy", app: { status: "running" } },
    select: {
      id: true,
      appId: true,
      process: true,
      index: true,
      containerName: true,
      restartCount: true,
      restartAt: true,
      lastExitAt: true,
      app: { select: { teamId: true, name: true } },
    },
  });
  for (const row of rows) {
    const container = byName.get(row.containerName);
    if (!container) continue;
    const context = { appId: row.appId, process: row.process, replica: row.index, container: row.containerName };
    if (container.state === "running") {
      const stableSince = row.lastExitAt?.getTime() ?? now;
      if (row.restartCount > 0 && row.restartAt === null && now - stableSince >= policy.stableMs) {
        await db.replica.updateMany({
          where: { id: row.id, status: "healthy", restartAt: null },
          data: { restartCount: 0 },
        });
        report.stable.push(row.containerName);
      }
      continue;
    }
    if (!EXITED.has(container.state)) continue;

    if (row.restartAt === null) {
      // A new exit: recorded with what the container printed last, then a restart after the backoff or, past the
      // allowance, the end of restarts.
      const output = (await outputOf(podman, row.containerName, CRASH_LOG_LINES)).slice(-CRASH_LOG_MAX_CHARS);
      const exit = { lastExitCode: container.exitCode, lastExitAt: new Date(now), lastExitLog: output };
      if (row.restartCount >= policy.maxRestarts) {
        await db.$transaction(async (tx) => {
          const { count } = await tx.replica.updateMany({
            where: { id: row.id, status: "healthy" },
            data: { ...exit, status: "crashed" },
          });
          if (count === 0) return;
          await notifyTeam(tx, {
            teamId: row.app.teamId,
            event: "app.crash_looping",
            subject: { appId: row.appId },
            summary: `${row.app.name}: ${row.process} #${row.index} keeps crashing (exit code ${container.exitCode ?? "unknown"} after ${row.restartCount} restarts); it is not restarted until the next release, restart or start.`,
          });
        });
        report.crashed.push(row.containerName);
        log.warn(
          { ...context, exitCode: container.exitCode, restarts: row.restartCount },
          "replica keeps crashing: marked crashed, no more restarts",
        );
        continue;
      }
      const delay = restartDelayMs(policy, row.restartCount);
      await db.$transaction(async (tx) => {
        const { count } = await tx.replica.updateMany({
          where: { id: row.id, status: "healthy", restartAt: null },
          data: { ...exit, restartAt: new Date(now + delay) },
        });
        // The first exit of an unstable stretch is told; the restarts after it are the crash loop's (told once, when
        // the replica is marked crashed), so a flapping process does not flood the team's channels.
        if (count === 0 || row.restartCount > 0) return;
        await notifyTeam(tx, {
          teamId: row.app.teamId,
          event: "app.crashed",
          subject: { appId: row.appId },
          summary: `${row.app.name}: ${row.process} #${row.index} exited with code ${container.exitCode ?? "unknown"}; restarting it in ${Math.round(delay / 1000)} s.`,
        });
      });
      report.waiting.push(row.containerName);
      log.info({ ...context, exitCode: container.exitCode, delayMs: delay }, "container exited: restart scheduled");
      continue;
    }
    if (row.restartAt.getTime() > now) continue;
    try {
      await podman.start(row.containerName);
    } catch (error) {
      // Removed by a release in between, or podman failing: the next pass looks again.
      log.warn({ ...context, err: error }, "could not restart an exited container");
      continue;
    }
    await db.replica.updateMany({
      where: { id: row.id, status: "healthy" },
      data: { restartAt: null, restartCount: row.restartCount + 1 },
    });
    report.restarted.push(row.containerName);
    log.info({ ...context, restarts: row.restartCount + 1 }, "exited container restarted");
  }
  return report;
}
