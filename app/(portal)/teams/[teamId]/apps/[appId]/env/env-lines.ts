// The bulk editor's format: one KEY=value per line. Everything after the first "=" is the value, exactly as typed
// (no quotes removed, no trimming), so any value can be pasted. An empty value sets an empty string: removing a
// variable is a separate, explicit action. Blank lines and lines starting with # are skipped.
import { envKey, envValue } from "@/lib/domain/app-rules";

export type ParsedEnvLines = { ok: true; values: Record<string, string> } | { ok: false; errors: string[] };

const MAX_REPORTED_ERRORS = 5;

export function parseEnvLines(text: string): ParsedEnvLines {
  const values: Record<string, string> = {};
  const errors: string[] = [];
  const lines = text.split(/\r?\n/);
  for (const [index, line] of lines.entries()) {
    const number = index + 1;
    if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
    const equals = line.indexOf("=");
    if (equals === -1) {
      errors.push(`Line ${number}: expected KEY=value.`);
      continue;
    }
    const key = line.slice(0, equals).trim();
    const value = line.slice(equals + 1);
    if (key === "") {
      errors.push(`Line ${number}: the key before "=" is missing.`);
      continue;
    }
    const keyCheck = envKey.safeParse(key);
    if (!keyCheck.success) {
      errors.push(`Line ${number}: ${key}: ${keyCheck.error.issues[0]?.message ?? "invalid key."}`);
      continue;
    }
    const valueCheck = envValue.safeParse(value);
    if (!valueCheck.success) {
      errors.push(`Line ${number}: ${key}: ${valueCheck.error.issues[0]?.message ?? "invalid value."}`);
      continue;
    }
    if (Object.hasOwn(values, key)) {
      errors.push(`Line ${number}: ${key} appears more than once.`);
      continue;
    }
    values[key] = value;
  }
  if (errors.length > 0) {
    const shown = errors.slice(0, MAX_REPORTED_ERRORS);
    if (errors.length > shown.length) shown.push(`…and ${errors.length - shown.length} more.`);
    return { ok: false, errors: shown };
  }
  if (Object.keys(values).length === 0) return { ok: false, errors: ["Add at least one KEY=value line."] };
  return { ok: true, values };
}
