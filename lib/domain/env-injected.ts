// The variables the platform puts into an app's environment beside the team's own (lib/engine/release/containers.ts
// and service-env.ts), described for the env page: which keys, from where. Never their secret values: the database
// and Redis passwords are revealed on those resources' pages, audited.
import { APP_PORT } from "@/lib/build/containerfile";
import type { Db } from "@/lib/db";
import { authorize, type Ctx } from "@/lib/domain/context";
import { CREDENTIAL_STATUSES } from "@/lib/domain/tenant-service-rules";
import { AppError } from "@/lib/errors";

export type InjectedEnvVar = {
  key: string;
  /** Shown only when it is no secret (PORT); otherwise null. */
  value: string | null;
  source: { kind: "platform" } | { kind: "database" | "redis"; id: string; name: string };
};

const DATABASE_KEYS = ["DATABASE_URL", "PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"] as const;
const REDIS_KEYS = [
  "REDIS_URL",
  "REDIS_HOST",
  "REDIS_PORT",
  "REDIS_USER",
  "REDIS_PASSWORD",
  "REDIS_KEY_PREFIX",
] as const;

/** Two queries at most, whatever is attached: the app with its first attached database and Redis. */
export async function listInjectedEnv(db: Db, ctx: Ctx, appId: string): Promise<InjectedEnvVar[]> {
  authorize(ctx, "env:read");
  const where = { teamId: ctx.teamId, status: { in: [...CREDENTIAL_STATUSES] } };
  // The oldest attachment wins, as in resolveServiceEnvForApp.
  const orderBy = [{ createdAt: "asc" as const }, { id: "asc" as const }];
  const app = await db.app.findFirst({
    where: { id: appId, teamId: ctx.teamId },
    select: {
      databases: { where, orderBy, take: 1, select: { id: true, name: true } },
      redises: { where, orderBy, take: 1, select: { id: true, name: true } },
    },
  });
  if (!app) throw new AppError("not_found", "App not found.");
  const injected: InjectedEnvVar[] = [{ key: "PORT", value: String(APP_PORT), source: { kind: "platform" } }];
  const database = app.databases[0];
  if (database) {
    const source = { kind: "database" as const, id: database.id, name: database.name };
    injected.push(...DATABASE_KEYS.map((key) => ({ key, value: null, source })));
  }
  const redis = app.redises[0];
  if (redis) {
    const source = { kind: "redis" as const, id: redis.id, name: redis.name };
    injected.push(...REDIS_KEYS.map((key) => ({ key, value: null, source })));
  }
  return injected;
}
