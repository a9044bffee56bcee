// Liveness of the platform's parts. One query: the newest worker heartbeat also proves the database answers.
import type { Db } from "@/lib/db";

/** A worker beats every few seconds; this much silence means it is gone or stuck. */
export const WORKER_STALE_AFTER_MS = 30_000;

export type ComponentStatus = "ok" | "unavailable";

export type Health = {
  status: ComponentStatus;
  checks: {
    web: { status: ComponentStatus };
    database: { status: ComponentStatus; latencyMs: number | null };
    worker: { status: ComponentStatus; heartbeatAgeSeconds: number | null };
  };
};

export async function getHealth(db: Db, now: () => number = Date.now): Promise<Health> {
  const started = now();
  let latest: { beatAt: Date } | null;
  try {
    latest = await db.workerHeartbeat.findFirst({ orderBy: { beatAt: "desc" }, select: { beatAt: true } });
  } catch {
    return {
      status: "unavailable",
      checks: {
        web: { status: "ok" },
        database: { status: "unavailable", latencyMs: null },
        worker: { status: "unavailable", heartbeatAgeSeconds: null },
      },
    };
  }
  const finished = now();
  const ageMs = latest ? Math.max(0, finished - latest.beatAt.getTime()) : null;
  const workerOk = ageMs !== null && ageMs <= WORKER_STALE_AFTER_MS;
  return {
    status: workerOk ? "ok" : "unavailable",
    checks: {
      web: { status: "ok" },
      database: { status: "ok", latencyMs: finished - started },
      worker: {
        status: workerOk ? "ok" : "unavailable",
        heartbeatAgeSeconds: ageMs === null ? null : Math.round(ageMs / 100) / 10,
      },
    },
  };
}
