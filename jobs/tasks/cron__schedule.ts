// The cron scheduler's pass (lib/domain/cron-ticks.ts): every minute from the crontab, turning each cron job's due
// tick into one run, exactly once whatever the number of workers. A pass that fails is not retried: the next
// minute's pass sees the same due ticks (a job's lastTickAt only moves with its run).
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { scheduleCronTicks } from "@/lib/domain/cron-ticks";

export const cronSchedule = defineTask(catalog.cron__schedule, {
  async run(_payload, { db, log }) {
    const counts = await scheduleCronTicks(db, new Date(), log);
    if (counts.runs + counts.skipped > 0) log.info(counts, "cron ticks scheduled");
  },
});
