"use client";

// Runtime logs: the newest `tail` lines, then (while following) new ones every ~2 s. Polling pauses while the tab is
// hidden or the user pauses it. Each poll asks for the lines from the newest time already shown; lines at exactly that
// time come back again and are skipped.
import { useCallback, useEffect, useRef, useState } from "react";
import { buttonClass, inputClass, Notice } from "@/components/ui";
import type { ActionState } from "@/lib/actions";
import type { AppLogLine } from "@/lib/platform/app-logs";

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

const keyOf = (line: AppLogLine) => `${line.time}|${line.replica}|${line.stream}|${line.text}`;

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

  // A new tail: load it afresh, then follow from its newest line.
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let newest: string | undefined;
    let first = true;
    const schedule = (ms: number) => {
      clearTimeout(timer);
      if (!stopped) timer = setTimeout(tick, ms);
    };
    const tick = async () => {
      if (stopped || (!first && document.visibilityState !== "visible")) return;
      let delay = POLL_MS;
      try {
        const result = await poll(teamId, appId, newest ? { tail, since: newest } : { tail });
        if (stopped) return;
        if (result.status === "success" && result.data) {
          append(result.data.lines, first);
          newest = result.data.lines.at(-1)?.time ?? newest;
          setProblem(null);
          setLoaded(true);
        } else {
          setProblem(result.message ?? "The logs could not be loaded.");
          delay = RETRY_MS;
        }
      } catch {
        if (!stopped) setProblem("Lost contact with the server.");
        delay = RETRY_MS;
      }
      first = false;
      if (follow) schedule(delay);
    };
    const onVisibility = () => {
      if (follow && document.visibilityState === "visible") schedule(0);
    };
    schedule(0);
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [teamId, appId, tail, follow, poll, append]);

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
                  {line.time.slice(11, 19)} [{line.replica}]{" "}
                </span>
                {line.text}
                {"\n"}
              </span>
            ))}
      </pre>
    </div>
  );
}
