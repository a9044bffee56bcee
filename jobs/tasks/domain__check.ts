// One custom domain's DNS ownership check (lib/engine/domain-verify.ts), queued by domain__schedule_checks with job
// key "domain-check:<id>". Idempotent: it records what DNS says now. DNS failures retry with the catalog's bounded
// backoff; when the attempts run out the domain keeps its status and the reason the user already sees.
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { checkDomain } from "@/lib/engine/domain-verify";
import { getEnv } from "@/lib/env";
import { domainProofChecker } from "@/lib/services/domain-dns";

export const domainCheck = defineTask(catalog.domain__check, {
  async run({ domainId }, { db, log }) {
    // The resolver addresses are for the operator's log only: users read checkError, which names none.
    const resolvers = getEnv().domains.dnsResolvers;
    await checkDomain(db, domainId, {
      check: domainProofChecker("worker"),
      log: log.child({ resolvers: resolvers.length > 0 ? resolvers : "system" }),
    });
  },
  async onGiveUp({ domainId }, reason, { log }) {
    log.warn({ domainId, reason }, "domain check gave up after DNS failures; the next scheduled check tries again");
  },
});
