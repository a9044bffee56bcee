import { isIP, isIPv6 } from "node:net";
import path from "node:path";
import type { Executor } from "@/lib/infra/exec";
import { SourceError } from "../source-errors";
import { type ClonedCommit, runClone, timeoutError } from "./clone";
import { DNS_TIMEOUT_MS, type HostLookup, resolveAndCheckHost } from "./dns";
import { combinedCaBundle, tokenAuthEnv } from "./https-auth";
import { prepareSsh } from "./ssh";
import { sshUrlParts, validateGitRef, validateGitUrl } from "./url-policy";

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
export { type HostKey, parseHostKey, scanHostKeys, sshFingerprint } from "./host-keys";
export { type ShippedHostKey, shippedHostKeys } from "./known-hosts";
export { formatBytes } from "./limits";
export {
  isCommitSha,
  MAX_GIT_REF_LENGTH,
  MAX_GIT_URL_LENGTH,
  type SshUrlParts,
  sshUrlParts,
  validateGitRef,
  validateGitUrl,
} from "./url-policy";

/** Where an SSH clone connects: the URL's host (brackets stripped), port, and the checked address (null: by name). */
export type SshTarget = { host: string; port: number; address: string | null };

/**
 * The app's credentials, asked only when the URL needs them (the worker implements this over the database; the
 * private key and the token are unsealed only there).
 */
export type GitAccess = {
  /** A read token for HTTPS, or null for a public repository. */
  httpsToken(): Promise<{ username: string; token: string } | null>;
  /**
   * The deploy key and the confirmed host keys of the target. Throws SourceError with what the user must do when
   * there is no deploy key or the host's key is not confirmed yet.
   */
  ssh(target: SshTarget): Promise<{ privateKey: string; hostKeys: { keyType: string; publicKey: string }[] }>;
};

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
  /** Credentials for private repositories; without it only public https repositories can be cloned. */
  access?: GitAccess;
  /** TUSSILAGO_GIT_CA_FILE: trusted for HTTPS in addition to the system's CAs. */
  caFile?: string | null;
  /** Where the combined CA bundle is written (default: a private temp directory, once per process). */
  caBundleDir?: string;
  /** The ssh binary the GIT_SSH wrapper runs (default: "ssh" in pathEnv). */
  sshPath?: string;
};

const SSH_CONNECT_TIMEOUT_S = 20;

/**
 * Validates the URL and ref, checks the host's addresses, then clones with git pinned to those addresses. Every
 * refusal happens before any command runs. Throws SourceError (codes invalid_url, forbidden_host, invalid_ref,
 * clone_failed, timeout, too_large, unsafe_path).
 */
export async function fetchGitSource(exec: Executor, options: FetchGitSourceOptions): Promise<ClonedCommit> {
  const started = Date.now();
  const url = validateGitUrl(options.url, { allowPrivateHosts: options.allowPrivateHosts });
  const ref = options.ref === undefined ? undefined : validateGitRef(options.ref);
  if (url.protocol === "ssh:") return fetchOverSsh(exec, options, url, ref, started);
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
  const token = options.access ? await options.access.httpsToken() : null;
  const auth = token ? tokenAuthEnv(token) : null;
  const extraConfig = options.caFile
    ? [`http.sslCAInfo=${await combinedCaBundle(options.caFile, options.caBundleDir)}`]
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
    ...(extraConfig.length > 0 ? { extraConfig } : {}),
    ...(auth ? { env: auth.env, secrets: auth.secrets } : {}),
  });
}

/**
 * SSH: the host is checked like an https host and ssh connects to the checked address (HostName) while verifying the
 * host key under the URL's name (HostKeyAlias), with only the deploy key and only the confirmed host keys
 * (StrictHostKeyChecking yes), configured through files rather than a command string (ssh.ts).
 */
async function fetchOverSsh(
  exec: Executor,
  options: FetchGitSourceOptions,
  url: URL,
  ref: string | undefined,
  started: number,
): Promise<ClonedCommit> {
  const parts = sshUrlParts(url);
  const host = parts.host.replace(/^\[|\]$/g, "");
  const addresses = await resolveAndCheckHost(parts.host, {
    allowPrivateHosts: options.allowPrivateHosts,
    lookup: options.lookup,
    timeoutMs: Math.min(DNS_TIMEOUT_MS, options.timeoutMs),
  });
  if (!options.access) {
    throw new SourceError("clone_failed", "Cloning over SSH needs the app's deploy key; create one for this app.");
  }
  const credentials = await options.access.ssh({ host, port: parts.port, address: addresses[0] ?? null });
  const setup = await prepareSsh({
    parent: path.dirname(options.dest),
    privateKey: credentials.privateKey,
    host,
    address: addresses[0] ?? null,
    port: parts.port,
    user: parts.user,
    hostKeys: credentials.hostKeys,
    connectTimeoutS: SSH_CONNECT_TIMEOUT_S,
    sshPath: options.sshPath,
  });
  try {
    const remaining = options.timeoutMs - (Date.now() - started);
    if (remaining <= 0) throw timeoutError(options.timeoutMs);
    return await runClone(exec, {
      url: url.href,
      ref,
      dest: options.dest,
      gitPath: options.gitPath,
      timeoutMs: remaining,
      maxBytes: options.maxBytes,
      extraConfig: ["protocol.ssh.allow=always"],
      pathEnv: options.pathEnv,
      env: setup.env,
      secrets: [credentials.privateKey],
    });
  } finally {
    await setup.cleanup();
  }
}
