// docs/configuration.md is the operator's list of settings: every TUSSILAGO_* and TENANT_* variable lib/env.ts and its
// schema (lib/env-schema.ts) read must appear there, so a new setting cannot ship undocumented (its default and meaning are checked by review).
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ENV_MODULES = ["./env.ts", "./env-schema.ts"].map((file) => fileURLToPath(new URL(file, import.meta.url)));
const CONFIG_DOC = fileURLToPath(new URL("../docs/configuration.md", import.meta.url));
const NAME = /\b(?:TUSSILAGO|TENANT)_[A-Z0-9_]*[A-Z0-9]\b/g;

describe("docs/configuration.md", () => {
  it("names every TUSSILAGO_* and TENANT_* variable lib/env.ts reads", async () => {
    const sources = await Promise.all(ENV_MODULES.map((file) => readFile(file, "utf8")));
    const names = new Set(sources.join("\n").match(NAME) ?? []);
    const doc = await readFile(CONFIG_DOC, "utf8");
    // The module names dozens of them; an empty set would mean the pattern broke, not that all is documented.
    expect(names.size).toBeGreaterThan(40);
    const undocumented = [...names].filter((name) => !new RegExp(`\\b${name}\\b`).test(doc)).sort();
    expect(undocumented).toEqual([]);
  });
});
