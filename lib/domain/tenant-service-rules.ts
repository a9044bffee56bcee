// What tenant databases and Redis instances share: their names, limits, states, the one-per-app attachment rule,
// and the "not on this installation" answer. Used by lib/domain/databases.ts and lib/domain/redis.ts.
import { z } from "zod";
import type { Tx } from "@/lib/db";
import { NO_DOUBLE_HYPHEN } from "@/lib/domain/app-rules";
import { lineText } from "@/lib/domain/text";
import { AppError } from "@/lib/errors";
import type { TenantServiceStatus } from "@/lib/generated/prisma/enums";

export const SERVICE_NAME_MAX = 63;

/** A DNS label, like app names: the portal shows it in URLs and the typed delete confirmation compares it. */
export const serviceName = lineText()
  .max(SERVICE_NAME_MAX, `At most ${SERVICE_NAME_MAX} characters.`)
  .regex(
    /^[a-z]([a-z0-9-]*[a-z0-9])?$/,
    "Use lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen.",
  )
  .regex(NO_DOUBLE_HYPHEN, "No consecutive hyphens.");

// A hostile or careless team must not be able to fill the shared servers with empty databases. Checked with a count
// inside the creating transaction, so two simultaneous creations can overshoot by one: a soft cap.
export const MAX_DATABASES_PER_TEAM = 20;
export const MAX_REDIS_PER_TEAM = 20;

const connectionLimit = z.number().int().min(1).max(100);
// At least 100 ms (shorter breaks ordinary queries), at most a day (migrations on big tables).
const statementTimeoutMs = z.number().int().min(100).max(86_400_000);
const idleInTransactionMs = z.number().int().min(1_000).max(86_400_000);

export const databaseLimits = z.strictObject({
  connectionLimit: connectionLimit.default(20),
  statementTimeoutMs: statementTimeoutMs.default(30_000),
  idleInTransactionMs: idleInTransactionMs.default(60_000),
});

/** A change of limits: only what is given changes (no defaults, unlike databaseLimits.partial()). */
export const databaseLimitsChange = z.strictObject({
  connectionLimit: connectionLimit.optional(),
  statementTimeoutMs: statementTimeoutMs.optional(),
  idleInTransactionMs: idleInTransactionMs.optional(),
});
export type DatabaseLimits = z.output<typeof databaseLimits>;
export type DatabaseLimitsInput = z.input<typeof databaseLimits>;

/** Statuses in which the stored credentials are the ones handed to apps and shown to admins. */
export const CREDENTIAL_STATUSES = ["ready", "failed"] as const satisfies readonly TenantServiceStatus[];

export type ServiceKind = "database" | "redis";

const LABEL: Record<ServiceKind, string> = { database: "database", redis: "Redis instance" };
const CAPITAL: Record<ServiceKind, string> = { database: "Database", redis: "Redis instance" };

export function serviceNotFound(kind: ServiceKind): AppError {
  return new AppError("not_found", `${CAPITAL[kind]} not found.`);
}

/** Retryable: a worker may be restarted with the configuration meanwhile (and the API answers 503 either way). */
export function serviceUnavailable(kind: ServiceKind): AppError {
  return kind === "database"
    ? new AppError("unavailable", "PostgreSQL databases are not available on this installation.", { retryable: true })
    : new AppError(
        "unavailable",
        "Redis is not available on this installation (redis-server is not installed, or TENANT_REDIS_ADMIN_URL is not set).",
        { retryable: true },
      );
}

export function busyConflict(kind: ServiceKind, status: TenantServiceStatus): AppError {
  if (status === "provisioning") {
    return new AppError("conflict", `The ${LABEL[kind]} is still being created; try again when it is ready.`);
  }
  return new AppError("conflict", `The ${LABEL[kind]} is being deleted.`);
}

/** Domain functions validate too: the portal, the API and the CLI all reach them. */
export function parseOrInvalid<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((issue) => ({
    path: [field, ...issue.path.map(String)].join("."),
    message: issue.message,
  }));
  throw new AppError("invalid", details[0]?.message ?? `Invalid ${field}.`, { details });
}

const uuid = z.uuid();

/**
 * Checks that `appId` is an app of the team that can receive a `kind`, inside the attaching transaction. The app's
 * row lock serializes concurrent attachments to it, so the one-per-app rule holds: an app gets one DATABASE_URL
 * and one REDIS_URL. Another team's app, or no app, reads as not found.
 */
export async function lockAppForAttachment(
  tx: Tx,
  input: { teamId: string; appId: string; kind: ServiceKind; serviceId?: string },
): Promise<void> {
  if (!uuid.safeParse(input.appId).success) throw new AppError("not_found", "App not found.");
  const rows = await tx.$queryRaw<{ status: string }[]>`
    SELECT status::text AS status FROM "App" WHERE id = ${input.appId}::uuid AND "teamId" = ${input.teamId}::uuid
    FOR UPDATE`;
  const app = rows[0];
  if (!app) throw new AppError("not_found", "App not found.");
  if (app.status === "deleting") throw new AppError("conflict", "This app is being deleted.");
  const where = {
    appId: input.appId,
    teamId: input.teamId,
    ...(input.serviceId ? { id: { not: input.serviceId } } : {}),
  };
  const other =
    input.kind === "database"
      ? await tx.tenantDatabase.findFirst({ where, select: { name: true } })
      : await tx.tenantRedis.findFirst({ where, select: { name: true } });
  if (other) {
    throw new AppError(
      "conflict",
      `The app already has a ${LABEL[input.kind]} attached ("${other.name}"); detach it first.`,
    );
  }
}
