import { type CaddyClient, MAX_TIMER_MS } from "./client";
import { CaddyError } from "./errors";
import { configHash } from "./hash";
import type { CaddyConfig } from "./render";

// Loading a rendered config with bounded, jittered retries on the failures that can pass.

export type RetryPolicy = { attempts: number; baseDelayMs: number; maxDelayMs: number };

export type ApplyOptions = {
  // Hash returned by the last successful apply, as stored by the caller.
  lastAppliedHash?: string | null;
  retry?: RetryPolicy;
  sleep?: (ms: number) => Promise<void>;
  // Returns [0, 1) like Math.random; injectable so tests can check the backoff bounds.
  random?: () => number;
  // Called before each wait, so the caller can log the failure it is about to retry.
  onRetry?: (err: CaddyError, attempt: number, delayMs: number) => void;
};

export type ApplyResult = { applied: boolean; hash: string };

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 250, maxDelayMs: 5_000 };

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Delay before retry number `attempt` (1-based): exponential, capped, with jitter in its upper half. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exponential = policy.baseDelayMs * 2 ** Math.max(0, attempt - 1);
  const capped = Math.min(policy.maxDelayMs, exponential);
  // "Equal jitter": spreads workers that failed together, and never collapses to an immediate retry.
  return Math.round(capped / 2 + (capped / 2) * random());
}

function checkRetryPolicy(policy: RetryPolicy): void {
  const ok =
    Number.isInteger(policy.attempts) &&
    policy.attempts >= 1 &&
    policy.attempts <= 100 &&
    Number.isFinite(policy.baseDelayMs) &&
    policy.baseDelayMs >= 0 &&
    Number.isFinite(policy.maxDelayMs) &&
    policy.maxDelayMs >= policy.baseDelayMs &&
    policy.maxDelayMs <= MAX_TIMER_MS;
  if (!ok) throw new CaddyError("invalid_option", "client", "invalid retry policy");
}

/**
 * Makes Caddy run `config`. Skips the POST only when the config is unchanged since the last apply AND Caddy still
 * runs it: a restarted Caddy (empty config) or a config edited behind our back is re-applied. Retryable failures
 * are retried with bounded exponential backoff; POST /load is idempotent, so retrying one that timed out after
 * Caddy took it is harmless. Gives up with the last CaddyError. Callers serialize applies (one queue).
 */
export async function applyCaddyConfig(
  client: CaddyClient,
  config: CaddyConfig,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const policy = options.retry ?? DEFAULT_RETRY;
  checkRetryPolicy(policy);
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const hash = configHash(config);

  const attempt = async (): Promise<ApplyResult> => {
    if (options.lastAppliedHash === hash && configHash(await client.getConfig()) === hash) {
      return { applied: false, hash };
    }
    await client.load(config);
    return { applied: true, hash };
  };

  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof CaddyError) || !err.retryable || n >= policy.attempts) throw err;
      const delayMs = backoffDelay(policy, n, random);
      options.onRetry?.(err, n, delayMs);
      await sleep(delayMs);
    }
  }
}
