import { describe, expect, it } from "vitest";
import { parseEnvLines } from "@/app/(portal)/teams/[teamId]/apps/[appId]/env/env-lines";

describe("parseEnvLines", () => {
  it("reads KEY=value lines, an unquoted value as typed up to a comment", () => {
    expect(
      parseEnvLines("# comment\n\nDEBUG=0\r\nDSN=postgres://u:p@h/db?x=1\nEMPTY=\n  INDENTED=yes\nNOTE=a b # why"),
    ).toEqual({
      ok: true,
      values: { DEBUG: "0", DSN: "postgres://u:p@h/db?x=1", EMPTY: "", INDENTED: "yes", NOTE: "a b" },
    });
  });

  // What a .env file means (#18): the old line splitter kept the quotes and the `export ` prefix made a bad key.
  it("handles quotes, escapes, export prefixes and values spanning lines the way .env files do", () => {
    const text = [
      "export SECRET_KEY='s3cr3t $not_expanded'",
      'GREETING="hello\\nworld" # a comment',
      'PEM="-----BEGIN KEY-----',
      "abc",
      '-----END KEY-----"',
      "HASH='#not a comment'",
      "SPACED = padded ",
    ].join("\n");
    expect(parseEnvLines(text)).toEqual({
      ok: true,
      values: {
        SECRET_KEY: "s3cr3t $not_expanded",
        GREETING: "hello\nworld",
        PEM: "-----BEGIN KEY-----\nabc\n-----END KEY-----",
        HASH: "#not a comment",
        SPACED: "padded",
      },
    });
  });

  it("reports bad lines by number, reserved and malformed keys, and duplicates", () => {
    const parsed = parseEnvLines("GOOD=1\nno equals sign\nlower=1\nPORT=80\nGOOD=2\n=x");
    expect(parsed).toEqual({
      ok: false,
      errors: [
        "Line 2: expected KEY=value.",
        "Line 3: lower: Use upper-case letters, digits and underscores, not starting with a digit.",
        "Line 4: PORT: This variable is set by the platform.",
        "Line 5: GOOD appears more than once.",
        'Line 6: the key before "=" is missing.',
      ],
    });
  });

  it("refuses NUL characters in values and an editor with nothing in it", () => {
    expect(parseEnvLines("A=\0").ok).toBe(false);
    expect(parseEnvLines("\n# only a comment\n")).toEqual({ ok: false, errors: ["Add at least one KEY=value line."] });
  });

  it("reports at most five problems", () => {
    const parsed = parseEnvLines(Array.from({ length: 8 }, () => "bad").join("\n"));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.errors).toHaveLength(6);
  });
});
