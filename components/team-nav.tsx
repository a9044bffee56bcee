"use client";

// The team's section navigation. Which entries appear is decided on the server from the role; this only marks the
// current one.
import Link from "next/link";
import { usePathname } from "next/navigation";

export type NavItem = { href: string; label: string; exact?: boolean };

// Databases and Redis follow Apps. They need databases:read, which every role has (lib/auth/permissions.ts), so
// they go wherever Apps goes.
function withServices(items: NavItem[]): NavItem[] {
  return items.flatMap((item) =>
    item.href.endsWith("/apps")
      ? [
          item,
          { href: `${item.href.slice(0, -"/apps".length)}/databases`, label: "Databases" },
          { href: `${item.href.slice(0, -"/apps".length)}/redis`, label: "Redis" },
        ]
      : [item],
  );
}

export function TeamNav({ items: sections }: { items: NavItem[] }) {
  const pathname = usePathname();
  const items = withServices(sections);
  return (
    <nav aria-label="Team" className="-mb-px flex gap-1 overflow-x-auto">
      {items.map((item) => {
        const active = item.exact ? pathname === item.href : pathname.startsWith(item.href);
        return (
          <Link
            key={item.href}
            href={item.href}
            aria-current={active ? "page" : undefined}
            className={`whitespace-nowrap border-b-2 px-3 py-2.5 font-medium text-sm ${
              active
                ? "border-brand-500 text-zinc-900 dark:text-white"
                : "border-transparent text-zinc-600 hover:border-zinc-300 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-white"
            }`}
          >
            {item.label}
          </Link>
        );
      })}
    </nav>
  );
}
