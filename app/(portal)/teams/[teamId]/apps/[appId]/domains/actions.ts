"use server";

// The Domains tab's actions: the same domain functions as the API (POST /api/v1/apps/{appId}/domains, PATCH/DELETE
// /api/v1/domains/{id}, POST .../verify). Each validates its fields with zod, and the domain function authorizes and
// scopes by team, so another team's domain is "not found" like one that does not exist.
import { refresh } from "next/cache";
import { z } from "zod";
import { type AppDomains, loadAppDomains } from "@/app/(portal)/teams/[teamId]/apps/[appId]/domains/domains-data";
import { type ActionState, teamAction, teamCall } from "@/lib/actions";
import { addDomain, removeDomain, updateDomain, verifyDomain } from "@/lib/domain/domains";
import { domainProofChecker } from "@/lib/services/domain-dns";

const appInput = z.strictObject({ teamId: z.uuid(), appId: z.uuid() });
const domainInput = appInput.extend({ domainId: z.uuid() });

export const addDomainAction = teamAction(
  // The bound only stops oversized input early; the hostname rules themselves are the domain's (one wording).
  appInput.extend({ hostname: z.string().max(1024, "A hostname has at most 253 characters.") }),
  async (input, { db, ctx }) => {
    const domain = await addDomain(db, ctx, input.appId, { hostname: input.hostname });
    refresh();
    return {
      status: "success",
      message: `${domain.hostname} added. Create one of the DNS records shown for it, then check it.`,
    };
  },
);

/** Checks DNS now: a lookup with a short total deadline (lib/services/domain-dns.ts), not an infrastructure command. */
export const verifyDomainAction = teamAction(domainInput, async (input, { db, ctx }) => {
  const domain = await verifyDomain(db, ctx, input.domainId, domainProofChecker("request"));
  refresh();
  if (domain.status === "verified" && !domain.proofMissingSince) {
    return { status: "success", message: `${domain.hostname} is verified.` };
  }
  return {
    status: "error",
    message: `${domain.hostname} is not proven yet: ${domain.checkError ?? "no matching DNS record was found."}`,
  };
});

const SETTING_LABEL = { redirectHttps: "HTTP to HTTPS redirect", hsts: "HSTS" } as const;

export const updateDomainAction = teamAction(
  domainInput.extend({ setting: z.enum(["redirectHttps", "hsts"]), enabled: z.enum(["on", "off"]) }),
  async (input, { db, ctx }) => {
    const domain = await updateDomain(db, ctx, input.domainId, { [input.setting]: input.enabled === "on" });
    refresh();
    return { status: "success", message: `${SETTING_LABEL[input.setting]} ${input.enabled} for ${domain.hostname}.` };
  },
);

export const removeDomainAction = teamAction(domainInput, async (input, { db, ctx }) => {
  await removeDomain(db, ctx, input.domainId);
  refresh();
  return { status: "success", message: "Domain removed." };
});

const domainsPoll = teamCall<typeof appInput, AppDomains>(appInput, async (input, { db, ctx }) => {
  return { status: "success", data: await loadAppDomains(db, ctx, input.appId) };
});

/** The Domains tab polls this while the tab is visible (membership checked on each call). */
export async function pollAppDomains(teamId: string, appId: string): Promise<ActionState<AppDomains>> {
  return await domainsPoll({ teamId, appId });
}
