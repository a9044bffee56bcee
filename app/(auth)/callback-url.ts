// Where to go after signing in or up. Only same-origin relative paths are honoured: anything else (absolute URLs,
// protocol-relative `//host`, backslash tricks browsers normalise into `//`, control characters) is an open
// redirect waiting to happen and is dropped.
const BASE = "http://callback.invalid";

export function safeCallbackUrl(value: unknown): string | null {
  if (typeof value !== "string" || value.length === 0 || value.length > 2000) return null;
  if (!value.startsWith("/") || value.startsWith("//")) return null;
  // Browsers strip tabs and newlines and treat `\` as `/`, so `/\evil.example` would leave the site.
  if (/[\\\s\p{Cc}]/u.test(value)) return null;
  let url: URL;
  try {
    url = new URL(value, BASE);
  } catch {
    return null;
  }
  if (url.origin !== BASE) return null;
  // API routes answer JSON, not pages; landing there after a sign-in is never what the user wants.
  if (url.pathname.startsWith("/api/")) return null;
  return `${url.pathname}${url.search}${url.hash}`;
}

/** `/sign-in?callbackUrl=...` (or sign-up) with the callback kept only when it is safe. */
export function authPageHref(page: "/sign-in" | "/sign-up", callbackUrl: unknown, extra: Record<string, string> = {}) {
  const params = new URLSearchParams(extra);
  const safe = safeCallbackUrl(callbackUrl);
  if (safe) params.set("callbackUrl", safe);
  const query = params.toString();
  return query ? `${page}?${query}` : page;
}
