// Imports an export into a tenant Redis of the same team (lib/engine/backups/redis.ts).
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { failOperation } from "@/lib/domain/operations";
import { backupDeps } from "@/lib/engine/backups/adapters";
import { importRedisNow } from "@/lib/engine/backups/redis";

export const redisImport = defineTask(catalog.redis__import, {
  run: (payload, { db, log }) => importRedisNow(backupDeps(db, log), payload),
  async onGiveUp({ operationId }, reason, { db }) {
    await failOperation(db, operationId, `The import failed: ${reason}`);
  },
});
