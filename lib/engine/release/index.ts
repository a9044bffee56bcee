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
// A failure the user can act on (release command, health check, router) is a final AppError (lib/engine/failure.ts):
// the new containers are removed, the previous release keeps serving untouched, and the operation fails with the
// reason. Anything else is thrown for graphile-worker to retry; the last attempt's onGiveUp cleans up the same way.
//
// Split by concern: context.ts (dependencies, names, helpers), containers.ts (network, environment, replicas, health),
// release-command.ts, switch.ts (the traffic switch), drain.ts (drain and clean-up), deployment.ts (a deployment's
// release and giving up) and lifecycle.ts (start, stop, restart, rollback, scale). Status writes: lib/engine/state.ts.
export { asRetryableFailure } from "@/lib/engine/failure";
export {
  CADDY_RELEASE_RETRY,
  type ReleaseDeps,
  releaseContainerName,
  releaseDepsFromEnv,
  replicaContainerName,
  teamNetworkName,
} from "@/lib/engine/release/context";
export {
  giveUpRelease,
  markDeploymentFailed,
  type ReleaseInput,
  releaseDeployment,
} from "@/lib/engine/release/deployment";
export { type LifecycleInput, runLifecycle } from "@/lib/engine/release/lifecycle";
export { settleDeployingApp } from "@/lib/engine/state";
