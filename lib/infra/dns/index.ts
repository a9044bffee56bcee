// DNS: lookups with timeouts (resolver.ts) and the ownership proof of custom domains (proof.ts).
export { checkOwnership, createProofChecker, MAX_CNAME_HOPS, type ProofPolicy } from "./proof";
export { createDnsLookups, type DnsLookups, type DnsResolverOptions, type LookupResult } from "./resolver";
export type { ProofChecker, ProofMethod, ProofOutcome, ProofTarget } from "./types";
