import { addDomainEndpoint, domainJson, listDomainsEndpoint } from "@/lib/api/endpoints/domains";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { addDomain, listDomains } from "@/lib/domain/domains";

export const GET = handle(listDomainsEndpoint, async ({ ctx, params, query }) => {
  const page = await listDomains(getDb(), ctx, params.appId, query);
  return { status: 200 as const, body: { items: page.items.map(domainJson), nextCursor: page.nextCursor } };
});

export const POST = handle(addDomainEndpoint, async ({ ctx, params, body }) => {
  const domain = await addDomain(getDb(), ctx, params.appId, body);
  return { status: 201 as const, body: { domain: domainJson(domain) } };
});

export const { PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/apps/{appId}/domains");
