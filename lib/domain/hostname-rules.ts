// What a custom domain may be: a team's own DNS name, normalised to one spelling (lower-case ASCII, IDNs as punycode,
// no trailing dot) so that uniqueness and Caddy's matching see one name. Every refusal names the rule in words the
// user can act on. Tenant input is hostile: these rules are what keeps Caddy placeholders, wildcards, IP literals and
// the platform's own names out of the router (docs/SECURITY.md, "Hostile inputs").
import { isIP } from "node:net";
import { domainToASCII } from "node:url";
import { AppError } from "@/lib/errors";

export const HOSTNAME_MAX = 253;
export const LABEL_MAX = 63;

const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// C0 and C1 controls and DEL: never part of a name, and CR/LF would be a header or log injection.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export type HostnamePolicy = {
  /** TUSSILAGO_APPS_DOMAIN: the platform's own names live under it. */
  appsDomain: string;
  /** The portal's host (from TUSSILAGO_PUBLIC_URL). */
  portalHost: string;
};

function refuse(message: string): never {
  throw new AppError("invalid", message, { details: [{ path: "hostname", message }] });
}

function isUnder(name: string, parent: string): boolean {
  return name === parent || name.endsWith(`.${parent}`);
}

/** The host of a URL, lower-case, without IPv6 brackets; null when it does not parse. */
export function hostOfUrl(url: string): string | null {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, "").toLowerCase();
  } catch {
    return null;
  }
}

/**
 * The stored spelling of a hostname a team asks for, or an `invalid` AppError (422) saying why not. IDNs become
 * punycode through node:url's domainToASCII (the WHATWG URL standard's UTS #46 processing), not a hand-written codec.
 */
export function normalizeHostname(input: string, policy: HostnamePolicy): string {
  if (typeof input !== "string" || input.length === 0) refuse("Give a hostname, such as shop.example.com.");
  // Checked on the raw input: trimming would silently eat a trailing CR/LF or tab.
  if (CONTROL.test(input)) refuse("A hostname cannot contain control characters.");
  if (input.length > HOSTNAME_MAX * 4) refuse(`A hostname has at most ${HOSTNAME_MAX} characters.`);
  let name = input.trim().toLowerCase();
  if (name.endsWith(".")) name = name.slice(0, -1);
  if (name.length === 0) refuse("Give a hostname, such as shop.example.com.");
  if (name.includes("*")) refuse("Wildcard hostnames are not supported: add each name on its own.");
  if (/[{}]/.test(name)) refuse("A hostname cannot contain { or }.");
  if (name.includes("://") || /[/?#@:%\\\s[\]]/.test(name)) {
    refuse("Give the hostname alone (like shop.example.com), without a scheme, port, path or address.");
  }
  if (isIP(name) !== 0) refuse("IP addresses cannot be added as domains: give a DNS name.");
  const ascii = domainToASCII(name);
  if (ascii === "") refuse("This is not a valid hostname.");
  // WHATWG parsing turns numeric forms such as 127.1 or 0x7f.1 into an IPv4 address.
  if (isIP(ascii) !== 0) refuse("IP addresses cannot be added as domains: give a DNS name.");
  if (ascii.length > HOSTNAME_MAX) refuse(`A hostname has at most ${HOSTNAME_MAX} characters.`);
  const labels = ascii.split(".");
  if (labels.length < 2) refuse("Give a fully qualified hostname with at least two labels, such as example.com.");
  for (const label of labels) {
    if (label.length === 0) refuse("A hostname cannot have empty labels (two dots in a row).");
    if (label.length > LABEL_MAX) refuse(`Each label of a hostname has at most ${LABEL_MAX} characters.`);
    if (!LDH_LABEL.test(label)) {
      refuse("Each label of a hostname has letters, digits and inner hyphens only (no underscores or other signs).");
    }
  }
  // A numeric top-level label is an address in disguise, never a registrable name.
  if (/^[0-9]+$/.test(labels.at(-1) ?? "")) refuse("IP addresses cannot be added as domains: give a DNS name.");
  if (isUnder(ascii, "localhost")) refuse("localhost names cannot be added as domains.");
  if (isUnder(ascii, policy.appsDomain)) {
    refuse(`Names under ${policy.appsDomain} belong to the platform: every app already has one.`);
  }
  if (ascii === policy.portalHost) refuse("This is the platform's own hostname.");
  return ascii;
}

/** The TXT record that proves control of a hostname. */
export function verificationRecordName(hostname: string): string {
  return `_tussilago.${hostname}`;
}
