// The one rule for strings a tenant sends that are stored or used in a query (issue #22): well-formed Unicode
// (a lone UTF-16 surrogate cannot be encoded as UTF-8, so Prisma fails on it with a 500) and no NUL (PostgreSQL
// refuses 0x00 in text). Names, commands and paths also refuse control characters and bidi overrides: they are
// shown in terminals, logs and pages, where ESC sequences and reordering can disguise what is there.
import { z } from "zod";

/** C0 controls (TAB included), DEL and C1 controls. */
const CONTROL = /\p{Cc}/u;
/** Bidirectional embeddings, overrides, isolates and marks ("Trojan Source", CVE-2021-42574). */
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

export const MESSAGES = {
  malformed: "Not valid Unicode text (a lone surrogate).",
  nul: "NUL characters are not allowed.",
  control: "Control characters are not allowed.",
  bidi: "Bidirectional override characters are not allowed.",
} as const;

/** Well-formed (no lone surrogate) and without NUL: what PostgreSQL and Prisma can store. */
export function isStorable(value: string): boolean {
  return value.isWellFormed() && !value.includes("\0");
}

/** Storable, and no control character (not even TAB or a newline) nor a bidi override. */
export function isPlainLine(value: string): boolean {
  return isStorable(value) && !CONTROL.test(value) && !BIDI.test(value);
}

/** `trim`: strip surrounding white space first, so a trailing newline from a form or a paste is not refused. */
type TextOptions = { trim?: boolean };

/**
 * The checks as zod refinements, each with its own message. `abort` stops at a malformed string, so the later
 * checks (and the caller's regexes) never see one.
 */
function storable(options: TextOptions): z.ZodString {
  return (options.trim ? z.string().trim() : z.string())
    .refine((value) => value.isWellFormed(), { message: MESSAGES.malformed, abort: true })
    .refine((value) => !value.includes("\0"), { message: MESSAGES.nul, abort: true });
}

/** Any string where only storability matters: env values (multi-line keys, tabs), opaque or secret values. */
export function storedText(options: TextOptions = {}): z.ZodString {
  return storable(options);
}

/** Names, commands, paths, filters: one line, no control characters, no bidi overrides. */
export function lineText(options: TextOptions = {}): z.ZodString {
  return storable(options)
    .refine((value) => !CONTROL.test(value), MESSAGES.control)
    .refine((value) => !BIDI.test(value), MESSAGES.bidi);
}
