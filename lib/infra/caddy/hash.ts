import { createHash } from "node:crypto";
import { compareStrings } from "./render";

// Canonical JSON (sorted keys) and its hash: how the platform tells whether Caddy already runs the wanted config.

function canonicalValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : canonicalValue(item)));
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => compareStrings(a, b));
    return Object.fromEntries(entries.map(([key, item]) => [key, canonicalValue(item)]));
  }
  return value;
}

/** JSON with object keys sorted at every level, so equal configs serialize to equal bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalValue(value)) ?? "null";
}

/**
 * sha256 (hex) of the canonical JSON. Works on the live config read back from Caddy too: Caddy re-encodes what it
 * was given, so key order and whitespace differ, but the canonical form does not.
 */
export function configHash(config: unknown): string {
  return createHash("sha256").update(canonicalJson(config)).digest("hex");
}
