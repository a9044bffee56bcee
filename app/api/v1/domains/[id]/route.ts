import { deleteDomainEndpoint, domainJson, getDomainEndpoint, updateDomainEndpoint } from "@/lib/api/endpoints/domains";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { getDomain, removeDomain, updateDomain } from "@/lib/domain/domains";

export const GET = handle(getDomainEndpoint, async ({ ctx, params }) => {
  return { status: 200 as const, body: { domain: domainJson(await getDomain(getDb(), ctx, params.id)) } };
});

export const PATCH = handle(updateDomainEndpoint, async ({ ctx, params, body }) => {
  return { status: 200 as const, body: { domain: domainJson(await updateDomain(getDb(), ctx, params.id, body)) } };
});

export const DELETE = handle(deleteDomainEndpoint, async ({ ctx, params }) => {
  await removeDomain(getDb(), ctx, params.id);
  return { status: 204 as const, body: undefined };
});

export const { POST, PUT, OPTIONS } = methodsNotAllowed("/api/v1/domains/{id}");
