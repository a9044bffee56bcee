// The traffic switch: new replicas up and healthy, then one transaction that moves the app, its replicas and its
// deployments and loads Caddy (lib/engine/routing.ts), so the database and the router move together or not at all.
import type { Db, Tx } from "@/lib/db";
import { userFailure } from "@/lib/engine/failure";
import { planReplicas, startReplica, waitHealthy, waitRunning } from "@/lib/engine/release/containers";
import { plural, type ReleaseDeps, type Say, type Spec, step } from "@/lib/engine/release/context";
import { syncRouting } from "@/lib/engine/routing";
import { supersedeOthers, switchAppTo } from "@/lib/engine/state";
import { AppError } from "@/lib/errors";
import type { Replica } from "@/lib/generated/prisma/client";
import { CaddyError } from "@/lib/infra/caddy";

/** Where traffic goes if this release fails, for messages: only say "keeps serving" when something does. */
export async function fallbackText(db: Db, appId: string): Promise<string> {
  const serving = await db.replica.count({ where: { appId, status: "healthy" } });
  return serving > 0 ? "The previous release keeps serving." : "Nothing was switched.";
}

export type SwitchOptions = {
  /** Every other replica of the app leaves the route (a release); false adds to it (a scale-up). */
  replace: boolean;
  /** Deployment status changes that belong with the switch. */
  onSwitch?: (tx: Tx) => Promise<void>;
};

export async function switchTraffic(
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
        if (!(await switchAppTo(tx, spec.app.id, spec.deployment.id))) {
          throw userFailure("The app is being deleted.");
        }
        await tx.replica.updateMany({ where: { id: { in: ids } }, data: { status: "healthy" } });
        if (options.replace) {
          // Every process type cuts over together: the old workers leave with the old web replicas.
          await tx.replica.updateMany({
            where: { appId: spec.app.id, id: { notIn: ids }, status: { in: ["starting", "healthy", "crashed"] } },
            data: { status: "draining" },
          });
          await supersedeOthers(tx, spec.app.id, spec.deployment.id);
          // The release's types: what views, scale and routing read (an app without web has no route).
          await tx.app.update({ where: { id: spec.app.id }, data: { processTypes: spec.types } });
        }
        await options.onSwitch?.(tx);
      },
    });
  } catch (error) {
    if (error instanceof CaddyError) {
      const reason = `${error.userMessage} Traffic was not switched. ${fallback}`;
      if (error.retryable) {
        // Caddy down, restarting or erroring past the attempt's own backoff: nothing is wrong with the release, so
        // the job retries it (graphile-worker's backoff) with its healthy containers still up; the message is the
        // reason shown if the attempts run out.
        deps.log.warn({ caddy: error.toLog() }, "traffic switch postponed: caddy unavailable; the job will retry");
        throw new AppError("unavailable", reason, { cause: error, retryable: true });
      }
      // Caddy answered and refused our config (a 4xx): another attempt would be refused the same way.
      deps.log.error({ caddy: error.toLog() }, "traffic switch failed: caddy did not take the config");
      throw userFailure(reason);
    }
    throw error;
  }
  deps.log.info({ deploymentId: spec.deployment.id, replicas: rows.length }, "traffic switched");
}

/**
 * Brings up `counts` replicas per process type of the spec's deployment, waits until web answers and the other
 * types keep running, and switches to all of them at once. On return the switch is committed; the replicas it
 * replaced (every type) are "draining". Web and the other types start side by side, before the switch, so a worker
 * that cannot start fails the release while the previous one still runs (for a while both releases' workers run).
 */
export async function rollout(
  deps: ReleaseDeps,
  spec: Spec,
  counts: Record<string, number>,
  options: SwitchOptions,
  say: Say,
): Promise<void> {
  const fallback = await fallbackText(deps.db, spec.app.id);
  const { rows, resumed } = await planReplicas(deps, spec.app, spec.deployment, counts);
  await step(deps, "plan");
  if (rows.length > 0) await say(`==> Starting ${plural(rows.length, "container")}`);
  const started: Replica[] = [];
  for (const [position, row] of rows.entries()) {
    started.push(await startReplica(deps, spec, row, resumed.has(row.id)));
    await step(deps, `start:${position}`);
  }
  const web = started.filter((row) => row.process === "web");
  const others = started.filter((row) => row.process !== "web");
  await waitHealthy(deps, spec.app, web, fallback);
  if (web.length > 0) await say(`==> Health check passed (GET ${spec.app.healthCheckPath})`);
  await waitRunning(deps, others, fallback);
  if (others.length > 0) await say(`==> ${plural(others.length, "process container")} kept running`);
  await step(deps, "health");
  try {
    await switchTraffic(deps, spec, started, options, fallback);
  } catch (error) {
    if (error instanceof AppError && error.retryable) {
      await say("==> Waiting for the proxy (Caddy) to come back; retrying").catch(() => undefined);
    }
    throw error;
  }
  await say("==> Traffic switched to the new containers");
  await step(deps, "switch");
}
