// Measures the instance's disk use (lib/engine/instance-usage.ts) for the admin's usage view and stores the report;
// a week of reports is kept. Idempotent: each run adds one snapshot, and a retry only adds a newer one.
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { measureInstanceUsage } from "@/lib/engine/instance-usage";
import { backupStoreConfig, getEnv } from "@/lib/env";
import { backupEncryptionKey, createBackupStore } from "@/lib/infra/backup-store";
import type { Podman } from "@/lib/infra/podman";
import { getInfra, MissingExecutableError } from "@/lib/services/infra";

const REPORT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

export const instanceUsage = defineTask(catalog.instance__usage, {
  async run(_payload, { db, log }) {
    const env = getEnv();
    let podman: Podman | null = null;
    try {
      podman = getInfra().podman();
    } catch (error) {
      if (!(error instanceof MissingExecutableError)) throw error;
    }
    const storeConfig = backupStoreConfig(env);
    const s3Store =
      storeConfig.kind === "s3" ? createBackupStore(storeConfig, backupEncryptionKey(env.secretKey)) : null;
    const usage = await measureInstanceUsage({ dataDir: env.dataDir, podman, s3Store });
    await db.instanceUsageReport.create({ data: { usage } });
    await db.instanceUsageReport.deleteMany({
      where: { createdAt: { lt: new Date(Date.now() - REPORT_RETENTION_MS) } },
    });
    log.info({ errors: usage.errors.length }, "instance usage measured");
  },
  async onGiveUp(_payload, reason, { db }) {
    // The page shows the newest report: a failed run's reason replaces figures that would otherwise look current.
    await db.instanceUsageReport.create({
      data: {
        usage: { images: null, builds: null, logs: null, backups: null, errors: [`The measurement failed: ${reason}`] },
      },
    });
  },
});
