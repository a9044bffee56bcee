import { domainJson, verifyDomainEndpoint } from "@/lib/api/endpoints/domains";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { verifyDomain } from "@/lib/domain/domains";
import { domainProofChecker } from "@/lib/services/domain-dns";

// A DNS lookup with a short total deadline (lib/services/domain-dns.ts), not an infrastructure command.
export const POST = handle(verifyDomainEndpoint, async ({ ctx, params }) => {
  const domain = await verifyDomain(getDb(), ctx, params.id, domainProofChecker("request"));
  return { status: 200 as const, body: { domain: domainJson(domain) } };
});

export const { GET, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/domains/{id}/verify");
