"use client";

// One run, followed live: its status and the output read by offset (each poll asks for what comes after the bytes
// already shown, so nothing is fetched twice), until the run has ended and the last chunk says it is complete.
// A Cancel button shows while the run is queued or running, for members and above.
import { useState } from "react";
import { ActionButton } from "@/components/action-button";
import { isActiveRun, RunStatusBadge } from "@/components/apps/runs/run-status";
import type { RunRow } from "@/components/apps/runs/runs-live";
import type { FormAction } from "@/components/form";
import { DateTime, Notice } from "@/components/ui";
import { usePolling } from "@/components/use-polling";
import type { ActionState } from "@/lib/actions";
import type { LogChunk } from "@/lib/domain/log-chunk";

const WAIT_MS = 2_000;
const RETRY_MS = 10_000;
/** Output kept in the page: the run's log holds the container's last lines anyway; this bounds a chatty one. */
const MAX_SHOWN_CHARS = 1_000_000;

type Progress = { run: RunRow; chunk: LogChunk };
type Poll = (teamId: string, appId: string, runId: string, offset: number) => Promise<ActionState<Progress>>;

type RunOutputProps = {
  teamId: string;
  appId: string;
  initial: RunRow;
  poll: Poll;
  cancel: FormAction | null;
};

export function RunOutput({ teamId, appId, initial, poll, cancel }: RunOutputProps) {
  const [run, setRun] = useState(initial);
  const [text, setText] = useState("");
  const [complete, setComplete] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [offset, setOffset] = useState(0);

  usePolling(
    async ({ stopped }) => {
      let from = offset;
      try {
        // Drain what is there now chunk by chunk, then wait for more.
        for (;;) {
          const result = await poll(teamId, appId, initial.id, from);
          if (stopped()) return null;
          if (result.status !== "success" || !result.data) {
            setProblem(result.message ?? "The latest state could not be loaded.");
            return RETRY_MS;
          }
          const { run: latest, chunk } = result.data;
          setProblem(null);
          setRun(latest);
          if (chunk.text) setText((shown) => (shown + chunk.text).slice(-MAX_SHOWN_CHARS));
          const moved = chunk.nextOffset !== from;
          from = chunk.nextOffset;
          setOffset(from);
          if (chunk.complete) {
            setComplete(true);
            return null;
          }
          if (!moved) return WAIT_MS;
        }
      } catch {
        if (!stopped()) setProblem("Lost contact with the server.");
        return RETRY_MS;
      }
    },
    { firstDelayMs: 0, firstEvenIfHidden: true },
  );

  const active = isActiveRun(run.status);
  return (
    <div className="space-y-4">
      <dl className="grid grid-cols-1 gap-x-6 gap-y-2 text-sm sm:grid-cols-[max-content_1fr]">
        <dt className="text-zinc-500">Command</dt>
        <dd className="font-mono break-all" data-testid="run-command">
          {run.command}
        </dd>
        <dt className="text-zinc-500">Status</dt>
        <dd className="flex items-center gap-2">
          <RunStatusBadge status={run.status} exitCode={run.exitCode} />
          {run.reason ? <span className="text-zinc-600 dark:text-zinc-400">{run.reason}</span> : null}
        </dd>
        <dt className="text-zinc-500">Exit code</dt>
        <dd className="font-mono" data-testid="run-exit-code">
          {run.exitCode ?? "—"}
        </dd>
        <dt className="text-zinc-500">Started by</dt>
        <dd>{run.kind === "cron" ? `cron job ${run.cronJob?.name ?? "(deleted)"}` : (run.startedBy ?? "—")}</dd>
        <dt className="text-zinc-500">Queued</dt>
        <dd>
          <DateTime value={run.queuedAt} />
        </dd>
        <dt className="text-zinc-500">Finished</dt>
        <dd>
          <DateTime value={run.finishedAt} />
        </dd>
        <dt className="text-zinc-500">Time limit</dt>
        <dd>{run.timeoutSeconds} s</dd>
      </dl>
      {cancel && active ? (
        <ActionButton
          action={cancel}
          label="Cancel run"
          variant="danger"
          confirm="Stop this run?"
          fields={{ teamId, runId: run.id }}
        />
      ) : null}
      {problem ? (
        <Notice tone="warning" title="Live updates are interrupted">
          {problem} Trying again…
        </Notice>
      ) : null}
      <div>
        <h3 className="mb-2 font-medium text-sm">Output</h3>
        <pre
          data-testid="run-output"
          data-complete={complete ? "true" : "false"}
          className="max-h-[32rem] overflow-auto rounded-lg bg-zinc-950 p-3 font-mono text-xs text-zinc-100 whitespace-pre-wrap"
        >
          {text || (complete ? "(no output)" : active ? "Waiting for output…" : "")}
        </pre>
      </div>
    </div>
  );
}
