"use client";

// The deployment log (build, then release): monospace, following new lines as they arrive unless the reader has
// scrolled up to read something, in which case it stays put and offers a way back to the end.
import { useLayoutEffect, useRef, useState } from "react";
import { ERROR_LINE_ID, splitAtLine } from "@/components/apps/log-error-line";
import { buttonClass } from "@/components/ui";

/** The log with one line marked (three text nodes, not one element per line: logs run to a megabyte). */
function Highlighted({ text, line }: { text: string; line: number | null }) {
  const parts = line === null ? null : splitAtLine(text, line);
  if (!parts) return text;
  const [before, marked, after] = parts;
  return (
    <>
      {before}
      <mark
        id={ERROR_LINE_ID}
        data-testid="log-error-line"
        // scroll-margin keeps the line clear of the log's top edge when the link scrolls to it.
        className="scroll-mt-16 rounded-sm bg-red-900/80 px-0.5 text-red-50 outline outline-1 outline-red-400"
      >
        {marked}
      </mark>
      {after}
    </>
  );
}

/** How close to the bottom (px) still counts as "at the end". */
const STICKY_SLACK = 24;

export function BuildLog({
  text,
  trimmed,
  live,
  highlightLine = null,
}: {
  text: string;
  trimmed: boolean;
  live: boolean;
  /** A line (0-based) to mark and give the anchor the failure banner links to. */
  highlightLine?: number | null;
}) {
  const ref = useRef<HTMLPreElement>(null);
  // A ref for the scroll handler and the layout effect; state only to show or hide the button.
  const following = useRef(true);
  const [showJump, setShowJump] = useState(false);

  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the text grows, which is the point
  useLayoutEffect(() => {
    const element = ref.current;
    if (element && following.current) element.scrollTop = element.scrollHeight;
  }, [text]);

  const onScroll = () => {
    const element = ref.current;
    if (!element) return;
    const atEnd = element.scrollHeight - element.scrollTop - element.clientHeight <= STICKY_SLACK;
    following.current = atEnd;
    setShowJump(!atEnd);
  };

  const jump = () => {
    const element = ref.current;
    if (!element) return;
    following.current = true;
    setShowJump(false);
    element.scrollTop = element.scrollHeight;
  };

  return (
    <div className="relative">
      {trimmed ? <p className="mb-2 text-xs text-zinc-500">The beginning of this long log is not shown.</p> : null}
      <pre
        ref={ref}
        onScroll={onScroll}
        data-testid="build-log"
        // Focusable so keyboard users can scroll it.
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
        tabIndex={0}
        className="max-h-[32rem] min-h-40 overflow-auto whitespace-pre-wrap break-all rounded-lg bg-zinc-950 p-4 font-mono text-xs text-zinc-100 leading-relaxed focus-visible:outline-2 focus-visible:outline-zinc-500"
      >
        {text ? (
          <Highlighted text={text} line={highlightLine} />
        ) : live ? (
          "Waiting for the build to start…"
        ) : (
          "This deployment wrote no log."
        )}
      </pre>
      {showJump ? (
        <button
          type="button"
          onClick={jump}
          className={buttonClass("secondary", "absolute right-4 bottom-4 shadow-md")}
        >
          Jump to the end
        </button>
      ) : null}
    </div>
  );
}
