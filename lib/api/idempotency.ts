// Idempotency-Key on API POSTs (docs/api.md): the same key and body within 24 hours answer the first answer again, do
// no new work; the same key with another body is refused; a key whose first request is still running answers 409.
// A secret in an answer (an endpoint's `secretFields`) is shown once: the store keeps it nulled, and so does a replay.
import { createHash } from "node:crypto";
import type { Db } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { Prisma } from "@/lib/generated/prisma/client";

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;
/** 1 to 255 visible ASCII characters (no space): the same rule on every endpoint, honoured or not. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/**
 * Refuses a malformed key (422) on any endpoint, and a well-formed one where it is not honoured (the streamed
 * upload, reads, updates): a client that sends one must learn that it buys no protection there, not assume it.
 */
export function checkIdempotencyKeyHeader(key: string | null, honoured: boolean): void {
  if (key === null) return;
  if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw new AppError("invalid", "Idempotency-Key must be 1 to 255 visible ASCII characters.", {
      details: [{ path: "Idempotency-Key", message: "1 to 255 visible ASCII characters, no spaces" }],
    });
  }
  if (!honoured) {
    throw new AppError("invalid", "This endpoint does not honour Idempotency-Key; send the request without it.", {
      details: [{ path: "Idempotency-Key", message: "not honoured by this endpoint" }],
    });
  }
}

export type StoredAnswer = { status: number; body: unknown; headers: Record<string, string> };

export function requestHash(method: string, path: string, body: string): string {
  return createHash("sha256").update(`${method}\n${path}\n${body}`).digest("hex");
}

/**
 * Claims the key for this request, or returns the stored answer of the first one. Throws 409 while the first
 * request is still running and 422 when the key was used for a different request.
 */
export async function claimIdempotencyKey(
  db: Db,
  input: { teamId: string; key: string; hash: string },
): Promise<{ claimed: true; id: string } | { claimed: false; answer: StoredAnswer }> {
  if (!IDEMPOTENCY_KEY_PATTERN.test(input.key)) {
    throw new AppError("invalid", "Idempotency-Key must be 1 to 255 visible ASCII characters.");
  }
  const cutoff = new Date(Date.now() - IDEMPOTENCY_TTL_MS);
  await db.idempotencyKey.deleteMany({ where: { teamId: input.teamId, key: input.key, createdAt: { lt: cutoff } } });
  try {
    const row = await db.idempotencyKey.create({
      data: { teamId: input.teamId, key: input.key, requestHash: input.hash },
    });
    return { claimed: true, id: row.id };
  } catch (error) {
    if (!(error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002")) throw error;
  }
  const existing = await db.idempotencyKey.findUnique({
    where: { teamId_key: { teamId: input.teamId, key: input.key } },
  });
  if (!existing) throw new AppError("conflict", "A request with this Idempotency-Key is in progress; retry shortly.");
  if (existing.requestHash !== input.hash) {
    throw new AppError("invalid", "This Idempotency-Key was used for a different request.");
  }
  if (existing.responseStatus === null) {
    throw new AppError("conflict", "A request with this Idempotency-Key is in progress; retry shortly.");
  }
  return {
    claimed: false,
    answer: {
      status: existing.responseStatus,
      body: existing.responseBody,
      headers: (existing.responseHeaders ?? {}) as Record<string, string>,
    },
  };
}

/** The answer as stored for replays: each secret field nulled (secrets are shown once, never kept). */
export function redactSecrets(body: unknown, secretFields: readonly string[] = []): unknown {
  if (secretFields.length === 0 || body === null || typeof body !== "object" || Array.isArray(body)) return body;
  const redacted: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  for (const field of secretFields) if (field in redacted) redacted[field] = null;
  return redacted;
}

export async function storeIdempotentAnswer(db: Db, id: string, answer: StoredAnswer): Promise<void> {
  await db.idempotencyKey.update({
    where: { id },
    data: {
      responseStatus: answer.status,
      responseBody: answer.body === undefined ? Prisma.JsonNull : (answer.body as Prisma.InputJsonValue),
      responseHeaders: answer.headers,
    },
  });
}

/** The first request failed unexpectedly: forget the key so a retry does the work. */
export async function releaseIdempotencyKey(db: Db, id: string): Promise<void> {
  await db.idempotencyKey.deleteMany({ where: { id } });
}
