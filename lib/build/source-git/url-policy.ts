import { SourceError } from "../source-errors";
import { isPublicIPv4Number, isPublicIPv6Groups, parseIPv4, parseIPv6 } from "./addresses";

// May this URL and ref be fetched: syntactic validation of the tenant's git URL and ref, no network (the host's DNS
// answers are checked in dns.ts). Pure, so the domain validates with it when a request names a repository. Every
// refusal here happens before any command runs (docs/security.md).

export const MAX_GIT_URL_LENGTH = 2048;
export const MAX_GIT_REF_LENGTH = 255;

const COMMIT_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

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

export function forbiddenHost(host: string): SourceError {
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
