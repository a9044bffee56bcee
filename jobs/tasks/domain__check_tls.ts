// One custom domain's certificate check (lib/engine/tls-status.ts), queued by domain__schedule_tls_checks with job key
// "domain-tls:<id>". Idempotent: it records what Caddy serves now. Only an unreachable Caddy retries, with the
// catalog's bounded backoff; when the attempts run out the domain keeps its last recorded status.
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { checkDomainTls, tlsTargetFromListen } from "@/lib/engine/tls-status";
import { getEnv } from "@/lib/env";

export const domainCheckTls = defineTask(catalog.domain__check_tls, {
  async run({ domainId }, { db, log }) {
    const env = getEnv();
    const listen = env.release.caddyHttpsListen[0];
    if (!env.tls.enabled || listen === undefined) return;
    await checkDomainTls(db, domainId, { target: tlsTargetFromListen(listen), log });
  },
  async onGiveUp({ domainId }, reason, { log }) {
    log.warn(
      { domainId, reason },
      "certificate check gave up: caddy unreachable; the next scheduled check tries again",
    );
  },
});
