// One rule for query strings on every endpoint (issue #22). The handler refuses repeated parameters, parameters an
// endpoint does not declare, and control characters in any key or value; these builders are the declared ones.
// `Number()` and `z.coerce` read "0x10", "+5", " 5", "5.0" and "" as numbers, and `new Date()` reads almost anything:
// both would accept what the document does not describe, and a year-0 date reached PostgreSQL as a 500.
import { z } from "zod";
import { DEFAULT_PAGE_SIZE, isValidCursor, MAX_CURSOR_LENGTH, MAX_PAGE_SIZE } from "@/lib/domain/pagination";
import { lineText } from "@/lib/domain/text";
import { AppError } from "@/lib/errors";

/** Plain decimal digits, bounded so that Number() stays exact before the range check. */
const DIGITS = /^[0-9]{1,15}$/;

/**
 * An integer parameter: plain decimal digits (no sign, spaces, exponent, fraction or hex), within [min, max].
 * The document says `type: integer` with the range, which is exactly what a client serialising an integer sends;
 * the description says the default (zod leaves it out of an input schema).
 */
export function queryInt(range: { min: number; max: number; default: number; description: string }) {
  return z
    .string()
    .refine((value) => DIGITS.test(value), "Must be an integer in plain decimal digits.")
    .transform(Number)
    .pipe(z.number().int().min(range.min).max(range.max))
    .default(range.default)
    .meta({
      type: "integer",
      minimum: range.min,
      maximum: range.max,
      description: `${range.description} (default ${range.default})`,
    });
}

/** PostgreSQL's timestamp range as the platform uses it: years 1 to 9999 once the offset is applied. */
function inDatabaseRange(value: string): boolean {
  const year = new Date(value).getUTCFullYear();
  return year >= 1 && year <= 9999;
}

/**
 * A timestamp: RFC 3339 with seconds and `Z` or a `±HH:MM` offset (zod's pattern; the document says `format:
 * date-time`, its generator drops zod's long regex), in years 0001 to 9999 after the offset. Parsed to a Date. The
 * description states the rules the format does not (seconds, the offset form, the year range).
 */
export function queryDateTime(description: string) {
  return z.iso
    .datetime({ offset: true })
    .max(40)
    .refine(inDatabaseRange, "Must be between the years 0001 and 9999 (after the offset).")
    .transform((value) => new Date(value))
    .describe(`${description}. RFC 3339 with seconds and Z or ±HH:MM, years 0001 to 9999`);
}

/** A free-text filter: one line of well-formed text without control characters, 1 to `max` characters. */
export function queryText(max: number) {
  return lineText().min(1).max(max);
}

/** A list cursor exactly as a previous page's `nextCursor` gave it: signed by this installation. */
export const queryCursor = z
  .string()
  .max(MAX_CURSOR_LENGTH)
  .refine(isValidCursor, "invalid cursor")
  .describe("Pass a previous page's nextCursor, unchanged (opaque; a cursor that was altered is refused)");

/** The query of every list endpoint: keyset pagination (lib/domain/pagination.ts). */
export const pageQuery = z.strictObject({
  limit: queryInt({ min: 1, max: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE, description: "Items per page" }),
  cursor: queryCursor.optional(),
});

/** C0 controls (NUL included), DEL and C1 controls: PostgreSQL refuses NUL, terminals and logs obey the rest. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

type Issue = { path: string; message: string; code: string };

/**
 * The query string as one value per name, for the endpoint's schema (or for none: then any parameter is unknown).
 * A repeated name is refused rather than reduced to its first or last value, which servers and proxies disagree
 * on; a control character in any name or value is refused before it can reach a query or a log line.
 */
export function readQueryString(search: URLSearchParams, declared: boolean): Record<string, string> {
  // A Map, then fromEntries: a parameter named __proto__ stays a plain key.
  const values = new Map<string, string>();
  const issues: Issue[] = [];
  for (const [name, value] of search) {
    if (CONTROL.test(name) || CONTROL.test(value)) {
      issues.push({ path: name, message: "Control characters are not allowed.", code: "invalid_string" });
    } else if (values.has(name)) {
      issues.push({ path: name, message: "Give this parameter once.", code: "repeated_parameter" });
    } else if (!declared) {
      issues.push({ path: name, message: "This endpoint takes no query parameters.", code: "unrecognized_keys" });
    }
    values.set(name, value);
  }
  if (issues.length > 0) throw new AppError("invalid", "The query string is invalid.", { details: issues });
  return Object.fromEntries(values);
}
