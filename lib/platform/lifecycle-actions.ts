// The lifecycle actions a queued app__lifecycle job can carry. A leaf module: the job's payload schema is built when
// the job registry loads, which lib/platform/release.ts itself reaches through the domain layer (enqueue), so the
// constant must not live in release.ts (an import cycle would leave it uninitialized).
export const LIFECYCLE_ACTIONS = ["start", "stop", "restart", "rollback", "scale"] as const;
export type LifecycleAction = (typeof LIFECYCLE_ACTIONS)[number];
