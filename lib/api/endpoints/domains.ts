// Custom domains: a team's own hostnames on its apps, routed (and given certificates) once ownership is proven by DNS.
import { z } from "zod";
import { defineEndpoint, errorBody } from "@/lib/api/endpoint";
import { idParams, iso, isoDate, pageOf } from "@/lib/api/endpoints/common";
import { EXAMPLE_TIME, exampleDomain, examplePage } from "@/lib/api/endpoints/examples";
import { pageQuery } from "@/lib/api/query";
import type { DomainView } from "@/lib/domain/domains";

const appParams = z.strictObject({ appId: z.uuid() });

const dnsRecord = z.object({
  type: z.enum(["TXT", "A", "AAAA", "CNAME"]),
  name: z.string(),
  value: z.string(),
});

export const domainSchema = z.object({
  id: z.uuid(),
  appId: z.uuid(),
  hostname: z.string().describe("Lower-case ASCII; internationalised names as punycode (xn--…)"),
  status: z
    .enum(["pending", "verified"])
    .describe("pending: ownership not proven, not routed; verified: routed, and Caddy may obtain a certificate"),
  verification: dnsRecord
    .extend({ type: z.literal("TXT") })
    .describe("Create this TXT record to prove control of the hostname"),
  alternatives: z
    .array(dnsRecord)
    .describe("Records that prove control too and route the name here: A/AAAA to this installation, or a CNAME"),
  verifiedAt: isoDate.nullable(),
  verifiedBy: z.enum(["txt", "a", "cname"]).nullable().describe("Which record proved control at the last check"),
  lastCheckedAt: isoDate.nullable(),
  proofMissingSince: isoDate
    .nullable()
    .describe("A verified domain whose proof is gone since then: still routed, flagged until the proof is back"),
  checkError: z.string().nullable().describe("Why the last check did not prove control"),
  tls: z.object({
    status: z.enum(["pending", "issued", "failed"]),
    issuer: z.string().nullable(),
    expiresAt: isoDate.nullable(),
    error: z.string().nullable(),
  }),
  redirectHttps: z.boolean().describe("HTTP requests redirect to HTTPS once the certificate exists"),
  hsts: z.boolean().describe("HTTPS answers carry Strict-Transport-Security"),
  createdAt: isoDate,
  updatedAt: isoDate,
});

export function domainJson(domain: DomainView): z.input<typeof domainSchema> {
  return {
    ...domain,
    verifiedBy: domain.verifiedBy as z.input<typeof domainSchema>["verifiedBy"],
    verifiedAt: iso(domain.verifiedAt),
    lastCheckedAt: iso(domain.lastCheckedAt),
    proofMissingSince: iso(domain.proofMissingSince),
    tls: { ...domain.tls, expiresAt: iso(domain.tls.expiresAt) },
    createdAt: iso(domain.createdAt),
    updatedAt: iso(domain.updatedAt),
  };
}

const oneDomain = z.object({ domain: domainSchema });

export const listDomainsEndpoint = defineEndpoint({
  id: "listDomains",
  method: "GET",
  path: "/api/v1/apps/{appId}/domains",
  summary: "The app's custom domains, newest first",
  description: "The app's custom domains, newest first, with their verification and certificate state.",
  examples: { responses: { 200: examplePage(exampleDomain) } },
  tags: ["domains"],
  auth: { scope: "read", permission: "apps:read" },
  errors: [],
  params: appParams,
  query: pageQuery,
  responses: { 200: { description: "A page of domains", schema: pageOf(domainSchema) } },
});

export const addDomainBody = z.strictObject({
  hostname: z.string().max(1024).describe("e.g. shop.example.com; internationalised names are accepted"),
});

