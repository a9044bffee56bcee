import type { LookupAddress } from "node:dns";
import { lookup as dnsLookup } from "node:dns/promises";
import { lstat, mkdtemp, readdir, readlink, realpath, rm } from "node:fs/promises";
import { isIP, isIPv4, isIPv6 } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { CommandError, type ExecResult, type Executor } from "@/lib/infra/exec";
import { SourceError } from "./source-errors";

// Deploy pipeline step 1 for git sources: validate the tenant's URL and ref, check where the host resolves, then run
// a hardened shallow `git clone` (or init + fetch for a commit SHA) through the Executor, with time and size limits.
// Everything here treats the URL, the ref and the repository's content as hostile (docs/security.md).

export const MAX_GIT_URL_LENGTH = 2048;
export const MAX_GIT_REF_LENGTH = 255;

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const DNS_TIMEOUT_MS = 10_000;
// Per stream. git prints little without a terminal; the tail is what the error message needs.
const GIT_MAX_OUTPUT_BYTES = 256 * 1024;
const GIT_KILL_GRACE_MS = 2_000;
// While git runs, .git (the pack) and the work tree both sit in dest; a shallow pack is at most about the size of the
// tree it holds. The precise limit (work tree only) is applied after the clone.
const TRANSFER_SLACK_BYTES = 8 * 1024 * 1024;
const SIZE_POLL_MS = 1_000;
const MAX_MESSAGE_CHARS = 300;

const COMMIT_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

// ---------------------------------------------------------------------------------------------------------------
// Addresses

function parseIPv4(text: string): number | null {
  if (!isIPv4(text)) return null;
  return text.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
}

function inIPv4Range(address: number, base: string, bits: number): boolean {
  const size = 2 ** (32 - bits);
  return Math.floor(address / size) === Math.floor((parseIPv4(base) ?? -1) / size);
}

// Everything that is not the public internet: a git URL must never reach the platform's own network, a neighbour on
// the LAN, the cloud metadata service or a tenant container through one of these.
const NON_PUBLIC_IPV4: ReadonlyArray<readonly [string, number]> = [
  ["0.0.0.0", 8], // "this network", 0.0.0.0 reaches the local host on Linux
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local, cloud metadata
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // deprecated 6to4 relay anycast
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
];

function isPublicIPv4Number(address: number): boolean {
  return !NON_PUBLIC_IPV4.some(([base, bits]) => inIPv4Range(address, base, bits));
}

