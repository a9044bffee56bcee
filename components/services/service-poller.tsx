"use client";

// Keeps a databases or Redis page current while something is in progress on it (creating, rotating, applying
// limits, deleting): polls a server action every ~2 s, pauses while the tab is hidden, and when a snapshot differs
// from what the server rendered, refreshes the page (its server parts re-render with the new state). A service that
// disappeared (deleted) sends a detail page back to the list.
import { useRouter } from "next/navigation";
import { useRef, useState } from "react";
import { isBusy, type ServicePoll, type ServiceSnapshot } from "@/components/services/service-types";
import { Notice } from "@/components/ui";
import { usePolling } from "@/components/use-polling";

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

  // What this run of polling compares against: the server's state at its start, then what was last seen.
  const watched = useRef<[string, ServiceSnapshot][]>([]);

  usePolling(
    async ({ stopped, first }) => {
      if (first) watched.current = JSON.parse(key);
      try {
        const result = await poll(
          teamId,
          watched.current.map(([id]) => id),
        );
        if (stopped()) return null;
        if (result.status !== "success" || !result.data) {
          setProblem(result.message ?? "The latest state could not be loaded.");
          return RETRY_MS;
        }
        setProblem(null);
        const snapshots = result.data;
        const gone = watched.current.every(([id]) => snapshots[id] === null);
        if (gone && goneHref) {
          router.replace(goneHref);
          return null;
        }
        if (watched.current.some(([id, before]) => !same(before, snapshots[id]))) {
          router.refresh();
          // Until the refreshed page arrives (and restarts polling), compare with what was just seen.
          watched.current = watched.current.flatMap(([id]) => {
            const next = snapshots[id];
            return next && isBusy(next) ? [[id, next] as [string, ServiceSnapshot]] : [];
          });
          if (watched.current.length === 0) return null;
        }
        return POLL_MS;
      } catch {
        if (!stopped()) setProblem("Lost contact with the server.");
        return RETRY_MS;
      }
    },
    { enabled: busyIds.length > 0, firstDelayMs: POLL_MS, restartKey: key },
  );

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
