"use client";

// Polls /api/health and shows each part of the platform; pauses while the tab is hidden.
import { useState } from "react";
import { usePolling } from "@/components/use-polling";

type Status = "ok" | "unavailable";
type Health = {
  status: Status;
  checks: {
    web: { status: Status };
    database: { status: Status; latencyMs: number | null };
    worker: { status: Status; heartbeatAgeSeconds: number | null };
  };
};

const POLL_MS = 5_000;

function Dot({ status }: { status: Status | "unknown" }) {
  const color = status === "ok" ? "bg-emerald-500" : status === "unknown" ? "bg-zinc-400" : "bg-red-500";
  return <span aria-hidden="true" className={`inline-block size-2.5 rounded-full ${color}`} />;
}

export function SystemStatus() {
  const [health, setHealth] = useState<Health | null>(null);
  const [failed, setFailed] = useState(false);

  usePolling(
    async ({ stopped }) => {
      try {
        const response = await fetch("/api/health", { cache: "no-store" });
        const body = (await response.json()) as Health;
        if (!stopped()) {
          setHealth(body);
          setFailed(false);
        }
      } catch {
        if (!stopped()) setFailed(true);
      }
      return POLL_MS;
    },
    { firstDelayMs: 0 },
  );

  const rows: { name: string; status: Status | "unknown"; detail: string }[] = [
    { name: "Web", status: health?.checks.web.status ?? "unknown", detail: health ? "serving" : "checking…" },
    {
      name: "Database",
      status: health?.checks.database.status ?? "unknown",
      detail: health?.checks.database.status === "ok" ? "reachable" : health ? "unreachable" : "checking…",
    },
    {
      name: "Worker",
      status: health?.checks.worker.status ?? "unknown",
      detail:
        health?.checks.worker.heartbeatAgeSeconds != null
          ? `last heartbeat ${health.checks.worker.heartbeatAgeSeconds}s ago`
          : health
            ? "no heartbeat yet"
            : "checking…",
    },
  ];

  return (
    <section
      aria-labelledby="system-status-heading"
      className="rounded-xl border border-zinc-200 p-5 dark:border-zinc-800"
    >
      <h2 id="system-status-heading" className="font-semibold text-sm text-zinc-500 uppercase tracking-wide">
        System status
      </h2>
      {failed ? <p className="mt-3 text-red-600 text-sm">The status could not be fetched. Retrying…</p> : null}
      <ul className="mt-3 space-y-2">
        {rows.map((row) => (
          <li
            key={row.name}
            className="flex items-center gap-3 text-sm"
            data-testid={`status-${row.name.toLowerCase()}`}
          >
            <Dot status={row.status} />
            <span className="w-20 font-medium">{row.name}</span>
            <span className="text-zinc-500" data-status={row.status}>
              {row.detail}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
