"use client";

// A secret shown exactly once (an invitation link, an API token): read-only, selectable, with a copy button. It
// lives only in the action's returned state, so reloading the page makes it disappear for good.
import { useId, useState } from "react";
import { buttonClass, inputClass } from "@/components/ui";

export function CopyOnce({ label, value, note }: { label: string; value: string; note: string }) {
  const id = useId();
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      // Clipboard access can be refused (insecure origin, permissions); the field stays selectable by hand.
      setCopied(false);
    }
  };
  return (
    <div className="rounded-lg border border-amber-300 bg-amber-50 p-4 dark:border-amber-800 dark:bg-amber-950">
      <label htmlFor={id} className="block font-medium text-sm">
        {label}
      </label>
      <div className="mt-1.5 flex gap-2">
        <input
          id={id}
          readOnly
          value={value}
          onFocus={(event) => event.currentTarget.select()}
          className={`${inputClass} font-mono`}
          aria-describedby={`${id}-note`}
        />
        <button type="button" onClick={copy} className={buttonClass("secondary", "shrink-0")}>
          {copied ? "Copied" : "Copy"}
        </button>
      </div>
      <p id={`${id}-note`} className="mt-2 text-amber-900 text-sm dark:text-amber-100">
        {note}
      </p>
    </div>
  );
}
