import { isIP, isIPv6 } from "node:net";
import type { Executor } from "@/lib/infra/exec";
import { type ClonedCommit, runClone, timeoutError } from "./clone";
import { DNS_TIMEOUT_MS, type HostLookup, resolveAndCheckHost } from "./dns";
import { validateGitRef, validateGitUrl } from "./url-policy";

// Deploy pipeline step 1 for git sources: validate the tenant's URL and ref, check where the host resolves, then run
// a hardened shallow `git clone` (or init + fetch for a commit SHA) through the Executor, with time and size limits.
// Everything here treats the URL, the ref and the repository's content as hostile (docs/security.md).
//
// The rooms: url-policy.ts (may this URL and ref be fetched; pure, the domain uses it) and dns.ts (where the host
// resolves) over addresses.ts (which IP addresses are public), clone.ts (git's arguments, environment and errors),
// limits.ts (the destination, its size, its links).

export { isPublicAddress } from "./addresses";
export {
  buildCloneArgs,
  type CloneArgsInput,
  type ClonedCommit,
  commitInfoArgs,
  parseCommitInfo,
  type RunCloneOptions,
  runClone,
} from "./clone";
export { type HostLookup, type ResolveAndCheckOptions, resolveAndCheckHost } from "./dns";
export { formatBytes } from "./limits";
export { isCommitSha, MAX_GIT_REF_LENGTH, MAX_GIT_URL_LENGTH, validateGitRef, validateGitUrl } from "./url-policy";

export type FetchGitSourceOptions = {
  url: string;
  /** Branch, tag or full commit SHA; the default branch when omitted. */
  ref?: string;
  /** Absolute path; must not exist or be an empty directory. Holds the work tree (without .git) on success. */
  dest: string;
  gitPath?: string;
  /** For the DNS lookup and all git commands together. */
  timeoutMs: number;
  maxBytes: number;
  /** For self-hosted setups whose git server is on the private network. Never derived from tenant input. */
  allowPrivateHosts: boolean;
  lookup?: HostLookup;
  pathEnv?: string;
};

/**
 * Validates the URL and ref, checks the host's addresses, then clones with git pinned to those addresses. Every
 * refusal happens before any command runs. Throws SourceError (codes invalid_url, forbidden_host, invalid_ref,
 * clone_failed, timeout, too_large, unsafe_path).
 */
export async function fetchGitSource(exec: Executor, options: FetchGitSourceOptions): Promise<ClonedCommit> {
  const started = Date.now();
  const url = validateGitUrl(options.url, { allowPrivateHosts: options.allowPrivateHosts });
  const ref = options.ref === undefined ? undefined : validateGitRef(options.ref);
  const addresses = await resolveAndCheckHost(url.hostname, {
    allowPrivateHosts: options.allowPrivateHosts,
    lookup: options.lookup,
    timeoutMs: Math.min(DNS_TIMEOUT_MS, options.timeoutMs),
  });
  const isLiteral = isIP(url.hostname.replace(/^\[|\]$/g, "")) !== 0;
  const port = url.port === "" ? "443" : url.port;
  const resolve =
    addresses.length > 0 && !isLiteral
      ? [`${url.hostname}:${port}:${addresses.map((a) => (isIPv6(a) ? `[${a}]` : a)).join(",")}`]
      : [];
  const remaining = options.timeoutMs - (Date.now() - started);
  if (remaining <= 0) throw timeoutError(options.timeoutMs);
  return runClone(exec, {
    url: url.href,
    ref,
    dest: options.dest,
    gitPath: options.gitPath,
    timeoutMs: remaining,
    maxBytes: options.maxBytes,
    resolve,
    pathEnv: options.pathEnv,
  });
}
