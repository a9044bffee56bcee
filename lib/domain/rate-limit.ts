// Fixed-window rate limits kept in PostgreSQL, so every web process shares them. One statement per hit.
import type { Db } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";

export type RateLimitRule = { limit: number; windowMs: number };

export const SIGN_IN_PER_IP: RateLimitRule = { limit: 30, windowMs: 15 * 60_000 };
export const SIGN_IN_PER_ACCOUNT: RateLimitRule = { limit: 10, windowMs: 15 * 60_000 };
export const EMAIL_REQUESTS_PER_IP: RateLimitRule = { limit: 10, windowMs: 15 * 60_000 };
/** Sign-ups cost an argon2 hash each and create rows: a few per hour per address is plenty for people. */
export const SIGN_UP_PER_IP: RateLimitRule = { limit: 10, windowMs: 60 * 60_000 };

/**
 * A per-address rule as configured: TUSSILAGO_PER_IP_RATE_LIMIT_SCALE multiplies it where many people share one
 * address (a school, a company's NAT). Per-account limits are never scaled: they carry the weight against guessing.
 */
export function perIp(rule: RateLimitRule): RateLimitRule {
  return { ...rule, limit: rule.limit * getEnv().perIpRateLimitScale };
}

export async function hitRateLimit(
  db: Db,
  key: string,
  rule: RateLimitRule,
): Promise<{ allowed: boolean; retryAfterSeconds: number }> {
  const [row] = await db.$queryRaw<{ count: number; resetAt: Date }[]>`
    INSERT INTO "RateLimitBucket" (key, count, "resetAt")
    VALUES (${key}, 1, now() + ${rule.windowMs} * interval '1 millisecond')
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN "RateLimitBucket"."resetAt" <= now() THEN 1 ELSE "RateLimitBucket".count + 1 END,
      "resetAt" = CASE WHEN "RateLimitBucket"."resetAt" <= now() THEN EXCLUDED."resetAt" ELSE "RateLimitBucket"."resetAt" END
    RETURNING count, "resetAt"`;
  if (!row) return { allowed: true, retryAfterSeconds: 0 };
  const retryAfterSeconds = Math.max(1, Math.ceil((row.resetAt.getTime() - Date.now()) / 1000));
  return { allowed: row.count <= rule.limit, retryAfterSeconds };
}

export async function enforceRateLimit(db: Db, key: string, rule: RateLimitRule, message: string): Promise<void> {
  const result = await hitRateLimit(db, key, rule);
  if (!result.allowed) throw new AppError("rate_limited", message, { retryAfter: result.retryAfterSeconds });
}

export async function resetRateLimit(db: Db, key: string): Promise<void> {
  await db.rateLimitBucket.deleteMany({ where: { key } });
}