export const addDomainEndpoint = defineEndpoint({
  id: "addDomain",
  method: "POST",
  path: "/api/v1/apps/{appId}/domains",
  summary: "Add a custom domain to the app (pending until its DNS proves control)",
  description:
    "Adds a custom hostname to the app. It stays `pending` (not routed) until DNS proves control: create the `verification` TXT record, or point the name here with one of the `alternatives`, then call verify (the worker also checks pending domains periodically). `409` when the hostname is used by any app or the quota is reached.",
  examples: {
    request: { hostname: "shop.example.com" },
    responses: {
      201: {
        domain: {
          ...exampleDomain,
          status: "pending",
          verifiedAt: null,
          verifiedBy: null,
          lastCheckedAt: null,
          tls: { status: "pending", issuer: null, expiresAt: null, error: null },
          updatedAt: EXAMPLE_TIME,
        },
      },
    },
  },
  tags: ["domains"],
  auth: { scope: "write", permission: "apps:write" },
  errors: ["conflict", "quota_exceeded"],
  idempotent: true,
  params: appParams,
  body: addDomainBody,
  responses: {
    201: { description: "Added, pending verification", schema: oneDomain },
    409: {
      description: "The hostname is in use (on this or another app), the app is being deleted, or the quota is reached",
      schema: errorBody,
    },
  },
});

export const getDomainEndpoint = defineEndpoint({
  id: "getDomain",
  method: "GET",
  path: "/api/v1/domains/{id}",
  summary: "One custom domain",
  description: "One custom domain: its DNS records to create, verification and certificate state.",
  examples: { responses: { 200: { domain: exampleDomain } } },
  tags: ["domains"],
  auth: { scope: "read", permission: "apps:read" },
  errors: [],
  params: idParams,
  responses: { 200: { description: "The domain", schema: oneDomain } },
});

export const updateDomainBody = z
  .strictObject({ redirectHttps: z.boolean().optional(), hsts: z.boolean().optional() })
  .refine((body) => body.redirectHttps !== undefined || body.hsts !== undefined, "Give redirectHttps, hsts, or both.");

export const updateDomainEndpoint = defineEndpoint({
  id: "updateDomain",
  method: "PATCH",
  path: "/api/v1/domains/{id}",
  summary: "Turn the HTTP → HTTPS redirect or HSTS on or off",
  description:
    "Turns the HTTP → HTTPS redirect or HSTS on or off; Caddy's configuration is updated by the worker. `409` while the app is being deleted.",
  examples: { request: { hsts: true }, responses: { 200: { domain: { ...exampleDomain, hsts: true } } } },
  tags: ["domains"],
  auth: { scope: "write", permission: "apps:write" },
  errors: ["conflict"],
  params: idParams,
  body: updateDomainBody,
  responses: {
    200: { description: "The domain", schema: oneDomain },
    409: { description: "The app is being deleted", schema: errorBody },
  },
});

export const deleteDomainEndpoint = defineEndpoint({
  id: "deleteDomain",
  method: "DELETE",
  path: "/api/v1/domains/{id}",
  summary: "Remove a custom domain; it stops being routed",
  description: "Removes a custom domain; it stops being routed and its certificate is no longer renewed.",
  examples: { responses: {} },
  tags: ["domains"],
  auth: { scope: "write", permission: "apps:write" },
  errors: [],
  params: idParams,
  responses: { 204: { description: "Removed" } },
});

export const verifyDomainEndpoint = defineEndpoint({
  id: "verifyDomain",
  method: "POST",
  path: "/api/v1/domains/{id}/verify",
  summary:
    "Check the domain's DNS now (a few seconds at most) and answer the domain: verified, or why not (checkError)",
  description:
    "Checks the domain's DNS now (a few seconds at most) and answers the domain: `verified` (then routed, and a certificate is obtained), or still `pending` with `checkError` saying why. `429` after too many checks by the team in a minute; `409` while the app is being deleted.",
  examples: { responses: { 200: { domain: exampleDomain } } },
  tags: ["domains"],
  auth: { scope: "write", permission: "apps:write" },
  errors: ["conflict", "rate_limited"],
  params: idParams,
  responses: {
    200: { description: "The domain after the check", schema: oneDomain },
    429: { description: "Too many checks by the team in the last minute", schema: errorBody },
    409: { description: "The app is being deleted", schema: errorBody },
  },
});
