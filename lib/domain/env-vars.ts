// Env vars: set, unset and bulk edit; values sealed at rest and masked on every read.
import { z } from "zod";
import { decryptBound, decryptSecret, encryptBound, isLegacySealed } from "@/lib/crypto";
import type { Db } from "@/lib/db";
import { ENV_MAX_KEYS, ENV_TOTAL_MAX_BYTES, envKey, envValue } from "@/lib/domain/app-rules";
import { getAppOrThrow } from "@/lib/domain/apps";
import { recordAudit } from "@/lib/domain/audit";
import { authorize, type Ctx } from "@/lib/domain/context";
import { requestRestart } from "@/lib/domain/lifecycle";
import { AppError } from "@/lib/errors";

/** `value` is the plain value of a plain variable, MASK for a secret one. */
export type EnvVarView = { key: string; value: string; secret: boolean; updatedAt: Date };

/** What every read shows instead of a value. */
export const MASK = "••••••••";

/** `{"KEY": "value", "OLD": null}`: set the first, unset the second. */
export const envChanges = z.record(z.string(), envValue.nullable()).superRefine((changes, refinement) => {
  for (const key of Object.keys(changes)) {
    const parsed = envKey.safeParse(key);
    if (!parsed.success)
      refinement.addIssue({ code: "custom", path: [key], message: parsed.error.issues[0]?.message ?? "Invalid key." });
  }
});
export type EnvChanges = z.infer<typeof envChanges>;

/**
 * `{"KEY": false}`: KEY's value is plain (shown on reads) rather than secret. Only for keys set in the same change:
 * a key set without a flag keeps its flag, a new one is secret, so nothing becomes visible by accident.
 */
export const envSecretFlags = z.record(z.string(), z.boolean());
export type EnvSecretFlags = z.infer<typeof envSecretFlags>;

/** `restart: false` leaves running containers alone (the portal's plain "Save"); the API always restarts. */
export type EnvSetOptions = { secret?: EnvSecretFlags; restart?: boolean };

/** The plaintext length of a sealed value (AES-GCM keeps the length), without decrypting it. */
function sealedLength(sealed: string): number {
  const ciphertext = sealed.split(".")[3] ?? "";
  return Buffer.from(ciphertext, "base64url").length;
}

export async function listEnvVars(db: Db, ctx: Ctx, appId: string): Promise<EnvVarView[]> {
  authorize(ctx, "env:read");
  const app = await db.app.findFirst({
    where: { id: appId, teamId: ctx.teamId },
    select: {
      envVars: {
        orderBy: { key: "asc" },
        select: { key: true, secret: true, valueEncrypted: true, updatedAt: true },
      },
    },
  });
  if (!app) throw new AppError("not_found", "App not found.");
  return app.envVars.map((row) => ({
    key: row.key,
    value: row.secret ? MASK : decryptBound(row.valueEncrypted, envVarBinding(appId, row.key)),
    secret: row.secret,
    updatedAt: row.updatedAt,
  }));
}

/**
 * One secret value in clear, for the person who asked: members and up (they can deploy code that reads it anyway),
 * audited with the key, never the value; the value goes to the caller only (not a log, not the audit row).
 */
export async function revealEnvVar(db: Db, ctx: Ctx, appId: string, key: string): Promise<string> {
  authorize(ctx, "env:reveal");
  const app = await db.app.findFirst({
    where: { id: appId, teamId: ctx.teamId },
    select: { envVars: { where: { key }, select: { valueEncrypted: true } } },
  });
  if (!app) throw new AppError("not_found", "App not found.");
  const row = app.envVars[0];
  if (!row) throw new AppError("not_found", "This variable is not set.");
  const value = decryptBound(row.valueEncrypted, envVarBinding(appId, key));
  await recordAudit(db, ctx, { action: "app.env_revealed", target: { type: "app", id: appId }, metadata: { key } });
  return value;
}

/**
 * Applies a set of changes in one transaction; answers the result, secret values masked. Never logs or audits
 * values. A running app restarts to pick them up unless `options.restart` is false.
 */
