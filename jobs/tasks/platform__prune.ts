// Periodic housekeeping (crontab): forgets old heartbeats, expired rate-limit windows and sign-in tokens, sent mail,
// revoked and expired portal sessions, build cgroups no build uses;
// removes app images no rollback will need (lib/engine/reconcile.ts, TUSSILAGO_KEEP_IMAGES).
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { pruneUserSessions } from "@/lib/auth/user-sessions";
import { pruneImages } from "@/lib/engine/reconcile";
import { getEnv } from "@/lib/env";
import { sweepBuildCgroups } from "@/lib/infra/build-cgroup";
import type { Podman } from "@/lib/infra/podman";
import { getInfra, MissingExecutableError } from "@/lib/services/infra";

const HEARTBEAT_RETENTION_MS = 24 * 60 * 60 * 1000;

export const platformPrune = defineTask(catalog.platform__prune, {
  async run(_payload, { db, log }) {
    const cutoff = new Date(Date.now() - HEARTBEAT_RETENTION_MS);
    const removed = await db.workerHeartbeat.deleteMany({ where: { beatAt: { lt: cutoff } } });
    if (removed.count > 0) log.info({ removed: removed.count }, "pruned stale worker heartbeats");
    const now = new Date();
    await db.rateLimitBucket.deleteMany({ where: { resetAt: { lt: now } } });
    await db.verificationToken.deleteMany({ where: { expiresAt: { lt: now } } });
    await db.outboundEmail.deleteMany({ where: { sentAt: { lt: cutoff } } });
    await db.idempotencyKey.deleteMany({ where: { createdAt: { lt: cutoff } } });
    await pruneUserSessions(db, now);
    // Build cgroups a crash left behind, or that were busy when their build ended; the running builds keep theirs.
    const cgroupRoot = getEnv().infra.cgroupRoot;
    if (cgroupRoot !== null && process.getuid?.() === 0) {
      const building = await db.deployment.findMany({ where: { status: "building" }, select: { id: true } });
      const swept = await sweepBuildCgroups({ keep: new Set(building.map((row) => row.id)), root: cgroupRoot });
      if (swept > 0) log.info({ removed: swept }, "pruned leftover build cgroups");
    }
    let podman: Podman;
    try {
      podman = getInfra().podman();
    } catch (error) {
      if (error instanceof MissingExecutableError) return;
      throw error;
    }
    const images = await pruneImages({ db, podman, log, keep: getEnv().release.keepImages });
    if (images.length > 0) log.info({ removed: images.length }, "pruned old app images");
  },
});
