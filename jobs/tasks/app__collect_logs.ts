// Copies what an app's live containers printed into its runtime log file (lib/engine/app-logs.ts). Asked for by
// the logs endpoint on each poll (job key per app: polls while one is pending collapse into it), so logs are only
// fetched while someone is reading them, and the request itself never runs podman.
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { collectAppLogs } from "@/lib/engine/app-logs";
import { getEnv } from "@/lib/env";
import { getInfra, MissingExecutableError } from "@/lib/services/infra";

export const appCollectLogs = defineTask(catalog.app__collect_logs, {
  async run({ appId }, { db, log }) {
    let podman: ReturnType<ReturnType<typeof getInfra>["podman"]>;
    try {
      podman = getInfra().podman();
    } catch (error) {
      // No container engine on this host: no app runs here, so there is nothing to collect.
      if (error instanceof MissingExecutableError) return;
      throw error;
    }
    await collectAppLogs({ db, podman, dataDir: getEnv().dataDir, log }, appId);
  },
});
