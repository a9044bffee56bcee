// DNS lookups through node:dns's Resolver (c-ares), with a per-query timeout, a bounded number of tries and a total
// deadline, against the system's name servers or the ones configured (TUSSILAGO_DNS_RESOLVERS; tests point it at a
// local server). Each lookup answers "found", "missing" (NXDOMAIN or no record of that type) or "error" (SERVFAIL,
// timeout, refused...): the caller must never read a failed lookup as a missing record.
import { Resolver } from "node:dns/promises";

export type LookupResult<T> =
  | { status: "found"; values: T[] }
  | { status: "missing" }
  | { status: "error"; code: string };

export type DnsResolverOptions = {
  /** host:port entries as Resolver.setServers takes them; empty: the system's resolvers. */
  servers: readonly string[];
  /** Per query, milliseconds. */
  timeoutMs: number;
  /** Tries per query (c-ares retries with a longer timeout each time). */
  tries: number;
};

export type DnsLookups = {
  txt(name: string): Promise<LookupResult<string>>;
  addresses(name: string): Promise<LookupResult<string>>;
  cname(name: string): Promise<LookupResult<string>>;
  /** Cancels every lookup in flight (they answer "error" ECANCELLED). */
  cancel(): void;
};

// NXDOMAIN, and "the name exists but has no record of this type": both mean the record is not there.
const MISSING_CODES = new Set(["ENOTFOUND", "ENODATA"]);

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "EUNKNOWN";
}

async function lookup<T>(cancelled: () => boolean, run: () => Promise<T[]>): Promise<LookupResult<T>> {
  if (cancelled()) return { status: "error", code: "ECANCELLED" };
  try {
    const values = await run();
    return values.length === 0 ? { status: "missing" } : { status: "found", values };
  } catch (error) {
    const code = codeOf(error);
    return MISSING_CODES.has(code) ? { status: "missing" } : { status: "error", code };
  }
}

export function createDnsLookups(options: DnsResolverOptions): DnsLookups {
  const resolver = new Resolver({ timeout: options.timeoutMs, tries: options.tries });
  if (options.servers.length > 0) resolver.setServers([...options.servers]);
  // Once cancelled, later lookups fail at once too: a deadline ends the whole check, not only the query in flight.
  let cancelled = false;
  const isCancelled = () => cancelled;
  return {
    // A TXT record is a list of character strings (each at most 255 bytes): its value is their concatenation.
    txt: (name) => lookup(isCancelled, async () => (await resolver.resolveTxt(name)).map((chunks) => chunks.join(""))),
    async addresses(name) {
      const [v4, v6] = await Promise.all([
        lookup(isCancelled, () => resolver.resolve4(name)),
        lookup(isCancelled, () => resolver.resolve6(name)),
      ]);
      const values = [...(v4.status === "found" ? v4.values : []), ...(v6.status === "found" ? v6.values : [])];
      if (values.length > 0) return { status: "found", values };
      if (v4.status === "error") return v4;
      if (v6.status === "error") return v6;
      return { status: "missing" };
    },
    cname: (name) => lookup(isCancelled, () => resolver.resolveCname(name)),
    cancel() {
      cancelled = true;
      resolver.cancel();
    },
  };
}
