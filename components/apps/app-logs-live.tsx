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

/** Filters over the kept lines (#17): all optional; times as RFC 3339. */
export type LogFilter = { process?: string; replica?: number; q?: string; from?: string; until?: string };

type Poll = (
  teamId: string,
  appId: string,
  query: { tail: number; since?: string; filter?: LogFilter },
) => Promise<ActionState<{ lines: AppLogLine[] }>>;
type Download = (teamId: string, appId: string, filter: LogFilter) => Promise<ActionState<{ text: string }>>;

/** The form's fields as a filter: empty fields are left out; datetime-local values read as local time. */
function filterOf(form: FormData): LogFilter {
  const text = (name: string) => {
    const value = form.get(name);
    return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
  };
  const time = (name: string) => {
    const value = text(name);
    return value && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : undefined;
  };
  const replica = text("replica");
  const filter: LogFilter = {};
  const process = text("process");
  const q = text("q");
  const from = time("from");
  const until = time("until");
  if (process) filter.process = process;
  if (replica !== undefined && /^[0-9]{1,3}$/.test(replica)) filter.replica = Number(replica);
  if (q) filter.q = q;
  if (from) filter.from = from;
  if (until) filter.until = until;
  return filter;
}

const keyOf = (line: AppLogLine) => `${line.time}|${line.process}|${line.replica}|${line.stream}|${line.text}`;

export function AppLogsLive({
  teamId,
  appId,
  running,
  poll,
  download,
}: {
  teamId: string;
  appId: string;
  running: boolean;
  poll: Poll;
  download: Download;
}) {
  const [tail, setTail] = useState<number>(200);
  const [filter, setFilter] = useState<LogFilter>({});
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
        const query = { tail, ...(since ? { since } : {}), ...(Object.keys(filter).length > 0 ? { filter } : {}) };
        const result = await poll(teamId, appId, query);
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
    { firstDelayMs: 0, firstEvenIfHidden: true, restartKey: `${appId}|${tail}|${follow}|${JSON.stringify(filter)}` },
  );

  // Keep the newest line in view unless the reader scrolled up.
  useEffect(() => {
    const element = box.current;
    if (element && stick.current && lines.length > 0) element.scrollTop = element.scrollHeight;
  }, [lines]);

  async function save(): Promise<void> {
    const result = await download(teamId, appId, filter);
    if (result.status !== "success" || !result.data) {
      setProblem(result.message ?? "The logs could not be downloaded.");
      return;
    }
    const url = URL.createObjectURL(new Blob([result.data.text], { type: "text/plain;charset=utf-8" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = `logs-${appId.slice(0, 8)}.txt`;
    link.click();
    URL.revokeObjectURL(url);
  }

  return (
    <div className="space-y-3">
      <form
        className="flex flex-wrap items-end gap-3"
        data-testid="logs-filter"
        onSubmit={(event) => {
          event.preventDefault();
          setFilter(filterOf(new FormData(event.currentTarget)));
        }}
      >
        <label className="flex flex-col gap-1 text-sm">
          Search
          <input name="q" maxLength={200} placeholder="plain text" className={`w-48 ${inputClass}`} />
        </label>
        <label className="flex flex-col gap-1 text-sm">
          Process
          <input name="process" maxLength={30} placeholder="web, worker…" className={`w-28 ${inputClass}`} />
        </label>
        <label className="flex flex-col gap-1 text-sm">
          Replica
          <input name="replica" inputMode="numeric" maxLength={3} className={`w-16 ${inputClass}`} />
        </label>
        <label className="flex flex-col gap-1 text-sm">
          From
          <input name="from" type="datetime-local" step={1} className={inputClass} />
        </label>
        <label className="flex flex-col gap-1 text-sm">
          Until
          <input name="until" type="datetime-local" step={1} className={inputClass} />
        </label>
        <button type="submit" className={buttonClass("secondary")}>
          Apply
        </button>
        <button
          type="button"
          className={buttonClass("secondary")}
          onClick={() => void save()}
          data-testid="logs-download"
        >
          Download
        </button>
      </form>
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
