// Per-address limits scale with TUSSILAGO_PER_IP_RATE_LIMIT_SCALE (many people behind one address); the scaled rule
// is what the database-backed limiter enforces.
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { enforceRateLimit, perIp, SIGN_UP_PER_IP } from "@/lib/domain/rate-limit";
import { resetEnvForTests } from "@/lib/env";
import { isAppError } from "@/lib/errors";

afterEach(() => {
  delete process.env.TUSSILAGO_PER_IP_RATE_LIMIT_SCALE;
  resetEnvForTests();
});

async function hitsAllowed(rule: { limit: number; windowMs: number }, tries: number): Promise<number> {
  const key = `test:${randomUUID()}`;
  let allowed = 0;
  for (let i = 0; i < tries; i += 1) {
    try {
      await enforceRateLimit(getDb(), key, rule, "Too many.");
      allowed += 1;
    } catch (error) {
      if (!isAppError(error) || error.code !== "rate_limited") throw error;
    }
  }
  return allowed;
}

describe("per-address rate limits", () => {
  it("are the rule itself by default", async () => {
    expect(await hitsAllowed(perIp({ limit: 2, windowMs: 60_000 }), 5)).toBe(2);
    expect(perIp(SIGN_UP_PER_IP)).toEqual(SIGN_UP_PER_IP);
  });

  it("are multiplied by TUSSILAGO_PER_IP_RATE_LIMIT_SCALE", async () => {
    process.env.TUSSILAGO_PER_IP_RATE_LIMIT_SCALE = "3";
    resetEnvForTests();
    expect(await hitsAllowed(perIp({ limit: 2, windowMs: 60_000 }), 10)).toBe(6);
    expect(perIp(SIGN_UP_PER_IP)).toEqual({ ...SIGN_UP_PER_IP, limit: SIGN_UP_PER_IP.limit * 3 });
  });
});