/** The eight 16-bit groups of an IPv6 address (a zone suffix like `%eth0` is ignored), or null. */
function parseIPv6(input: string): number[] | null {
  const zone = input.indexOf("%");
  const text = zone >= 0 ? input.slice(0, zone) : input;
  if (!isIPv6(text)) return null;
  let head = text;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  const last = text.slice(lastColon + 1);
  if (last.includes(".")) {
    const v4 = parseIPv4(last);
    if (v4 === null) return null;
    tail.push(Math.floor(v4 / 65536), v4 % 65536);
    head = text.slice(0, lastColon + 1);
    if (!head.endsWith("::")) head = head.slice(0, -1);
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const parseGroups = (part: string | undefined): number[] | null => {
    if (part === undefined || part === "") return [];
    const groups = part.split(":");
    if (!groups.every((group) => /^[0-9a-f]{1,4}$/i.test(group))) return null;
    return groups.map((group) => Number.parseInt(group, 16));
  };
  const left = parseGroups(halves[0]);
  const right = halves.length === 2 ? parseGroups(halves[1]) : [];
  if (left === null || right === null) return null;
  const missing = 8 - tail.length - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  return [...left, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...right, ...tail];
}

function embeddedIPv4(high: number | undefined, low: number | undefined): boolean {
  return isPublicIPv4Number((high ?? 0) * 65536 + (low ?? 0));
}

function isPublicIPv6Groups(groups: readonly number[]): boolean {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const zeroPrefix = (count: number): boolean => groups.slice(0, count).every((group) => group === 0);
  // IPv4-mapped (::ffff:a.b.c.d): the socket talks IPv4 to the embedded address.
  if (zeroPrefix(5) && g5 === 0xffff) return embeddedIPv4(g6, g7);
  // IPv4-translated (::ffff:0:a.b.c.d, SIIT).
  if (zeroPrefix(4) && g4 === 0xffff && g5 === 0) return embeddedIPv4(g6, g7);
  // Unspecified, loopback and the deprecated IPv4-compatible ::a.b.c.d.
  if (zeroPrefix(6)) return false;
  // NAT64 well-known prefix: DNS64 answers these for public IPv4 hosts on IPv6-only networks.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return embeddedIPv4(g6, g7);
  // Only 2000::/3 is global unicast; this excludes ULA fc00::/7, link-local fe80::/10, site-local fec0::/10,
  // multicast ff00::/8, discard 100::/64 and local-use NAT64 64:ff9b:1::/48.
  if ((g0 & 0xe000) !== 0x2000) return false;
  if (g0 === 0x2001 && g1 < 0x0200) return false; // IETF protocol assignments incl. Teredo
  if (g0 === 0x2001 && g1 === 0x0db8) return false; // documentation
  if (g0 === 0x3fff && g1 < 0x1000) return false; // documentation (3fff::/20)
  if (g0 === 0x2002) return embeddedIPv4(g1, g2); // 6to4 carries an IPv4 address
  return true;
}

/** Whether an IP address (IPv4 or IPv6 text) is on the public internet. Anything unparseable is not. */
export function isPublicAddress(address: string): boolean {
  const v4 = parseIPv4(address);
  if (v4 !== null) return isPublicIPv4Number(v4);
  const v6 = parseIPv6(address);
  return v6 !== null && isPublicIPv6Groups(v6);
}

// ---------------------------------------------------------------------------------------------------------------
// URL and ref validation

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// Names that resolve (or are meant to resolve) to the local host or a private network: RFC 6761/6762/8375 and the
// conventional internal suffixes, including the cloud metadata names under .internal.
const INTERNAL_SUFFIXES = ["localhost", "local", "internal", "intranet", "lan", "localdomain", "home.arpa", "arpa"];
// Whitespace, C0/C1 controls, zero-width and bidirectional formatting characters: invisible in the UI and logs.
const INVISIBLE_OR_CONTROL =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /[\s\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;

function invalidUrl(message: string): SourceError {
  return new SourceError("invalid_url", message);
}

function forbiddenHost(host: string): SourceError {
  return new SourceError(
    "forbidden_host",
    `The host ${host} is a local, private or reserved address; only public hosts can be cloned from.`,
  );
}

function checkUrlHost(url: URL, allowPrivateHosts: boolean): void {
  const host = url.hostname;
  if (host.startsWith("[")) {
    const groups = parseIPv6(host.slice(1, -1));
    if (groups === null) throw invalidUrl("The URL's host is not a valid IPv6 address.");
    if (!allowPrivateHosts && !isPublicIPv6Groups(groups)) throw forbiddenHost(host);
    return;
  }
  // The URL parser has already turned every IPv4 spelling (2130706433, 0x7f.1, 0177.0.0.1, 127.1) into dotted
  // decimal, and git receives that normalized `href`, so the address checked is the address git connects to.
  const v4 = parseIPv4(host);
  if (v4 !== null) {
    if (!allowPrivateHosts && !isPublicIPv4Number(v4)) throw forbiddenHost(host);
    return;
  }
  if (host.endsWith(".")) throw invalidUrl("Remove the trailing dot from the URL's host name.");
  const labels = host.split(".");
  if (host.length > 253 || !labels.every((label) => DNS_LABEL.test(label))) {
    throw invalidUrl("The URL's host is not a valid DNS name or IP address.");
  }
  if (allowPrivateHosts) return;
  // A single-label name is completed by the server's DNS search domains: it names an internal machine.
  if (labels.length < 2) throw forbiddenHost(host);
  if (INTERNAL_SUFFIXES.some((suffix) => host === suffix || host.endsWith(`.${suffix}`))) throw forbiddenHost(host);
}

/**
 * Syntactic validation of a tenant's git URL; no network access. Only `https://host/path` is accepted, without
 * credentials, query or fragment, and (unless `allowPrivateHosts`) never a local, private or reserved host.
 * Pass the returned URL's `href` to git, not the original string: it is the normalized form that was checked.
 */
export function validateGitUrl(url: string, options: { allowPrivateHosts: boolean }): URL {
  if (typeof url !== "string" || url.length === 0) throw invalidUrl("Enter the repository's https:// URL.");
  if (url.length > MAX_GIT_URL_LENGTH) {
    throw invalidUrl(`The repository URL is longer than ${MAX_GIT_URL_LENGTH} characters.`);
  }
  if (INVISIBLE_OR_CONTROL.test(url)) {
    throw invalidUrl("The repository URL must not contain spaces, control or invisible characters.");
  }
  // git would read these as command-line options (`--upload-pack=...`).
  if (url.startsWith("-")) throw invalidUrl("The repository URL must not start with '-'.");
  // `ext::sh -c ...` runs a command, `fd::` talks to a file descriptor: git's remote-helper syntax.
  if (/^[a-z0-9+.-]*::/i.test(url)) throw invalidUrl("git transport helpers (such as ext::) are not allowed.");
  const lower = url.toLowerCase();
  if (lower.startsWith("file:")) throw invalidUrl("Local file URLs are not allowed; use an https:// URL.");
  if (lower.startsWith("http:")) throw invalidUrl("Plain http is not encrypted; use the https:// URL.");
  if (lower.startsWith("git:")) throw invalidUrl("The git:// protocol is not encrypted; use the https:// URL.");
  if (/^(?:ssh|git\+ssh|ssh\+git):/.test(lower)) {
    throw invalidUrl("SSH URLs are not supported; use the repository's https:// URL.");
  }
  if (!lower.startsWith("https://")) {
    if (lower.startsWith("https:"))
      throw invalidUrl("The repository URL should look like https://host/owner/repo.git.");
    if (/^[^/]*:/.test(url)) {
      throw invalidUrl("SSH-style addresses (user@host:path) are not supported; use the repository's https:// URL.");
    }
    throw invalidUrl("Only https:// repository URLs are supported.");
  }
  // The URL parser treats "\" as "/" in https URLs; a URL that needs one is an attempt to confuse a reader.
  if (url.includes("\\")) throw invalidUrl("The repository URL must not contain backslashes.");

  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidUrl("The repository URL is not a valid URL.");
  }
  if (parsed.protocol !== "https:") throw invalidUrl("Only https:// repository URLs are supported.");
  if (parsed.username !== "" || parsed.password !== "") {
    throw invalidUrl(
      "Remove the user name, password or token from the URL: it would be stored with the app and shown in logs. " +
        "Only public repositories can be cloned.",
    );
  }
  if (parsed.search !== "" || parsed.hash !== "" || url.includes("?") || url.includes("#")) {
    throw invalidUrl("The repository URL must not contain a query string (?...) or a fragment (#...).");
  }
  if (parsed.pathname === "/" || parsed.pathname === "") {
    throw invalidUrl("The repository URL has no path; it should look like https://host/owner/repo.git.");
  }
  checkUrlHost(parsed, options.allowPrivateHosts);
  return parsed;
}

function invalidRef(message: string): SourceError {
  return new SourceError("invalid_ref", message);
}

/** A full commit SHA (SHA-1, or SHA-256 for repositories in that format). */
export function isCommitSha(ref: string): boolean {
  return COMMIT_SHA.test(ref);
}

/**
 * A branch, a tag or a full commit SHA, checked with the rules of `git check-ref-format` (stricter: printable ASCII
 * only) so that the ref can never be read as an option or a revision expression. Answers the ref, with a SHA
 * lower-cased.
 */
export function validateGitRef(ref: string): string {
  if (typeof ref !== "string" || ref.length === 0) throw invalidRef("Enter a branch, tag or commit SHA.");
  if (ref.length > MAX_GIT_REF_LENGTH) {
    throw invalidRef(`The branch, tag or commit is longer than ${MAX_GIT_REF_LENGTH} characters.`);
  }
  if (isCommitSha(ref)) return ref.toLowerCase();
  if (ref.startsWith("-")) throw invalidRef("A branch or tag name must not start with '-'.");
  if (/[^\x21-\x7e]/.test(ref)) {
    throw invalidRef("A branch or tag name must be printable ASCII without spaces or control characters.");
  }
  if (/[~^:?*[\\]/.test(ref)) throw invalidRef("A branch or tag name must not contain ~ ^ : ? * [ or \\.");
  if (ref.includes("..")) throw invalidRef("A branch or tag name must not contain '..'.");
  if (ref.includes("@{") || ref === "@") throw invalidRef("A branch or tag name must not contain '@{' or be '@'.");
  if (ref.startsWith("/") || ref.endsWith("/") || ref.includes("//")) {
    throw invalidRef("A branch or tag name must not start or end with '/' or contain '//'.");
  }
  if (ref.endsWith(".")) throw invalidRef("A branch or tag name must not end with '.'.");
  for (const component of ref.split("/")) {
    if (component.startsWith(".")) throw invalidRef("No part of a branch or tag name may start with '.'.");
    if (component.endsWith(".lock")) throw invalidRef("No part of a branch or tag name may end with '.lock'.");
  }
  return ref;
}

// ---------------------------------------------------------------------------------------------------------------
// DNS

/** Compatible with `lookup` from node:dns/promises; injectable for tests. */
export type HostLookup = (hostname: string, options: { all: true }) => Promise<LookupAddress[]>;

export type ResolveAndCheckOptions = { allowPrivateHosts: boolean; lookup?: HostLookup; timeoutMs?: number };

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined;
}

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

// ---------------------------------------------------------------------------------------------------------------
// Commands

export type CloneArgsInput = {
  /** Already validated; passed to git as is. */
  url: string;
  /** Already validated with validateGitRef; a branch or tag, a full commit SHA, or undefined for the default branch. */
  ref: string | undefined;
  /** Absolute. */
  dest: string;
  /** `http.curloptResolve` entries (HOST:PORT:ADDR[,ADDR]) pinning the addresses that were checked. */
  resolve?: readonly string[];
  /** More `-c name=value` entries, applied last. Production passes none; tests use it to allow file://. */
  extraConfig?: readonly string[];
};

/**
 * The `-c` options of every git command. Why each:
 * - protocol.allow=never + protocol.https.allow=always: nothing but https, also for anything the repository points
 *   at (submodules, alternates, remote helpers such as ext::).
 * - http.followRedirects=false: the default ("initial") follows a redirect of the first request to any host,
 *   bypassing the host check and the address pinning. A renamed repository then fails with a clear message.
 * - core.hooksPath=/dev/null (and --template= on clone/init): no hook runs, and none is copied from a template.
 * - core.symlinks=true: symbolic links inside a repository are legitimate (README -> docs/README.md) and are
 *   checked out as links; runClone then refuses the source if any link leads out of the tree.
 * - submodule.recurse=false (and --no-recurse-submodules): submodules would fetch other, unchecked URLs.
 * - credential.helper= and core.askPass=: no stored credentials, no prompts; only public repositories.
 * - transfer.fsckObjects=true: refuse malformed objects (crafted tree entries such as ".git" or "..").
 * - core.protectNTFS / core.protectHFS: refuse paths that alias ".git" on other file systems, cheap insurance.
 * - core.fsmonitor=false, gc.auto=0, maintenance.auto=false: no helper process and nothing that outlives git.
 * - safe.bareRepository=explicit: never operate on a bare repository embedded in the work tree.
 * - http.sslVerify=true: in case a default changes; the environment has no system or global config anyway.
 */
function gitConfigArgs(resolve: readonly string[] = [], extraConfig: readonly string[] = []): string[] {
  const entries = [
    "protocol.allow=never",
    "protocol.https.allow=always",
    "http.followRedirects=false",
    "http.sslVerify=true",
    "core.hooksPath=/dev/null",
    "core.symlinks=true",
    "core.fsmonitor=false",
    "core.protectNTFS=true",
    "core.protectHFS=true",
    "core.askPass=",
    "credential.helper=",
    "submodule.recurse=false",
    "transfer.fsckObjects=true",
    "safe.bareRepository=explicit",
    "gc.auto=0",
    "maintenance.auto=false",
    "advice.detachedHead=false",
    "init.defaultBranch=main",
    ...resolve.map((entry) => `http.curloptResolve=${entry}`),
    ...extraConfig,
  ];
  return entries.flatMap((entry) => ["-c", entry]);
}

/**
 * The git argument arrays that fetch the source, in order (pure; rev-parse follows separately).
 * A branch or tag (or nothing: the default branch): one shallow, single-branch clone. A commit SHA cannot be named
 * by `clone --branch`: init + shallow fetch of exactly that commit + detached checkout of it.
 */
export function buildCloneArgs(input: CloneArgsInput): string[][] {
  const config = gitConfigArgs(input.resolve, input.extraConfig);
  const { url, ref, dest } = input;
  if (ref !== undefined && isCommitSha(ref)) {
    return [
      [...config, "init", "--quiet", "--template=", "--", dest],
      [...config, "-C", dest, "fetch", "--quiet", "--depth=1", "--no-tags", "--no-recurse-submodules", "--", url, ref],
      [...config, "-C", dest, "checkout", "--quiet", "--detach", ref, "--"],
    ];
  }
  return [
    [
      ...config,
      "clone",
      "--quiet",
      "--template=",
      "--depth=1",
      "--single-branch",
      "--no-tags",
      "--no-recurse-submodules",
      ...(ref === undefined ? [] : [`--branch=${ref}`]),
      "--",
      url,
      dest,
    ],
  ];
}

function revParseArgs(input: CloneArgsInput): string[] {
  return [...gitConfigArgs(input.resolve, input.extraConfig), "-C", input.dest, "rev-parse", "--verify", "HEAD"];
}

/**
 * The complete environment of git (not merged with the worker's, which holds the platform's secrets): no system or
 * global configuration, no prompts, an empty throw-away HOME, C locale so messages are predictable.
 * GIT_ASKPASS is set but empty: git then skips core.askPass and SSH_ASKPASS and, with GIT_TERMINAL_PROMPT=0, fails
 * instead of asking. GIT_CEILING_DIRECTORIES stops git from ever finding a repository above dest (the worker's own
 * directory could be one) if dest/.git is missing.
 */
function gitEnv(home: string, dest: string, pathEnv: string | undefined): Record<string, string> {
  return {
    PATH: pathEnv ?? DEFAULT_PATH,
    HOME: home,
    XDG_CONFIG_HOME: home,
    LANG: "C",
    LC_ALL: "C",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_CEILING_DIRECTORIES: path.dirname(dest),
    // Belt and braces: no git-lfs filter is configured anyway (no system or global config).
    GIT_LFS_SKIP_SMUDGE: "1",
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Files

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 * 1024) return `${Number((bytes / 1024 ** 3).toFixed(1))} GiB`;
  if (bytes >= 1024 * 1024) return `${Number((bytes / 1024 ** 2).toFixed(1))} MiB`;
  if (bytes >= 1024) return `${Number((bytes / 1024).toFixed(1))} KiB`;
  return `${bytes} bytes`;
}

function quoteRel(rel: string): string {
  return JSON.stringify(rel.length > 120 ? `${rel.slice(0, 120)}...` : rel);
}

function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(path.sep) ? root : `${root}${path.sep}`);
}

