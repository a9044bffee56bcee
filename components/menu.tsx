"use client";

// A disclosure menu on <details>: works without JavaScript; with it, closes on navigation, Escape and outside clicks.
import { usePathname } from "next/navigation";
import { type ReactNode, useEffect, useRef } from "react";

export function Menu({
  summary,
  align = "left",
  children,
}: {
  summary: ReactNode;
  align?: "left" | "right";
  children: ReactNode;
}) {
  const ref = useRef<HTMLDetailsElement>(null);
  const pathname = usePathname();

  // Re-run when the path changes so a menu left open closes after navigating.
  useEffect(() => {
    if (pathname && ref.current) ref.current.open = false;
  }, [pathname]);

  useEffect(() => {
    const close = (event: Event) => {
      const details = ref.current;
      if (!details?.open) return;
      if (event instanceof KeyboardEvent) {
        if (event.key === "Escape") details.open = false;
        return;
      }
      if (event.target instanceof Node && !details.contains(event.target)) details.open = false;
    };
    document.addEventListener("click", close);
    document.addEventListener("keydown", close);
    return () => {
      document.removeEventListener("click", close);
      document.removeEventListener("keydown", close);
    };
  }, []);

  return (
    <details ref={ref} className="group relative">
      <summary className="flex cursor-pointer list-none items-center gap-2 rounded-md px-2.5 py-1.5 text-sm hover:bg-zinc-100 dark:hover:bg-zinc-800 [&::-webkit-details-marker]:hidden">
        {summary}
        <span aria-hidden="true" className="text-xs text-zinc-500 transition-transform group-open:rotate-180">
          ▾
        </span>
      </summary>
      <div
        className={`absolute z-20 mt-1 w-64 rounded-lg border border-zinc-200 bg-white p-1.5 shadow-lg dark:border-zinc-800 dark:bg-zinc-900 ${align === "right" ? "right-0" : "left-0"}`}
      >
        {children}
      </div>
    </details>
  );
}
