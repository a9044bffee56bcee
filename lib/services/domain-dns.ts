// The ownership checker of custom domains, wired from the configuration: the name servers (TUSSILAGO_DNS_RESOLVERS or
// the system's), this installation's addresses (TUSSILAGO_PUBLIC_IPS) and the apps domain. A request that checks now
// gets a short total deadline; the worker's periodic checks can wait longer.
import { getEnv } from "@/lib/env";
import { createProofChecker, type ProofChecker } from "@/lib/infra/dns";

export type CheckerUse = "request" | "worker";

const LIMITS: Record<CheckerUse, { timeoutMs: number; tries: number; totalTimeoutMs: number }> = {
  request: { timeoutMs: 1500, tries: 2, totalTimeoutMs: 5000 },
  worker: { timeoutMs: 3000, tries: 3, totalTimeoutMs: 30_000 },
};

export function domainProofChecker(use: CheckerUse): ProofChecker {
  const env = getEnv();
  return createProofChecker(
    { servers: env.domains.dnsResolvers, ...LIMITS[use] },
    { publicIps: env.domains.publicIps, appsDomain: env.appsDomain },
  );
}