type DestState = "absent" | "empty";

/** dest must not exist (it is created) or be an empty directory; anything else is a caller bug, not tenant input. */
async function destState(dest: string): Promise<DestState> {
  try {
    const stats = await lstat(dest);
    if (!stats.isDirectory()) throw new Error("the source destination exists and is not a directory");
    if ((await readdir(dest)).length > 0) throw new Error("the source destination directory is not empty");
    return "empty";
  } catch (error) {
    if (errorCode(error) === "ENOENT") return "absent";
    throw error;
  }
}

/** Puts dest back the way it was found, so a refused or failed fetch leaves no trace. */
async function restoreDest(dest: string, state: DestState): Promise<void> {
  if (state === "absent") {
    await rm(dest, { recursive: true, force: true });
    return;
  }
  const entries = await readdir(dest).catch(() => []);
  await Promise.all(entries.map((name) => rm(path.join(dest, name), { recursive: true, force: true })));
}

/** Bytes of regular files under dir, never following links; files vanishing mid-walk (git's temp files) are skipped. */
async function diskUsage(dir: string): Promise<number> {
  let total = 0;
  const pending = [dir];
  for (let current = pending.pop(); current !== undefined; current = pending.pop()) {
    const entries = await readdir(current, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) pending.push(full);
      else if (entry.isFile())
        total += await lstat(full).then(
          (stats) => stats.size,
          () => 0,
        );
    }
  }
  return total;
}

