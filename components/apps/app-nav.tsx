"use client";

// The app's sections, as tabs under the app's name. The app's own path is a prefix of every other one (its
// deployments included), so the longest matching entry is the current one.
import Link from "next/link";
import { usePathname } from "next/navigation";

export type AppNavItem = { href: string; label: string };

export function AppNav({ items }: { items: AppNavItem[] }) {
  const pathname = usePathname();
  const current = items
    .filter((item) => pathname === item.href || pathname.startsWith(`${item.href}/`))
    .sort((a, b) => b.href.length - a.href.length)[0];
  return (
    <nav aria-label="App" className="flex gap-1 overflow-x-auto">
      {items.map((item) => {
        const active = item === current;
        return (
          <Link
            key={item.href}
            href={item.href}
            aria-current={active ? "page" : undefined}
            className={`whitespace-nowrap rounded-md px-3 py-1.5 font-medium text-sm ${
              active
                ? "bg-zinc-900 text-white dark:bg-white dark:text-zinc-900"
                : "text-zinc-600 hover:bg-zinc-200/60 hover:text-zinc-900 dark:text-zinc-400 dark:hover:bg-zinc-800 dark:hover:text-white"
            }`}
          >
            {item.label}
          </Link>
        );
      })}
    </nav>
  );
}
