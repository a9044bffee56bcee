// Keyset pagination links: "first page" and "next page" (a cursor cannot go backwards). Other query parameters,
// such as filters, are kept.
import Link from "next/link";
import { buttonClass } from "@/components/ui";

type PagerProps = {
  path: string;
  cursor?: string | undefined;
  nextCursor: string | null;
  query?: Record<string, string>;
};

export function Pager({ path, cursor, nextCursor, query = {} }: PagerProps) {
  if (!cursor && !nextCursor) return null;
  const href = (next?: string) => {
    const params = new URLSearchParams(query);
    if (next) params.set("cursor", next);
    const search = params.toString();
    return search ? `${path}?${search}` : path;
  };
  return (
    <nav aria-label="Pagination" className="flex justify-between gap-2">
      {cursor ? (
        <Link href={href()} className={buttonClass("secondary")}>
          First page
        </Link>
      ) : (
        <span />
      )}
      {nextCursor ? (
        <Link href={href(nextCursor)} className={buttonClass("secondary")}>
          Next page
        </Link>
      ) : null}
    </nav>
  );
}
