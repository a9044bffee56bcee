import Link from "next/link";
import type { ReactNode } from "react";

export default function AuthLayout({ children }: { children: ReactNode }) {
  return (
    <main id="main" className="flex min-h-screen flex-col items-center bg-zinc-50 px-4 py-12 sm:py-20 dark:bg-zinc-950">
      <Link href="/" className="mb-8 font-semibold text-brand-900 text-sm tracking-wide dark:text-brand-400">
        TUSSILAGO
      </Link>
      <div className="w-full max-w-sm rounded-xl border border-zinc-200 bg-white p-6 shadow-sm sm:p-8 dark:border-zinc-800 dark:bg-zinc-900">
        {children}
      </div>
    </main>
  );
}
