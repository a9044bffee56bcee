import type { Metadata } from "next";
import Link from "next/link";
import { buttonClass } from "@/components/ui";

export const metadata: Metadata = { title: "Page not found" };

// Also what a resource the reader may not see looks like (the portal answers notFound() rather than "forbidden",
// so it never confirms that someone else's app exists): the wording covers both.
export default function NotFound() {
  return (
    <main id="main" className="flex min-h-screen flex-col items-center bg-zinc-50 px-4 py-20 dark:bg-zinc-950">
      <Link href="/" className="mb-8 font-semibold text-brand-900 text-sm tracking-wide dark:text-brand-400">
        TUSSILAGO
      </Link>
      <h1 className="font-bold text-2xl tracking-tight">Page not found</h1>
      <p className="mt-2 max-w-md text-center text-sm text-zinc-600 dark:text-zinc-400">
        This page does not exist, or your account cannot see it. Check the address, or go back to your teams.
      </p>
      <Link href="/teams" className={buttonClass("primary", "mt-6")}>
        Go to your teams
      </Link>
    </main>
  );
}
