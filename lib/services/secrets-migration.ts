// Data migrations that need the secret key (so they cannot be SQL migrations): run by `npm start` and
// `manage migrate` right after the schema migrations, before the web server and the worker start. Idempotent.
import type { Logger } from "pino";
import { createPrismaClient } from "@/lib/db";
import { reencryptLegacyEnvVars } from "@/lib/domain/env-vars";

export async function migrateSecrets(databaseUrl: string, log: Logger): Promise<{ envVarsReencrypted: number }> {
  const db = createPrismaClient(databaseUrl, 1);
  try {
    const { migrated, unreadable } = await reencryptLegacyEnvVars(db);
    if (migrated > 0) log.info({ migrated }, "env var values re-encrypted, bound to their app and key (v2)");
    if (unreadable > 0) {
      log.warn({ unreadable }, "env var values that do not decrypt with this secret key were left as they were");
    }
    return { envVarsReencrypted: migrated };
  } finally {
    await db.$disconnect();
  }
}
