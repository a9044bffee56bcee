"use client";

// A copy button for one DNS record field. A native button (Enter and Space work, focus is visible), labelled with
// what it copies for screen readers, and a polite live region that says whether the copy worked: clipboard access
// can be refused (an insecure origin, permissions), and then the value stays selectable by hand.
import { useState } from "react";
import { buttonClass } from "@/components/ui";

export function CopyButton({ value, label }: { value: string; label: string }) {
  const [result, setResult] = useState<"copied" | "failed" | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setResult("copied");
    } catch {
      setResult("failed");
    }
  };
  return (
    <span className="inline-flex items-center gap-2">
      <button
        type="button"
        onClick={copy}
        aria-label={label}
        title={label}
        className={buttonClass("secondary", "px-2 py-1 text-xs")}
      >
        {result === "copied" ? "Copied" : "Copy"}
      </button>
      <span aria-live="polite" className="sr-only">
        {result === "copied" ? "Copied" : result === "failed" ? "Copy failed; select the value instead" : ""}
      </span>
    </span>
  );
}
