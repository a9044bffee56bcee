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

/** Refuses a local, private or reserved host (syntax only; also used for notification webhook URLs). */
export function checkUrlHost(url: URL, allowPrivateHosts: boolean): void {
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
 * Syntactic validation of a tenant's git URL; no network access. `https://host/path` without credentials, query or
 * fragment, or SSH (ssh://user@host:port/path or user@host:path, see validateSshUrl; cloning it needs the app's
 * deploy key), and (unless `allowPrivateHosts`) never a local, private or reserved host.
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
  if (/^(?:git\+ssh|ssh\+git):/.test(lower)) throw invalidUrl("Write the SSH URL as ssh://user@host/path.");
  if (lower.startsWith("ssh:")) return validateSshUrl(url, options.allowPrivateHosts);
  if (!lower.startsWith("https://")) {
    if (lower.startsWith("https:"))
      throw invalidUrl("The repository URL should look like https://host/owner/repo.git.");
    // As git decides: "scheme://" is a URL, anything else with a colon before any slash is scp-like.
    if (!url.includes("://") && SCP_LIKE.test(url)) return validateSshUrl(url, options.allowPrivateHosts);
    throw invalidUrl("Only https://, ssh:// and user@host:path repository URLs are supported.");
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

// git's scp-like syntax: [user@]host:path, the host being a name or a bracketed IPv6 address, no slash before the
// colon (git reads "a/b:c" as a local path). Whether it names a repository is decided by validateSshUrl.
const SCP_LIKE = /^(?:[^@/:[\]]+@)?(?:\[[^\]/]*\]|[^@/:[\]]+):/;
const SSH_USER = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
// The repository path on the server: printable, no spaces or shell metacharacters (git quotes it for the remote
// shell, but a path that needs quoting is an attempt to confuse a reader), no part starting with '-'.
const SSH_PATH = /^\/[A-Za-z0-9._~@+/-]{1,1024}$/;
export const DEFAULT_SSH_USER = "git";
export const DEFAULT_SSH_PORT = 22;

/** The parts of a validated ssh:// URL (validateGitUrl's answer for SSH), with the host as checked and normalized. */
export type SshUrlParts = { user: string; host: string; port: number; path: string };

/**
 * ssh://[user@]host[:port]/path and scp-like [user@]host:path, normalized to ssh://user@host[:port]/path. The
 * scp form's path is relative to the server's home directory for plain sshd; forges treat it as absolute, and so
 * does the normalized form ("git@github.com:octo/repo.git" becomes "ssh://git@github.com/octo/repo.git").
 * The host passes the same checks as an https host (public only unless allowed); user, port and path are checked
 * against strict patterns so nothing reaches ssh or git as an option.
 */
function validateSshUrl(url: string, allowPrivateHosts: boolean): URL {
  let user: string;
  let host: string;
  let port = DEFAULT_SSH_PORT;
  let repoPath: string;
  const standard = /^ssh:\/\/(?:([^@/]*)@)?(\[[^\]/]*\]|[^:/]*)(?::([^/]*))?(\/.*)?$/i.exec(url);
  if (url.toLowerCase().startsWith("ssh:")) {
    if (standard === null) throw invalidUrl("The SSH URL should look like ssh://git@host/owner/repo.git.");
    user = standard[1] ?? DEFAULT_SSH_USER;
    host = standard[2] ?? "";
    if (standard[3] !== undefined) {
      if (!/^[0-9]{1,5}$/.test(standard[3])) throw invalidUrl("The SSH URL's port must be a number.");
      port = Number(standard[3]);
    }
    repoPath = standard[4] ?? "";
  } else {
    const at = url.indexOf("@");
    const colonFrom = url.startsWith("[", at + 1) ? url.indexOf("]", at + 1) : at + 1;
    const colon = url.indexOf(":", colonFrom);
    user = at >= 0 ? url.slice(0, at) : DEFAULT_SSH_USER;
    host = url.slice(at + 1, colon);
    const rest = url.slice(colon + 1);
    repoPath = rest.startsWith("/") ? rest : `/${rest}`;
  }
  if (!SSH_USER.test(user)) {
    throw invalidUrl("The SSH user name may hold letters, digits, '.', '_' and '-' only, and not start with '-'.");
  }
  if (host.length === 0 || host.startsWith("-")) throw invalidUrl("The SSH URL has no valid host.");
  if (port < 1 || port > 65535) throw invalidUrl("The SSH URL's port must be between 1 and 65535.");
  if (repoPath === "/" || repoPath === "") throw invalidUrl("The SSH URL has no repository path.");
  if (!SSH_PATH.test(repoPath) || repoPath.split("/").some((part) => part.startsWith("-"))) {
    throw invalidUrl(
      "The repository path may hold letters, digits and . _ ~ @ + / - only, and no part of it may start with '-'.",
    );
  }
  // The same host rules as https, through the same parser: lower-cased, IPv4 spellings normalized, IDNs as punycode.
  let hostUrl: URL;
  try {
    hostUrl = new URL(`https://${host}/`);
  } catch {
    throw invalidUrl("The SSH URL's host is not a valid DNS name or IP address.");
  }
  if (hostUrl.port !== "" || hostUrl.username !== "" || hostUrl.pathname !== "/") {
    throw invalidUrl("The SSH URL's host is not a valid DNS name or IP address.");
  }
  checkUrlHost(hostUrl, allowPrivateHosts);
  const portPart = port === DEFAULT_SSH_PORT ? "" : `:${port}`;
  return new URL(`ssh://${user}@${hostUrl.hostname}${portPart}${repoPath}`);
}

/** The parts of a URL validateGitUrl answered for SSH (its protocol is "ssh:"). */
export function sshUrlParts(url: URL): SshUrlParts {
  return {
    user: decodeURIComponent(url.username) || DEFAULT_SSH_USER,
    host: url.hostname,
    port: url.port === "" ? DEFAULT_SSH_PORT : Number(url.port),
    path: decodeURIComponent(url.pathname),
  };
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
