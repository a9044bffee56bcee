// Which platform database the processes use: DATABASE_URL when set, else the embedded PostgreSQL.
import fs from "node:fs/promises";
import type { Logger } from "pino";
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from "@/lib/database/embedded";
import type { Env } from "@/lib/env";

export type PlatformDatabase = {
  url: string;
  directUrl: string;
  embedded: EmbeddedPostgresHandle | null;
  stop(): Promise<void>;
};

export async function openPlatformDatabase(
  env: Env,
  log: Logger,
  options: { attachIfRunning: boolean },
): Promise<PlatformDatabase> {
  // 0711: other users may pass through (the postgres user must, when root starts the platform) but not list it.
  await fs.mkdir(env.dataDir, { recursive: true, mode: 0o711 });
  if (env.databaseUrl) {
    return {
      url: env.databaseUrl,
      directUrl: env.databaseDirectUrl ?? env.databaseUrl,
      embedded: null,
      stop: async () => {},
    };
  }
  const embedded = await startEmbeddedPostgres({ dataDir: env.dataDir, log, attachIfRunning: options.attachIfRunning });
  return { url: embedded.url, directUrl: embedded.url, embedded, stop: () => embedded.stop() };
}