export async function setEnvVars(
  db: Db,
  ctx: Ctx,
  appId: string,
  changes: EnvChanges,
  options: EnvSetOptions = {},
): Promise<EnvVarView[]> {
  authorize(ctx, "env:write");
  const parsed = envChanges.safeParse(changes);
  if (!parsed.success) {
    throw new AppError("invalid", "Some variables are invalid.", {
      details: parsed.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })),
    });
  }
  const flags = options.secret ?? {};
  const unflaggable = Object.keys(flags).filter((key) => typeof parsed.data[key] !== "string");
  if (unflaggable.length > 0) {
    throw new AppError("invalid", "A secret flag needs the variable's value in the same change.", {
      details: unflaggable.map((key) => ({
        path: `secret.${key}`,
        message: "Set this key's value in the same change.",
      })),
    });
  }
  await getAppOrThrow(db, ctx, appId);
  await db.$transaction(async (tx) => {
    // Serialises changes per app, so the key count and size limits hold under concurrent requests.
    const [locked] = await tx.$queryRaw<{ status: string }[]>`
      SELECT status::text FROM "App" WHERE id = ${appId}::uuid AND "teamId" = ${ctx.teamId}::uuid FOR UPDATE`;
    // Like every other change: the app__delete job may already be removing its containers and rows.
    if (locked?.status === "deleting") throw new AppError("conflict", "This app is being deleted.");
    const toSet = Object.entries(parsed.data).filter((entry): entry is [string, string] => entry[1] !== null);
    const toUnset = Object.entries(parsed.data)
      .filter(([, value]) => value === null)
      .map(([key]) => key);
    if (toUnset.length > 0) await tx.envVar.deleteMany({ where: { appId, key: { in: toUnset } } });
    for (const [key, value] of toSet) {
      const valueEncrypted = encryptBound(value, envVarBinding(appId, key));
      const secret = flags[key];
      await tx.envVar.upsert({
        where: { appId_key: { appId, key } },
        create: { appId, key, valueEncrypted, secret: secret ?? true },
        update: { valueEncrypted, ...(secret === undefined ? {} : { secret }) },
      });
    }
    const all = await tx.envVar.findMany({ where: { appId }, select: { valueEncrypted: true } });
    if (all.length > ENV_MAX_KEYS) throw new AppError("invalid", `An app can have at most ${ENV_MAX_KEYS} variables.`);
    const totalBytes = all.reduce((sum, row) => sum + sealedLength(row.valueEncrypted), 0);
    if (totalBytes > ENV_TOTAL_MAX_BYTES) {
      throw new AppError(
        "too_large",
        `An app's variables can hold at most ${ENV_TOTAL_MAX_BYTES / 1024} KiB in total.`,
      );
    }
    await recordAudit(tx, ctx, {
      action: "app.env_changed",
      target: { type: "app", id: appId },
      metadata: {
        set: toSet.map(([key]) => key),
        unset: toUnset,
        // Which keys were made plain (readable by viewers): worth finding in the log. Never values.
        ...(Object.keys(flags).length > 0 ? { plain: Object.keys(flags).filter((key) => flags[key] === false) } : {}),
      },
    });
    // Running containers keep the environment they started with: new ones take over (lib/domain/lifecycle.ts).
    const app = await tx.app.findUniqueOrThrow({ where: { id: appId } });
    const restart = options.restart ?? true;
    if (restart && app.status === "running" && app.currentDeploymentId && (toSet.length > 0 || toUnset.length > 0)) {
      await requestRestart(tx, ctx, app, "env_changed");
    }
  });
  return await listEnvVars(db, ctx, appId);
}

/** A value belongs to one app and one key: sealed with them as associated data, it opens nowhere else. */
function envVarBinding(appId: string, key: string): string[] {
  return ["env-var", appId, key];
}

/**
 * The decrypted variables, for the worker when it starts the app's containers. Never for a response. Only v2
 * values open here: v1 values (unbound) are re-encrypted by reencryptLegacyEnvVars at every start, before the
 * worker runs, so one still here was written behind the platform's back and is refused.
 */
export async function resolveEnvForRelease(db: Db, appId: string): Promise<Record<string, string>> {
  const rows = await db.envVar.findMany({ where: { appId }, orderBy: { key: "asc" } });
  return Object.fromEntries(
    rows.map((row) => {
      if (isLegacySealed(row.valueEncrypted)) {
        throw new Error(
          `env var ${row.key} is sealed in the old format; run \`npm run manage -- migrate\` (npm start does it)`,
        );
      }
      return [row.key, decryptBound(row.valueEncrypted, envVarBinding(row.appId, row.key))];
    }),
  );
}

const REENCRYPT_BATCH = 200;

/**
 * The migration path from v1 (no associated data) to v2 (bound to app and key). It needs the secret key, so it is
 * code, not SQL: `npm start` and `manage migrate` run it after the schema migrations. Idempotent: it touches only
 * v1 rows, and each update applies only if the row still holds the value it read (a concurrent edit wins). A v1
 * value that does not open (another secret key, tampering) is left as it is and counted: the release refuses it.
 */
export async function reencryptLegacyEnvVars(db: Db): Promise<{ migrated: number; unreadable: number }> {
  let migrated = 0;
  let unreadable = 0;
  let after: string | undefined;
  for (;;) {
    const rows = await db.envVar.findMany({
      where: { valueEncrypted: { startsWith: "v1." }, ...(after ? { id: { gt: after } } : {}) },
      select: { id: true, appId: true, key: true, valueEncrypted: true },
      orderBy: { id: "asc" },
      take: REENCRYPT_BATCH,
    });
    if (rows.length === 0) return { migrated, unreadable };
    after = rows.at(-1)?.id;
    const updates = [];
    for (const row of rows) {
      let value: string;
      try {
        value = decryptSecret(row.valueEncrypted);
      } catch {
        unreadable += 1;
        continue;
      }
      updates.push(
        db.envVar.updateMany({
          where: { id: row.id, valueEncrypted: row.valueEncrypted },
          data: { valueEncrypted: encryptBound(value, envVarBinding(row.appId, row.key)) },
        }),
      );
    }
    const results = await db.$transaction(updates);
    migrated += results.reduce((sum, result) => sum + result.count, 0);
  }
}
