// Named graphile-worker queues: jobs in one queue run one at a time, in order.

/**
 * Every job that changes an app's containers (its releases, start/stop/restart/rollback/scale, its deletion): two
 * of them never move the same app's replicas at once. Builds stay outside, so they overlap a running release.
 */
export function appQueue(appId: string): string {
  return `app:${appId}`;
}

/**
 * One of a team's build slots. Builds of a team go to `build:<teamId>:<slot>` with slot < its concurrentBuilds quota
 * (jobs/build-slots.ts): graphile-worker runs one job per queue at a time, so the team never holds more worker slots
 * than that, while a queued build waits without taking a worker (other teams' jobs run meanwhile).
 */
export function buildQueue(teamId: string, slot: number): string {
  return `build:${teamId}:${slot}`;
}
