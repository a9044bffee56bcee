// May this host be fetched from: its DNS answers, all public (the URL itself is checked in url-policy.ts first).
import type { LookupAddress } from "node:dns";
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import { SourceError } from "../source-errors";
import { isPublicAddress } from "./addresses";
import { errorCode } from "./errno";
import { forbiddenHost } from "./url-policy";

export const DNS_TIMEOUT_MS = 10_000;

/** Compatible with `lookup` from node:dns/promises; injectable for tests. */
export type HostLookup = (hostname: string, options: { all: true }) => Promise<LookupAddress[]>;

export type ResolveAndCheckOptions = { allowPrivateHosts: boolean; lookup?: HostLookup; timeoutMs?: number };

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves the host and refuses it when ANY address is not public: a name with one public and one private address
 * would otherwise let the connection land on the private one. Answers the addresses (for `http.curloptResolve`);
 * [] when private hosts are allowed and nothing needs checking. IP literals are checked without DNS.
 *
 * DNS rebinding: git resolves the name again when it connects, and a hostile DNS server can answer differently the
 * second time. fetchGitSource closes that gap by handing these addresses to git's libcurl (`http.curloptResolve`,
 * git >= 2.37), so git connects to exactly the addresses checked here; redirects, which would reach another,
 * unchecked host, are not followed.
 */
export async function resolveAndCheckHost(hostname: string, options: ResolveAndCheckOptions): Promise<string[]> {
  const bare = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  if (isIP(bare) !== 0) {
    if (!options.allowPrivateHosts && !isPublicAddress(bare)) throw forbiddenHost(hostname);
    return [bare];
  }
  if (options.allowPrivateHosts) return [];
  const lookup: HostLookup = options.lookup ?? dnsLookup;
  let results: LookupAddress[];
  try {
    results = await withTimeout(
      lookup(bare, { all: true }),
      options.timeoutMs ?? DNS_TIMEOUT_MS,
      () => new SourceError("clone_failed", `Looking up the host ${bare} took too long.`, { retryable: true }),
    );
  } catch (error) {
    if (error instanceof SourceError) throw error;
    const code = errorCode(error);
    const notFound = code === "ENOTFOUND" || code === "EAI_NONAME" || code === "ENODATA";
    throw new SourceError(
      "clone_failed",
      notFound ? `The host ${bare} was not found.` : `The host ${bare} could not be looked up.`,
      { cause: error, retryable: !notFound, detail: code },
    );
  }
  const addresses = [...new Set(results.map((result) => result.address))];
  if (addresses.length === 0) throw new SourceError("clone_failed", `The host ${bare} has no addresses.`);
  const refused = addresses.filter((address) => !isPublicAddress(address));
  if (refused.length > 0) {
    // The tenant learns that the name is refused, not which internal address it maps to.
    throw new SourceError(
      "forbidden_host",
      `The host ${bare} resolves to a local, private or reserved address; only public hosts can be cloned from.`,
      { detail: `resolved to ${refused.join(", ")}` },
    );
  }
  return addresses;
}
