// Crash handling for every process (lib/engine/crash-watch.ts): exited containers of running apps restarted with
// backoff, or marked crashed when they keep exiting. Twice a minute: the crontab's run (each minute) queues one more
// pass 30 seconds later under a job key, and that one queues nothing, so the cadence never drifts or doubles.
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { enqueue } from "@/jobs/enqueue";
import { watchCrashes } from "@/lib/engine/crash-watch";
import { getInfra, MissingExecutableError } from "@/lib/services/infra";

export const CRASH_WATCH_FOLLOW_UP_KEY = "platform-crash-watch-follow-up";
const FOLLOW_UP_DELAY_MS = 30_000;

export const platformCrashWatch = defineTask(catalog.platform__crash_watch, {
  async run(payload, { db, log }) {
    if (!payload.followUp) {
      await db.$transaction((tx) =>
        enqueue(
          tx,
          "platform__crash_watch",
          { followUp: true },
          { jobKey: CRASH_WATCH_FOLLOW_UP_KEY, runAt: new Date(Date.now() + FOLLOW_UP_DELAY_MS) },
        ),
      );
    }
    let podman: ReturnType<ReturnType<typeof getInfra>["podman"]>;
    try {
      podman = getInfra().podman();
    } catch (error) {
      if (error instanceof MissingExecutableError) {
        log.debug("no podman on this host: nothing to watch");
        return;
      }
      throw error;
    }
    const report = await watchCrashes({ db, podman, log });
    const changed = report.restarted.length + report.waiting.length + report.crashed.length + report.stable.length;
    if (changed > 0) log.info(report, "crash watch");
    else log.debug("crash watch: nothing exited");
  },
});
