"use client";

// The deployment log (build, then release): monospace, following new lines as they arrive unless the reader has
// scrolled up to read something, in which case it stays put and offers a way back to the end.
import { useLayoutEffect, useRef, useState } from "react";
import { buttonClass } from "@/components/ui";

/** How close to the bottom (px) still counts as "at the end". */
const STICKY_SLACK = 24;

export function BuildLog({ text, trimmed, live }: { text: string; trimmed: boolean; live: boolean }) {
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
        {text || (live ? "Waiting for the build to start…" : "This deployment wrote no log.")}
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
