import { isIP } from "node:net";
import { invalid } from "./errors";

// Every tenant string is checked here before it can reach a field where Caddy expands `{placeholders}`.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// Checked BEFORE lowercasing: String#toLowerCase folds some non-ASCII look-alikes into ASCII (the Kelvin sign U+212A
// becomes "k"), which would let a look-alike through as a different, valid name.
const HOSTNAME_CHARS = /^[A-Za-z0-9.-]+$/;
// A last label that is all digits or 0x-hex makes resolvers and WHATWG URL parsers read the name as an IPv4 address
// ("127.1", "2130706433", "0x7f000001"), so such names are IP literals in disguise.
const NUMERIC_LABEL = /^(?:[0-9]+|0x[0-9a-f]*)$/;
const MAX_HOSTNAME_LENGTH = 253;
const DIAL = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):([1-9][0-9]{0,4})$/;
// RFC 3986 path and query characters minus `%` (percent-encoding could smuggle `..` or braces past the checks) and
// minus `#` (a fragment is never sent).
const HEALTH_PATH = /^\/[A-Za-z0-9._~!$&'()*+,;=:@/?-]{0,1023}$/;
const LISTEN = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]*):([0-9]{1,5})$/;
const UNIX_ADMIN_LISTEN = /^unix\/(\/[A-Za-z0-9._/-]{1,1000})$/;
export const SERVER_NAME = /^[a-z0-9_-]{1,64}$/;
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

function isValidPort(text: string): boolean {
  const port = Number(text);
  return Number.isInteger(port) && port >= 1 && port <= 65_535 && String(port) === text;
}

function isDnsName(value: string): boolean {
  if (value.length === 0 || value.length > MAX_HOSTNAME_LENGTH) return false;
  return value.split(".").every((label) => DNS_LABEL.test(label));
}

/**
 * The canonical (lowercase) form of a hostname an app may be routed under, or a CaddyError "invalid_hostname".
 * Exported so the domain layer can apply the same rule when a user adds a domain.
 */
export function normalizeHostname(value: string): string {
  if (typeof value !== "string" || value.length > MAX_HOSTNAME_LENGTH || !HOSTNAME_CHARS.test(value)) {
    // The value stays out of the message: it is hostile by assumption and may carry control characters.
    throw invalid("invalid_hostname", "invalid hostname");
  }
  const hostname = value.toLowerCase();
  if (!isDnsName(hostname)) throw invalid("invalid_hostname", "invalid hostname");
  const labels = hostname.split(".");
  const last = labels[labels.length - 1] ?? "";
  if (isIP(hostname) !== 0 || NUMERIC_LABEL.test(last)) {
    throw invalid("invalid_hostname", "hostname is an IP literal");
  }
  // Routing "localhost" would capture the platform's own local traffic (docs/security.md, hostile inputs).
  if (hostname === "localhost") throw invalid("invalid_hostname", "reserved hostname");
  return hostname;
}

export function checkAppId(value: string): string {
  const appId = typeof value === "string" ? value.toLowerCase() : "";
  if (!UUID.test(appId)) throw invalid("invalid_app_id", "invalid app id");
  return appId;
}

export function checkDial(value: string, appId: string): string {
  const match = typeof value === "string" ? DIAL.exec(value) : null;
  const host = match?.[1];
  const port = match?.[2];
  if (host === undefined || port === undefined || !isValidPort(port)) {
    throw invalid("invalid_upstream", `invalid upstream address for app ${appId}`);
  }
  const hostOk = host.startsWith("[")
    ? isIP(host.slice(1, -1)) === 6
    : isIP(host) === 4 || (isDnsName(host) && !NUMERIC_LABEL.test(host.split(".").at(-1) ?? ""));
  if (!hostOk) throw invalid("invalid_upstream", `invalid upstream address for app ${appId}`);
  return value;
}

export function checkHealthPath(value: string, appId: string): string {
  if (typeof value !== "string" || !HEALTH_PATH.test(value) || value.includes("..") || value.startsWith("//")) {
    throw invalid("invalid_health_check_path", `invalid health check path for app ${appId}`);
  }
  return value;
}

export function checkListen(value: string): string {
  const match = typeof value === "string" ? LISTEN.exec(value) : null;
  const host = match?.[1];
  const port = match?.[2];
  if (host === undefined || port === undefined || !isValidPort(port)) {
    throw invalid("invalid_option", "invalid listen address");
  }
  const hostOk =
    host === "" || (host.startsWith("[") ? isIP(host.slice(1, -1)) === 6 : isIP(host) === 4 || isDnsName(host));
  if (!hostOk) throw invalid("invalid_option", "invalid listen address");
  return value;
}

// The admin endpoint must stay out of tenants' reach (docs/security.md): a unix socket or a loopback TCP address.
export function checkAdminListen(value: string): string {
  if (typeof value !== "string") throw invalid("invalid_option", "invalid admin listen address");
  const unix = UNIX_ADMIN_LISTEN.exec(value);
  if (unix?.[1] !== undefined) {
    if (unix[1].split("/").includes("..")) throw invalid("invalid_option", "invalid admin listen address");
    return value;
  }
  const tcp = LISTEN.exec(value);
  const host = tcp?.[1];
  const port = tcp?.[2];
  if (host === undefined || port === undefined || !isValidPort(port) || !LOOPBACK_HOSTS.has(host)) {
    throw invalid("invalid_option", "the admin listen address must be a unix socket or a loopback address");
  }
  return value;
}

// The TLS options come from the operator's environment, not from tenants, but they land in fields Caddy may expand
// (`{placeholders}`) and in URLs Caddy calls, so they get the same allow-list treatment.
const ASK_URL = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost):([0-9]{1,5})(\/[A-Za-z0-9._~/-]{0,200})?$/;
const ACME_CA = /^https:\/\/([a-z0-9.-]+|\[[0-9a-f:.]+\])(?::([0-9]{1,5}))?(\/[A-Za-z0-9._~/-]{0,500})?$/;
const EMAIL = /^[A-Za-z0-9._%+-]{1,64}@([a-z0-9.-]{1,253})$/;
const PEM_PATH = /^\/[A-Za-z0-9._/-]{1,1000}$/;

// Caddy asks this URL before each on-demand certificate: it must stay on the host (docs/security.md, "Caddy").
export function checkAskUrl(value: string): string {
  const match = typeof value === "string" ? ASK_URL.exec(value) : null;
  const port = match?.[2];
  if (port === undefined || !isValidPort(port)) {
    throw invalid("invalid_option", "the on-demand TLS ask URL must be an http:// loopback URL");
  }
  return value;
}

export function checkAcmeCa(value: string): string {
  const match = typeof value === "string" ? ACME_CA.exec(value.toLowerCase()) : null;
  const port = match?.[2];
  if (match === null || (port !== undefined && !isValidPort(port)) || value.includes("..")) {
    throw invalid("invalid_option", "the ACME CA must be an https:// directory URL");
  }
  return value;
}

export function checkAcmeEmail(value: string): string {
  const match = typeof value === "string" ? EMAIL.exec(value) : null;
  if (match?.[1] === undefined || !isDnsName(match[1])) throw invalid("invalid_option", "invalid ACME email");
  return value;
}

export function checkPemPath(value: string): string {
  if (typeof value !== "string" || !PEM_PATH.test(value) || value.split("/").includes("..")) {
    throw invalid("invalid_option", "the ACME CA root must be an absolute path");
  }
  return value;
}

/** The port of a listen address checked by checkListen. */
export function listenPort(value: string): number {
  return Number(checkListen(value).slice(value.lastIndexOf(":") + 1));
}
