// The bulk editor's format is a .env file, read by the maintained `dotenv` parser rather than by hand, so a pasted
// file means what it means to the tools that wrote it: `export ` prefixes, # comments (also after an unquoted
// value), single quotes taken literally, double quotes with \n escapes and values spanning lines, backticks.
// dotenv skips what it cannot read without a word, so the checks around it name the lines a person would want to
// fix: a line with no "=", a missing key, a key given twice, a key the platform owns or that is malformed.
import { parse } from "dotenv";
import { envKey, envValue } from "@/lib/domain/app-rules";

export type ParsedEnvLines = { ok: true; values: Record<string, string> } | { ok: false; errors: string[] };

const MAX_REPORTED_ERRORS = 5;
// The start of an assignment as dotenv reads one: optional `export `, a key, then "=" or ":".
const ASSIGNMENT = /^\s*(?:export\s+)?([\w.-]*)\s*[=:]/;

export function parseEnvLines(text: string): ParsedEnvLines {
  const values = parse(text.replace(/\r\n?/g, "\n"));
  const errors: string[] = [];
  const seen = new Map<string, number>();
  const insideValues = Object.values(values).filter((value) => value.includes("\n"));
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    const number = index + 1;
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const assignment = ASSIGNMENT.exec(line);
    if (!assignment) {
      // A line of a quoted value that spans lines is no assignment, and no mistake either.
      const bare = trimmed.replace(/^["'`]|["'`]$/g, "");
      if (!insideValues.some((value) => value.includes(bare))) errors.push(`Line ${number}: expected KEY=value.`);
      continue;
    }
    const key = assignment[1] ?? "";
    if (key === "") {
      errors.push(`Line ${number}: the key before "=" is missing.`);
      continue;
    }
    if (!Object.hasOwn(values, key)) continue;
    if (seen.has(key)) {
      errors.push(`Line ${number}: ${key} appears more than once.`);
      continue;
    }
    seen.set(key, number);
    const keyCheck = envKey.safeParse(key);
    if (!keyCheck.success) {
      errors.push(`Line ${number}: ${key}: ${keyCheck.error.issues[0]?.message ?? "invalid key."}`);
      continue;
    }
    const valueCheck = envValue.safeParse(values[key]);
    if (!valueCheck.success) {
      errors.push(`Line ${number}: ${key}: ${valueCheck.error.issues[0]?.message ?? "invalid value."}`);
    }
  }
  if (errors.length > 0) {
    const shown = errors.slice(0, MAX_REPORTED_ERRORS);
    if (errors.length > shown.length) shown.push(`…and ${errors.length - shown.length} more.`);
    return { ok: false, errors: shown };
  }
  if (Object.keys(values).length === 0) return { ok: false, errors: ["Add at least one KEY=value line."] };
  return { ok: true, values };
}
