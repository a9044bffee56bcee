// Named graphile-worker queues: jobs in one queue run one at a time, in order.

/**
 * Every job that changes an app's containers (its releases, start/stop/restart/rollback/scale, its deletion): two
 * of them never move the same app's replicas at once. Builds stay outside, so they overlap a running release.
 */
export function appQueue(appId: string): string {
  return `app:${appId}`;
}
