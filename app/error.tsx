"use client";

// A page that failed while rendering. Only the digest is shown: it matches the server log line of the failure, and
// the message or stack could carry internal detail (docs/security.md).
import Link from "next/link";
import { buttonClass } from "@/components/ui";

export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <main id="main" className="flex min-h-screen flex-col items-center bg-zinc-50 px-4 py-20 dark:bg-zinc-950">
      <Link href="/" className="mb-8 font-semibold text-brand-900 text-sm tracking-wide dark:text-brand-400">
        TUSSILAGO
      </Link>
      <h1 className="font-bold text-2xl tracking-tight">Something went wrong</h1>
      <p className="mt-2 max-w-md text-center text-sm text-zinc-600 dark:text-zinc-400">
        This page could not be shown. Try again; if it keeps failing, tell your administrator
        {error.digest ? (
          <>
            {" "}
            the reference <code className="font-mono text-xs">{error.digest}</code>
          </>
        ) : null}
        .
      </p>
      <div className="mt-6 flex gap-3">
        <button type="button" onClick={reset} className={buttonClass("primary")}>
          Try again
        </button>
        <Link href="/teams" className={buttonClass("secondary")}>
          Go to your teams
        </Link>
      </div>
    </main>
  );
}
