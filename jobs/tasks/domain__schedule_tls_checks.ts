// Periodic (jobs/crontab.ts, every 5 minutes): with TLS on, queues a domain__check_tls for each verified domain whose
// certificate is due for a look (lib/engine/tls-status.ts).
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { scheduleTlsChecks } from "@/lib/engine/tls-status";
import { getEnv } from "@/lib/env";

export const domainScheduleTlsChecks = defineTask(catalog.domain__schedule_tls_checks, {
  async run(_payload, { db, log }) {
    if (!getEnv().tls.enabled) return;
    await scheduleTlsChecks(db, log);
  },
});