type SizeGuard = { readonly signal: AbortSignal; tripped(): boolean; stop(): void };

/**
 * Polls the size of dest while git writes to it and aborts git once it is clearly over the limit: git has no limit
 * of its own on what a fetch downloads, and the timeout alone would let a fast server fill the disk.
 */
function startSizeGuard(dir: string, limitBytes: number): SizeGuard {
  const controller = new AbortController();
  let tripped = false;
  let running = false;
  let stopped = false;
  const timer = setInterval(() => {
    if (running || stopped) return;
    running = true;
    diskUsage(dir)
      .then((bytes) => {
        if (!stopped && bytes > limitBytes) {
          tripped = true;
          controller.abort();
        }
      })
      .catch(() => {
        // A failed measurement is retried on the next tick; the post-clone check is authoritative.
      })
      .finally(() => {
        running = false;
      });
  }, SIZE_POLL_MS);
  timer.unref();
  return {
    signal: controller.signal,
    tripped: () => tripped,
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}

function tooLarge(maxBytes: number): SourceError {
  return new SourceError("too_large", `The repository is larger than the limit of ${formatBytes(maxBytes)}.`);
}

/**
 * Walks the checked-out tree (without .git) without following links: sums file sizes against the limit, and refuses
 * any symbolic link that leads out of the tree. A link is judged by where the kernel resolves it (realpath); a
 * dangling link by its text (absolute or climbing above the root is refused). Residual: a dangling link whose text
 * stays inside but which would climb out through another link does not resolve to anything, and every later reader
 * (fsSourceTree, the build) resolves links again.
 */
async function inspectTree(root: string, maxBytes: number): Promise<void> {
  const realRoot = await realpath(root);
  let total = 0;
  const pending = [realRoot];
  for (let current = pending.pop(); current !== undefined; current = pending.pop()) {
    const entries = await readdir(current, { withFileTypes: true });
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      const rel = path.relative(realRoot, full);
      if (entry.isDirectory()) {
        pending.push(full);
      } else if (entry.isFile()) {
        total += (await lstat(full)).size;
        if (total > maxBytes) throw tooLarge(maxBytes);
      } else if (entry.isSymbolicLink()) {
        const target = await readlink(full);
        const outside = new SourceError(
          "unsafe_path",
          `The repository contains a symbolic link ${quoteRel(rel)} that points outside the repository or loops.`,
        );
        if (path.isAbsolute(target) || !isInside(realRoot, path.resolve(path.dirname(full), target))) throw outside;
        let resolved: string | null;
        try {
          resolved = await realpath(full);
        } catch (error) {
          const code = errorCode(error);
          // Dangling (judged by its text above); a loop (ELOOP) or anything else is refused.
          if (code !== "ENOENT" && code !== "ENOTDIR") throw outside;
          resolved = null;
        }
        if (resolved !== null && !isInside(realRoot, resolved)) throw outside;
      }
    }
  }
}

