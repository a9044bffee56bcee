// Periodic (jobs/crontab.ts, every 15 minutes): queues a domain__check for each custom domain due for a DNS re-check.
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { scheduleDomainChecks } from "@/lib/engine/domain-verify";

export const domainScheduleChecks = defineTask(catalog.domain__schedule_checks, {
  async run(_payload, { db, log }) {
    await scheduleDomainChecks(db, log);
  },
});
