// When the supervisor (scripts/start.ts) restarts a crashed web server or worker, and when it gives up. Pure: the
// caller passes the clock, so the rules are tested without timers.
//
// A crash restarts the process after a backoff that doubles with each crash in a row (1 s, 2 s, 4 s... up to 30 s by
// default): a process that dies at once does not spin, and one that died of a passing outage (the database
// restarting) comes back quickly. A process that stayed up long enough is healthy again, so its next crash starts
// the backoff over. Too many crashes within a short window mean restarting does not help (a broken build, a bad
// configuration): the supervisor then stops everything and exits non-zero, for the service manager and a person.

export type RestartPolicy = {
  /** This many crashes within windowMs (the last one included) give up instead of restarting. */
  maxCrashes: number;
  windowMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** A process that ran at least this long before crashing was healthy: its backoff starts over. */
  stableAfterMs: number;
};

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  maxCrashes: 5,
  windowMs: 120_000,
  initialBackoffMs: 1_000,
  maxBackoffMs: 30_000,
  stableAfterMs: 60_000,
};

/** One process's crashes so far. Start from NO_CRASHES. */
export type CrashHistory = {
  /** When recent crashes happened (ms), oldest first, only those still inside the window. */
  readonly crashTimes: readonly number[];
  /** Crashes in a row without a stable run in between: the exponent of the backoff. */
  readonly consecutive: number;
};

export const NO_CRASHES: CrashHistory = { crashTimes: [], consecutive: 0 };

export type RestartDecision =
  | { action: "restart"; delayMs: number; crashesInWindow: number; history: CrashHistory }
  | { action: "give-up"; crashesInWindow: number; history: CrashHistory };

/** The backoff before the restart that follows the n-th crash in a row (n >= 1). */
export function backoffMs(policy: RestartPolicy, consecutive: number): number {
  const exponent = Math.max(0, consecutive - 1);
  // 2 ** exponent overflows to Infinity long after it passed the cap: Math.min keeps the cap.
  return Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** exponent);
}

/** What to do about a process that was started at `startedAt` and crashed at `crashedAt`. */
export function decideRestart(
  policy: RestartPolicy,
  history: CrashHistory,
  crash: { startedAt: number; crashedAt: number },
): RestartDecision {
  const crashTimes = [...history.crashTimes, crash.crashedAt].filter(
    (time) => crash.crashedAt - time < policy.windowMs,
  );
  const stable = crash.crashedAt - crash.startedAt >= policy.stableAfterMs;
  const consecutive = stable ? 1 : history.consecutive + 1;
  const next: CrashHistory = { crashTimes, consecutive };
  if (crashTimes.length >= policy.maxCrashes) {
    return { action: "give-up", crashesInWindow: crashTimes.length, history: next };
  }
  return {
    action: "restart",
    delayMs: backoffMs(policy, consecutive),
    crashesInWindow: crashTimes.length,
    history: next,
  };
}
