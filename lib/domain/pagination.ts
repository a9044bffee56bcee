// Keyset pagination over (createdAt desc, id desc): stable under inserts, one query per page.
// Cursors are opaque and tamper-evident: the position (createdAt, id) signed with HMAC-SHA256 under a key derived
// from TUSSILAGO_SECRET_KEY for this purpose alone. A cursor this installation did not hand out (forged, altered,
// truncated, or another installation's) is refused before it can reach a query; an unsigned position once carried
// year 0 into PostgreSQL ("date/time field value out of range", a 500).
import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { deriveKey } from "@/lib/env";
import { AppError } from "@/lib/errors";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
/** A signed cursor is about 130 characters; the bound refuses anything else before any work. */
export const MAX_CURSOR_LENGTH = 256;

export type PageInput = { limit: number; cursor?: string | undefined };
export type Page<T> = { items: T[]; nextCursor: string | null };
type Position = { createdAt: Date; id: string };

/** <base64url JSON [createdAt, id]>.<base64url HMAC-SHA256 of the first part> */
const CURSOR_SHAPE = /^([A-Za-z0-9_-]{1,200})\.([A-Za-z0-9_-]{43})$/;

function signature(payload: string): Buffer {
  return createHmac("sha256", deriveKey("pageCursor")).update(payload).digest();
}

export function encodeCursor(row: Position): string {
  const payload = Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString("base64url");
  return `${payload}.${signature(payload).toString("base64url")}`;
}

// Signed means we wrote it, but the position is still checked in full: a key shared with an older version must
// not turn its cursors into unchecked input.
const positionShape = z.tuple([
  z.iso.datetime().refine((value) => {
    const year = new Date(value).getUTCFullYear();
    return year >= 1 && year <= 9999;
  }),
  z.uuid(),
]);

/** The position a cursor carries, or null when this installation did not sign it exactly as it is. */
function readCursor(cursor: string): Position | null {
  const match = cursor.length <= MAX_CURSOR_LENGTH ? CURSOR_SHAPE.exec(cursor) : null;
  if (!match?.[1] || !match[2]) return null;
  const given = Buffer.from(match[2], "base64url");
  const expected = signature(match[1]);
  // The canonical encoding must round-trip, so two spellings of one signature cannot both pass.
  if (given.toString("base64url") !== match[2] || !timingSafeEqual(given, expected)) return null;
  try {
    const parsed = positionShape.safeParse(JSON.parse(Buffer.from(match[1], "base64url").toString("utf8")));
    return parsed.success ? { createdAt: new Date(parsed.data[0]), id: parsed.data[1] } : null;
  } catch {
    return null;
  }
}

/** For the query schemas (lib/api/query.ts): the cursor is refused with the other query issues. */
export function isValidCursor(cursor: string): boolean {
  return readCursor(cursor) !== null;
}

export function decodeCursor(cursor: string | undefined): Position | null {
  // The portal passes `?cursor=` through as "" on its first page.
  if (!cursor) return null;
  const position = readCursor(cursor);
  if (!position) {
    throw new AppError("invalid", "The cursor is invalid.", {
      details: [{ path: "cursor", message: "invalid cursor" }],
    });
  }
  return position;
}

/** The Prisma `where` fragment for rows after the cursor in (createdAt desc, id desc) order. */
export function afterCursor(cursor: string | undefined) {
  const after = decodeCursor(cursor);
  if (!after) return {};
  return { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] };
}

export function toPage<T extends { createdAt: Date; id: string }, V>(
  rows: T[],
  limit: number,
  view: (row: T) => V,
): Page<V> {
  const kept = rows.slice(0, limit);
  const last = kept.at(-1);
  return { items: kept.map(view), nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}
