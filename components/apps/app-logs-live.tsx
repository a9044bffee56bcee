"use client";

// Runtime logs: the newest `tail` lines, then (while following) new ones every ~2 s. Polling pauses while the tab is
// hidden or the user pauses it. Each poll asks for the lines from the newest time already shown; lines at exactly that
// time come back again and are skipped.
import { useCallback, useEffect, useRef, useState } from "react";
import { buttonClass, inputClass, Notice } from "@/components/ui";
import { usePolling } from "@/components/use-polling";
import type { ActionState } from "@/lib/actions";
import type { AppLogLine } from "@/lib/app-log-file";

const POLL_MS = 2_000;
const RETRY_MS = 5_000;
/** The browser keeps at most this many lines. */
const MAX_LINES = 5_000;
const TAILS = [100, 200, 500, 1000] as const;

type Poll = (
  teamId: string,
  appId: string,
  query: { tail: number; since?: string },
) => Promise<ActionState<{ lines: AppLogLine[] }>>;

const keyOf = (line: AppLogLine) => `${line.time}|${line.process}|${line.replica}|${line.stream}|${line.text}`;

export function AppLogsLive({
  teamId,
  appId,
  running,
  poll,
}: {
  teamId: string;
  appId: string;
  running: boolean;
  poll: Poll;
}) {
  const [tail, setTail] = useState<number>(200);
  const [follow, setFollow] = useState(running);
  const [lines, setLines] = useState<AppLogLine[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const box = useRef<HTMLPreElement>(null);
  const stick = useRef(true);

  const append = useCallback((fresh: AppLogLine[], replace: boolean) => {
    setLines((previous) => {
      const base = replace ? [] : previous;
      const last = base.at(-1)?.time;
      const seen = new Set(base.filter((line) => line.time === last).map(keyOf));
      const next = [...base, ...fresh.filter((line) => !seen.has(keyOf(line)))];
      return next.length > MAX_LINES ? next.slice(-MAX_LINES) : next;
    });
  }, []);

  // The newest time shown in this run of polling: the next poll asks for what came after it.
  const newest = useRef<string | undefined>(undefined);

  usePolling(
    async ({ stopped, first }) => {
      if (first) newest.current = undefined;
      let delay = POLL_MS;
      try {
        const since = newest.current;
        const result = await poll(teamId, appId, since ? { tail, since } : { tail });
        if (stopped()) return null;
        if (result.status === "success" && result.data) {
          append(result.data.lines, first);
          newest.current = result.data.lines.at(-1)?.time ?? newest.current;
          setProblem(null);
          setLoaded(true);
        } else {
          setProblem(result.message ?? "The logs could not be loaded.");
          delay = RETRY_MS;
        }
      } catch {
        if (!stopped()) setProblem("Lost contact with the server.");
        delay = RETRY_MS;
      }
      return follow ? delay : null;
    },
    // A new tail, or following again: load afresh, then follow from its newest line.
    { firstDelayMs: 0, firstEvenIfHidden: true, restartKey: `${appId}|${tail}|${follow}` },
  );

  // Keep the newest line in view unless the reader scrolled up.
  useEffect(() => {
    const element = box.current;
    if (element && stick.current && lines.length > 0) element.scrollTop = element.scrollHeight;
  }, [lines]);

  return (
    <div className="space-y-3">
      <div className="flex flex-wrap items-center gap-3">
        <label className="flex items-center gap-2 text-sm">
          Last
          <select
            value={tail}
            onChange={(event) => setTail(Number(event.target.value))}
            className={`w-24 ${inputClass}`}
            data-testid="logs-tail"
          >
            {TAILS.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
          lines
        </label>
        <button
          type="button"
          className={buttonClass("secondary")}
          onClick={() => setFollow((value) => !value)}
          aria-pressed={follow}
          data-testid="logs-follow"
        >
          {follow ? "Pause" : "Follow"}
        </button>
        <span className="text-xs text-zinc-500" aria-live="polite">
          {follow ? "Following new lines" : "Paused"}
        </span>
      </div>
      {problem ? <Notice tone="warning">{problem}</Notice> : null}
      {!running ? <Notice>The app is not running: these are the last lines it printed.</Notice> : null}
      <pre
        ref={box}
        onScroll={(event) => {
          const element = event.currentTarget;
          stick.current = element.scrollHeight - element.scrollTop - element.clientHeight < 40;
        }}
        className="max-h-[32rem] min-h-48 overflow-auto whitespace-pre-wrap break-words rounded-lg bg-zinc-950 p-4 font-mono text-xs text-zinc-100"
        data-testid="app-logs"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
        tabIndex={0}
      >
        {lines.length === 0
          ? loaded
            ? "No output yet."
            : "Loading…"
          : lines.map((line) => (
              <span key={keyOf(line)} className={line.stream === "stderr" ? "text-amber-300" : undefined}>
                <span className="select-none text-zinc-500">
                  {line.time.slice(11, 19)} [{line.process === "web" ? line.replica : `${line.process}.${line.replica}`}
                  ]{" "}
                </span>
                {line.text}
                {"\n"}
              </span>
            ))}
      </pre>
    </div>
  );
}
