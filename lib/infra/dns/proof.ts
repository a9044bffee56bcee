// Whether a hostname's DNS proves that its team controls it: the TXT record `_tussilago.<hostname>` holding the exact
// token, an A/AAAA record pointing at one of this installation's public addresses, or a CNAME chain ending at the apps
// domain (or a name under it). Lookups that fail are told apart from records that are absent: only the name servers'
// answer "there is no such record" can make a verified domain lose its proof.
import { BlockList, isIP } from "node:net";
import { createDnsLookups, type DnsLookups, type DnsResolverOptions, type LookupResult } from "./resolver";
import type { ProofChecker, ProofOutcome, ProofTarget } from "./types";

/** How far a CNAME chain is followed: real chains are one or two hops; a loop must end. */
export const MAX_CNAME_HOPS = 8;

export type ProofPolicy = {
  /** This installation's public addresses (TUSSILAGO_PUBLIC_IPS). */
  publicIps: readonly string[];
  /** TUSSILAGO_APPS_DOMAIN: a CNAME to it or under it points at this installation. */
  appsDomain: string;
};

function addressList(ips: readonly string[]): BlockList {
  // BlockList compares addresses, not spellings: 2001:db8::1 and 2001:DB8:0:0::1 are one address.
  const list = new BlockList();
  for (const ip of ips) {
    const family = isIP(ip);
    if (family !== 0) list.addAddress(ip, family === 6 ? "ipv6" : "ipv4");
  }
  return list;
}

function pointsAtApps(name: string, appsDomain: string): boolean {
  const target = name.toLowerCase().replace(/\.$/, "");
  return target === appsDomain || target.endsWith(`.${appsDomain}`);
}

type Step = { proven: boolean; error?: string; seen?: string };

async function txtStep(lookups: DnsLookups, target: ProofTarget): Promise<Step> {
  const result = await lookups.txt(`_tussilago.${target.hostname}`);
  if (result.status === "error") return { proven: false, error: result.code };
  if (result.status === "missing") return { proven: false };
  return { proven: result.values.includes(target.token), seen: "txt" };
}

async function addressStep(lookups: DnsLookups, hostname: string, ours: BlockList, any: boolean): Promise<Step> {
  if (!any) return { proven: false };
  const result: LookupResult<string> = await lookups.addresses(hostname);
  if (result.status === "error") return { proven: false, error: result.code };
  if (result.status === "missing") return { proven: false };
  return {
    proven: result.values.some((ip) => ours.check(ip, isIP(ip) === 6 ? "ipv6" : "ipv4")),
    seen: "addresses",
  };
}

async function cnameStep(lookups: DnsLookups, hostname: string, appsDomain: string): Promise<Step> {
  let name = hostname;
  for (let hop = 0; hop < MAX_CNAME_HOPS; hop += 1) {
    const result = await lookups.cname(name);
    if (result.status === "error") return { proven: false, error: result.code };
    if (result.status === "missing") return { proven: false, ...(hop > 0 ? { seen: "cname" } : {}) };
    const next = result.values[0]?.toLowerCase().replace(/\.$/, "") ?? "";
    if (pointsAtApps(next, appsDomain)) return { proven: true };
    name = next;
  }
  return { proven: false, seen: "cname" };
}

function missingMessage(target: ProofTarget, txtSeen: boolean, policy: ProofPolicy): string {
  const record = `_tussilago.${target.hostname}`;
  const txt = txtSeen
    ? `The TXT record ${record} exists but does not hold the expected value`
    : `There is no TXT record ${record} with the expected value`;
  const pointing =
    policy.publicIps.length > 0
      ? `${target.hostname} does not point at this installation (an A/AAAA record to its addresses, or a CNAME to ${policy.appsDomain})`
      : `${target.hostname} is not a CNAME to ${policy.appsDomain}`;
  return `${txt}, and ${pointing}. DNS changes can take a while to be seen.`;
}

/** Runs the three proofs in order (the first that holds wins) and says what was found. Never throws. */
export async function checkOwnership(
  lookups: DnsLookups,
  target: ProofTarget,
  policy: ProofPolicy,
): Promise<ProofOutcome> {
  const errors: string[] = [];
  const txt = await txtStep(lookups, target);
  if (txt.proven) return { kind: "proven", by: "txt" };
  if (txt.error) errors.push(txt.error);
  const ours = addressList(policy.publicIps);
  const addresses = await addressStep(lookups, target.hostname, ours, policy.publicIps.length > 0);
  if (addresses.proven) return { kind: "proven", by: "a" };
  if (addresses.error) errors.push(addresses.error);
  const cname = await cnameStep(lookups, target.hostname, policy.appsDomain);
  if (cname.proven) return { kind: "proven", by: "cname" };
  if (cname.error) errors.push(cname.error);
  if (errors.length > 0) {
    const timedOut = errors.some((code) => code === "ETIMEOUT" || code === "ECANCELLED");
    return {
      kind: "dns_error",
      codes: errors,
      message: timedOut
        ? `The DNS lookups for ${target.hostname} timed out; the check will be tried again.`
        : `The DNS lookups for ${target.hostname} failed (the name servers answered ${errors[0]?.replace(/^E/, "")}); the check will be tried again.`,
    };
  }
  return { kind: "missing", message: missingMessage(target, txt.seen === "txt", policy) };
}

/**
 * A checker with a fresh resolver per check and a total deadline: past it the lookups in flight are cancelled and
 * the check answers a DNS error (a request that checks "now" must not hang on a slow name server).
 */
export function createProofChecker(
  options: DnsResolverOptions & { totalTimeoutMs: number },
  policy: ProofPolicy,
): ProofChecker {
  return async (target) => {
    const lookups = createDnsLookups(options);
    const timer = setTimeout(() => lookups.cancel(), options.totalTimeoutMs);
    try {
      return await checkOwnership(lookups, target, policy);
    } finally {
      clearTimeout(timer);
    }
  };
}
