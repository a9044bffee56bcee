"use client";

// Keeps a databases or Redis page current while something is in progress on it (creating, rotating, applying
// limits, deleting): polls a server action every ~2 s, pauses while the tab is hidden, and when a snapshot differs
// from what the server rendered, refreshes the page (its server parts re-render with the new state). A service that
// disappeared (deleted) sends a detail page back to the list.
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { isBusy, type ServicePoll, type ServiceSnapshot } from "@/components/services/service-types";
import { Notice } from "@/components/ui";

const POLL_MS = 2_000;
const RETRY_MS = 5_000;

function same(a: ServiceSnapshot | null | undefined, b: ServiceSnapshot | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  return a.status === b.status && a.pending === b.pending && a.error === b.error;
}

export function ServicePoller({
  teamId,
  initial,
  poll,
  goneHref,
}: {
  teamId: string;
  /** What the server rendered, per service ID. */
  initial: Record<string, ServiceSnapshot>;
  poll: ServicePoll;
  /** Where to go when every polled service is gone (a detail page after its deletion). */
  goneHref?: string;
}) {
  const router = useRouter();
  const [problem, setProblem] = useState<string | null>(null);
  const busyIds = Object.entries(initial)
    .filter(([, snapshot]) => isBusy(snapshot))
    .map(([id]) => id)
    .sort();
  // A stable dependency: the effect restarts when the server renders a new state, not at every render.
  const key = JSON.stringify(busyIds.map((id) => [id, initial[id]]));

  useEffect(() => {
    let watched: [string, ServiceSnapshot][] = JSON.parse(key);
    if (watched.length === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    let busy = false;
    const schedule = (ms: number) => {
      clearTimeout(timer);
      if (!stopped) timer = setTimeout(tick, ms);
    };
    const tick = async () => {
      if (busy || stopped || document.visibilityState !== "visible") return;
      busy = true;
      let delay = POLL_MS;
      try {
        const result = await poll(
          teamId,
          watched.map(([id]) => id),
        );
        if (stopped) return;
        if (result.status === "success" && result.data) {
          setProblem(null);
          const snapshots = result.data;
          const gone = watched.every(([id]) => snapshots[id] === null);
          if (gone && goneHref) {
            stopped = true;
            router.replace(goneHref);
            return;
          }
          if (watched.some(([id, before]) => !same(before, snapshots[id]))) {
            router.refresh();
            // Until the refreshed page arrives (and restarts this effect), compare with what was just seen.
            watched = watched.flatMap(([id]) => {
              const next = snapshots[id];
              return next && isBusy(next) ? [[id, next] as [string, ServiceSnapshot]] : [];
            });
            if (watched.length === 0) {
              stopped = true;
              return;
            }
          }
        } else {
          setProblem(result.message ?? "The latest state could not be loaded.");
          delay = RETRY_MS;
        }
      } catch {
        if (!stopped) setProblem("Lost contact with the server.");
        delay = RETRY_MS;
      } finally {
        busy = false;
      }
      schedule(delay);
    };
    const onVisibility = () => {
      if (document.visibilityState === "visible") schedule(0);
    };
    schedule(POLL_MS);
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [key, teamId, poll, goneHref, router]);

  if (busyIds.length === 0) return null;
  return problem ? (
    <Notice tone="warning" title="Live updates are interrupted">
      {problem} Trying again…
    </Notice>
  ) : (
    <p className="sr-only" aria-live="polite">
      Work in progress; this page updates by itself.
    </p>
  );
}
