// Presentational building blocks shared by the portal's pages: no data access, no hooks, usable from server and
// client components alike.
import Link from "next/link";
import type { ReactNode } from "react";

export type ButtonVariant = "primary" | "secondary" | "danger" | "danger-soft" | "ghost";

const BUTTON_BASE =
  "inline-flex items-center justify-center gap-2 rounded-md px-3.5 py-2 font-medium text-sm transition-colors " +
  "focus-visible:outline-2 focus-visible:outline-offset-2 disabled:cursor-not-allowed disabled:opacity-60";

const BUTTON_VARIANTS: Record<ButtonVariant, string> = {
  primary:
    "bg-zinc-900 text-white hover:bg-zinc-700 focus-visible:outline-zinc-900 dark:bg-white dark:text-zinc-900 " +
    "dark:hover:bg-zinc-200",
  secondary:
    "border border-zinc-300 bg-white text-zinc-900 hover:bg-zinc-50 focus-visible:outline-zinc-500 " +
    "dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100 dark:hover:bg-zinc-800",
  danger: "bg-red-600 text-white hover:bg-red-700 focus-visible:outline-red-600",
  "danger-soft":
    "border border-red-200 bg-white text-red-700 hover:bg-red-50 focus-visible:outline-red-600 " +
    "dark:border-red-900 dark:bg-zinc-900 dark:text-red-400 dark:hover:bg-red-950",
  ghost: "text-zinc-700 hover:bg-zinc-100 focus-visible:outline-zinc-500 dark:text-zinc-300 dark:hover:bg-zinc-800",
};

export function buttonClass(variant: ButtonVariant = "primary", extra = ""): string {
  return `${BUTTON_BASE} ${BUTTON_VARIANTS[variant]} ${extra}`.trim();
}

export const inputClass =
  "block w-full rounded-md border border-zinc-300 bg-white px-3 py-2 text-sm shadow-xs placeholder:text-zinc-500 " +
  "focus:border-zinc-500 focus:outline-2 focus:outline-zinc-300 aria-invalid:border-red-500 read-only:bg-zinc-50 " +
  "dark:border-zinc-700 dark:bg-zinc-900 dark:read-only:bg-zinc-800 dark:focus:outline-zinc-600";

export function Card({
  title,
  description,
  children,
}: {
  title?: string;
  description?: ReactNode;
  children: ReactNode;
}) {
  return (
    <section className="rounded-xl border border-zinc-200 bg-white p-5 sm:p-6 dark:border-zinc-800 dark:bg-zinc-950">
      {title ? <h2 className="font-semibold text-base">{title}</h2> : null}
      {description ? <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">{description}</p> : null}
      <div className={title || description ? "mt-4" : ""}>{children}</div>
    </section>
  );
}

export function PageHeader({
  title,
  description,
  actions,
}: {
  title: string;
  description?: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <div className="flex flex-col gap-3 sm:flex-row sm:items-end sm:justify-between">
      <div>
        <h1 className="font-bold text-2xl tracking-tight">{title}</h1>
        {description ? <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">{description}</p> : null}
      </div>
      {actions ? <div className="flex shrink-0 gap-2">{actions}</div> : null}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="rounded-xl border border-zinc-300 border-dashed px-6 py-10 text-center dark:border-zinc-700">
      <p className="font-medium">{title}</p>
      {children ? <div className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">{children}</div> : null}
    </div>
  );
}

export type Tone = "info" | "success" | "warning" | "error";

const TONES: Record<Tone, string> = {
  info: "border-zinc-200 bg-zinc-50 text-zinc-800 dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-200",
  success:
    "border-emerald-200 bg-emerald-50 text-emerald-900 dark:border-emerald-900 dark:bg-emerald-950 dark:text-emerald-100",
  warning: "border-amber-200 bg-amber-50 text-amber-900 dark:border-amber-900 dark:bg-amber-950 dark:text-amber-100",
  error: "border-red-200 bg-red-50 text-red-900 dark:border-red-900 dark:bg-red-950 dark:text-red-100",
};

/** A block of text for the reader. Errors are alerts so screen readers announce them; the rest are statuses. */
export function Notice({ tone = "info", title, children }: { tone?: Tone; title?: string; children: ReactNode }) {
  return (
    <div role={tone === "error" ? "alert" : "status"} className={`rounded-lg border px-4 py-3 text-sm ${TONES[tone]}`}>
      {title ? <p className="font-semibold">{title}</p> : null}
      <div className={title ? "mt-1" : ""}>{children}</div>
    </div>
  );
}

const BADGE_TONES = {
  neutral: "bg-zinc-100 text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300",
  brand: "bg-brand-100 text-brand-900 dark:bg-brand-900 dark:text-brand-100",
  green: "bg-emerald-100 text-emerald-800 dark:bg-emerald-900 dark:text-emerald-100",
  red: "bg-red-100 text-red-800 dark:bg-red-900 dark:text-red-100",
  amber: "bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100",
} as const;

export function Badge({ tone = "neutral", children }: { tone?: keyof typeof BADGE_TONES; children: ReactNode }) {
  return (
    <span className={`inline-flex items-center rounded-full px-2 py-0.5 font-medium text-xs ${BADGE_TONES[tone]}`}>
      {children}
    </span>
  );
}

export function TextLink({ href, children }: { href: string; children: ReactNode }) {
  return (
    <Link
      href={href}
      className="font-medium text-zinc-900 underline underline-offset-2 hover:text-zinc-600 dark:text-zinc-100"
    >
      {children}
    </Link>
  );
}

const DATE_FORMAT = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });
const RELATIVE_FORMAT = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const RELATIVE_STEPS: readonly [Intl.RelativeTimeFormatUnit, number][] = [
  ["second", 60],
  ["minute", 60],
  ["hour", 24],
  ["day", 30],
];

/**
 * The portal's one date format, "3 Dec 2026, 18:04 UTC". UTC because pages are rendered on the server, where the
 * browser's zone is unknown, and a fixed zone keeps server and client renders equal.
 */
export function formatDateTime(value: Date): string {
  return `${DATE_FORMAT.format(value)} UTC`;
}

/** "5 minutes ago", "in 2 hours"; beyond a month only the absolute date is useful. */
export function formatRelative(value: Date, now: Date = new Date()): string | null {
  let amount = (value.getTime() - now.getTime()) / 1000;
  for (const [unit, size] of RELATIVE_STEPS) {
    if (Math.abs(amount) < size) return RELATIVE_FORMAT.format(Math.round(amount), unit);
    amount /= size;
  }
  return null;
}

/** A date in the one format; `relative` adds "(5 minutes ago)" where recency is what the reader wants. */
export function DateTime({
  value,
  empty = "—",
  relative = false,
}: {
  value: Date | null;
  empty?: string;
  relative?: boolean;
}) {
  if (!value) return <span className="text-zinc-500">{empty}</span>;
  const ago = relative ? formatRelative(value) : null;
  return (
    <time dateTime={value.toISOString()} title={formatDateTime(value)}>
      {formatDateTime(value)}
      {ago ? ` (${ago})` : ""}
    </time>
  );
}
