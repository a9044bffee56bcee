"use client";

// Polling shared by the live views (build log, release progress, runtime logs, service status): one request at a
// time, a timer only while the tab is visible (becoming visible again polls at once), stopped on unmount or when a
// poll says so. The poll itself decides what it shows and when to come back.
import { useEffect, useRef } from "react";

export type PollContext = {
  /** True once the view unmounted or polling restarted: no state updates after that. */
  stopped(): boolean;
  /** The first poll of this run. */
  first: boolean;
};

/** Milliseconds until the next poll, or null to stop polling. */
export type Poll = (context: PollContext) => Promise<number | null>;

export type PollingOptions = {
  /** Polling runs only while this is true. */
  enabled?: boolean;
  /** When the first poll happens. */
  firstDelayMs: number;
  /** The first poll happens even in a hidden tab (a view that would otherwise show nothing at all). */
  firstEvenIfHidden?: boolean;
  /** Polling starts over (first poll again) when this changes. */
  restartKey?: string;
  /** After a poll that threw. */
  errorDelayMs?: number;
};

export function usePolling(poll: Poll, options: PollingOptions): void {
  const { enabled = true, firstDelayMs, firstEvenIfHidden = false, restartKey = "", errorDelayMs = 5_000 } = options;
  // The newest poll function, so that a re-render with new props does not restart the timer.
  const latest = useRef(poll);
  useEffect(() => {
    latest.current = poll;
  });

  useEffect(() => {
    if (!enabled) return;
    void restartKey;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    let busy = false;
    let first = true;
    const schedule = (ms: number) => {
      clearTimeout(timer);
      if (!stopped) timer = setTimeout(tick, ms);
    };
    const tick = async () => {
      // Hidden: no timer; the visibility listener starts again.
      if (busy || stopped) return;
      if (document.visibilityState !== "visible" && !(first && firstEvenIfHidden)) return;
      busy = true;
      let next: number | null;
      try {
        next = await latest.current({ stopped: () => stopped, first });
      } catch {
        next = errorDelayMs;
      } finally {
        busy = false;
        first = false;
      }
      if (next === null) {
        stopped = true;
        return;
      }
      schedule(next);
    };
    const onVisibility = () => {
      if (document.visibilityState === "visible") schedule(0);
    };
    schedule(firstDelayMs);
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [enabled, firstDelayMs, firstEvenIfHidden, restartKey, errorDelayMs]);
}