function lastGitLine(stderr: string, redactions: readonly (readonly [string, string])[]): string {
  const lines = stderr
    .split(/\r?\n|\r/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  let line = lines.findLast((candidate) => /^(?:fatal|error):/.test(candidate)) ?? lines.at(-1) ?? "";
  line = line.replace(/^(?:fatal|error):\s*/, "");
  for (const [secret, replacement] of redactions) {
    // "/" (dest directly under the root) would mangle every path separator; it reveals nothing anyway.
    if (secret.length > 1) line = line.replaceAll(secret, replacement);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  line = line.replace(/[\u0000-\u001f\u007f-\u009f]/g, "");
  return line.length > MAX_MESSAGE_CHARS ? `${line.slice(0, MAX_MESSAGE_CHARS)}...` : line;
}

function cloneFailure(line: string, ref: string | undefined, step: "fetch" | "rev-parse"): string {
  if (step === "rev-parse") return "The repository has no commits to deploy.";
  if (/could not read (?:username|password)|terminal prompts disabled|authentication failed/i.test(line)) {
    return "The repository does not exist or is private; only public repositories can be cloned.";
  }
  if (ref !== undefined && /remote branch .* not found|couldn't find remote ref|not our ref|unadvertised/i.test(line)) {
    return `The branch, tag or commit ${quoteRel(ref)} was not found in the repository (git: ${line}).`;
  }
  if (/returned error: 30[12378]/.test(line)) {
    return `The server answered with a redirect, which is not followed; use the repository's final URL (git: ${line}).`;
  }
  return line.length > 0 ? `Cloning the repository failed (git: ${line}).` : "Cloning the repository failed.";
}

export type RunCloneOptions = {
  /** Already validated (validateGitUrl(...).href); passed to git as is. */
  url: string;
  /** Branch, tag or full commit SHA; undefined for the default branch. Validated again here. */
  ref?: string;
  /** Absolute path; must not exist or be an empty directory. Restored to that state on any failure. */
  dest: string;
  /** Defaults to "git", looked up in pathEnv. */
  gitPath?: string;
  /** For all git commands together. */
  timeoutMs: number;
  /** Limit for the checked-out tree (sum of file sizes, links not followed). */
  maxBytes: number;
  resolve?: readonly string[];
  extraConfig?: readonly string[];
  /** PATH of the git process. */
  pathEnv?: string;
};

/**
 * Runs the hardened clone (buildCloneArgs) against an already-validated URL, reads the commit SHA, removes `.git`
 * and checks the tree. `.git` is removed because the build context must be the source and nothing else: the
 * history and pack would double the size, the build must not depend on git metadata, and the commit SHA is
 * recorded on the deployment instead.
 */
export async function runClone(exec: Executor, options: RunCloneOptions): Promise<{ commitSha: string }> {
  if (!path.isAbsolute(options.dest)) throw new Error("the source destination must be an absolute path");
  const dest = path.normalize(options.dest);
  const ref = options.ref === undefined ? undefined : validateGitRef(options.ref);
  const input: CloneArgsInput = {
    url: options.url,
    ref,
    dest,
    resolve: options.resolve,
    extraConfig: options.extraConfig,
  };
  const state = await destState(dest);
  const deadline = Date.now() + options.timeoutMs;
  const home = await mkdtemp(path.join(tmpdir(), "tsl-git-home-"));
  const env = gitEnv(home, dest, options.pathEnv);
  const gitPath = options.gitPath ?? "git";
  const guard = startSizeGuard(dest, options.maxBytes * 2 + TRANSFER_SLACK_BYTES);
  const redactions: [string, string][] = [
    [dest, "<source>"],
    [home, "<tmp>"],
    [path.dirname(dest), "<tmp>"],
  ];
  redactions.sort((a, b) => b[0].length - a[0].length);

  const git = async (args: string[], step: "fetch" | "rev-parse"): Promise<ExecResult> => {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw timeoutError(options.timeoutMs);
    try {
      return await exec(gitPath, args, {
        timeoutMs: remaining,
        env,
        maxOutputBytes: GIT_MAX_OUTPUT_BYTES,
        killGraceMs: GIT_KILL_GRACE_MS,
        signal: guard.signal,
      });
    } catch (error) {
      if (guard.tripped()) throw tooLarge(options.maxBytes);
      if (!(error instanceof CommandError)) throw error;
      switch (error.kind) {
        case "timeout":
          throw timeoutError(options.timeoutMs, error);
        case "spawn":
          throw new SourceError("clone_failed", "git is not available on the server.", { cause: error });
        default: {
          const line = lastGitLine(error.stderr, redactions);
          throw new SourceError("clone_failed", cloneFailure(line, ref, step), { cause: error, detail: line });
        }
      }
    }
  };

  try {
    for (const args of buildCloneArgs(input)) await git(args, "fetch");
    const commitSha = (await git(revParseArgs(input), "rev-parse")).stdout.trim().toLowerCase();
    if (!isCommitSha(commitSha)) throw new SourceError("clone_failed", "git did not report the checked-out commit.");
    if (ref !== undefined && isCommitSha(ref) && commitSha !== ref) {
      throw new SourceError("clone_failed", "The checked-out commit is not the requested one.");
    }
    guard.stop();
    await rm(path.join(dest, ".git"), { recursive: true, force: true });
    await inspectTree(dest, options.maxBytes);
    return { commitSha };
  } catch (error) {
    guard.stop();
    await restoreDest(dest, state);
    throw error;
  } finally {
    guard.stop();
    await rm(home, { recursive: true, force: true });
  }
}

function timeoutError(timeoutMs: number, cause?: unknown): SourceError {
  return new SourceError(
    "timeout",
    `Cloning the repository took longer than ${Math.round(timeoutMs / 1000)} seconds and was stopped.`,
    { cause, retryable: true },
  );
}

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
export async function fetchGitSource(exec: Executor, options: FetchGitSourceOptions): Promise<{ commitSha: string }> {
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
