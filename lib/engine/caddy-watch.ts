// The worker's Caddy watch: a restarted Caddy (no --resume, or a fresh host) comes back with an empty config and
// every app answers nothing until the next sync. The periodic reconcile would fix that only minutes later, so this
// loop asks Caddy every few seconds for one object every rendered config carries (the fallback route's `@id`):
// one small GET, not the whole config. When it is missing, the routing sync runs (serialized with every other
// writer by syncRouting's advisory lock). An unreachable Caddy is only noted: the check repeats, and the first
// answer without our config triggers the sync. A tick never throws: the worker must not crash because Caddy is down.
import type { Logger } from "pino";
import type { Db } from "@/lib/db";
import { type RoutingConfig, syncRouting } from "@/lib/engine/routing";
import { type CaddyClient, CaddyError, FALLBACK_ROUTE_ID, type RetryPolicy } from "@/lib/infra/caddy";

/** How often the watch asks Caddy; small enough that a restart is repaired within seconds, cheap enough to be idle. */
export const CADDY_WATCH_INTERVAL_MS = 5_000;

// One short try per tick: the next tick is the retry, and a long backoff here would hold the routing lock.
const WATCH_SYNC_RETRY: RetryPolicy = { attempts: 2, baseDelayMs: 250, maxDelayMs: 1_000 };

export type CaddyWatchDeps = {
  db: Db;
  caddy: () => CaddyClient;
  config: RoutingConfig;
  log: Logger;
  intervalMs?: number;
  retry?: RetryPolicy;
};

/** ok: Caddy runs our config; resynced: it had lost it and got it back; unreachable/failed: retried next tick. */
export type CaddyWatchTick = "ok" | "resynced" | "unreachable" | "failed";

export type CaddyWatch = {
  /** One check (and sync when needed); never throws. Exported for tests, which drive it directly. */
  tick(): Promise<CaddyWatchTick>;
  start(): void;
  /** Stops the loop and waits for a running tick. */
  stop(): Promise<void>;
};

export function createCaddyWatch(deps: CaddyWatchDeps): CaddyWatch {
  const log = deps.log.child({ part: "caddy-watch" });
  const intervalMs = deps.intervalMs ?? CADDY_WATCH_INTERVAL_MS;
  // Logged once per outage, not every five seconds.
  let unreachable = false;

  async function tick(): Promise<CaddyWatchTick> {
    let present: boolean;
    try {
      present = await deps.caddy().hasId(FALLBACK_ROUTE_ID);
    } catch (error) {
      if (!unreachable) {
        log.warn({ caddy: error instanceof CaddyError ? error.toLog() : undefined, err: error }, "caddy unreachable");
      }
      unreachable = true;
      return "unreachable";
    }
    if (unreachable) log.info("caddy reachable again");
    unreachable = false;
    if (present) return "ok";
    log.warn("caddy runs without the platform's routing config (restarted?): loading it again");
    try {
      await syncRouting(deps.db, deps.caddy(), { config: deps.config, log, retry: deps.retry ?? WATCH_SYNC_RETRY });
      return "resynced";
    } catch (error) {
      log.error(
        { caddy: error instanceof CaddyError ? error.toLog() : undefined, err: error },
        "routing resync failed",
      );
      return "failed";
    }
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    // A chain of timeouts rather than an interval: a slow tick delays the next one instead of overlapping it.
    timer = setTimeout(() => {
      running = tick().finally(schedule);
    }, intervalMs);
    timer.unref();
  };

  return {
    tick,
    start() {
      stopped = false;
      log.info({ intervalMs }, "caddy watch started");
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}
