// Every form's field errors in words (#18): zod's developer messages become sentences, the project's own stay.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { issueSentence } from "@/lib/issue-messages";

function sentencesOf(schema: z.ZodType, value: unknown): Record<string, string> {
  const parsed = schema.safeParse(value);
  if (parsed.success) throw new Error("expected a failure");
  return Object.fromEntries(parsed.error.issues.map((issue) => [issue.path.join(".") || "_", issueSentence(issue)]));
}

describe("issueSentence", () => {
  it("turns zod's default messages into sentences", () => {
    const schema = z.strictObject({
      memoryMb: z.number().int().min(128).max(16_384),
      cpus: z.number().max(8),
      above: z.number().gt(0),
      name: z.string().min(1),
      short: z.string().min(3),
      long: z.string().max(5),
      email: z.email(),
      url: z.url(),
      id: z.uuid(),
      mode: z.enum(["live", "test"]),
      step: z.number().multipleOf(64),
      count: z.number(),
      whole: z.number().int(),
      tags: z.array(z.string()).min(2),
    });
    expect(
      sentencesOf(schema, {
        memoryMb: 64,
        cpus: 9,
        above: 0,
        name: "",
        short: "ab",
        long: "abcdef",
        email: "nope",
        url: "nope",
        id: "nope",
        mode: "other",
        step: 100,
        count: "12",
        whole: 1.5,
        tags: [],
        extra: 1,
      }),
    ).toEqual({
      memoryMb: "Use a number of at least 128.",
      cpus: "Use a number of at most 8.",
      above: "Use a number above 0.",
      name: "This field is required.",
      short: "Use at least 3 characters.",
      long: "Use at most 5 characters.",
      email: "Enter an email address, like name@example.com.",
      url: "Enter a full address, like https://example.com.",
      id: "This is not a valid ID.",
      mode: "Choose one of: live, test.",
      step: "Use a multiple of 64.",
      count: "Enter a number.",
      whole: "Enter a whole number.",
      tags: "Choose at least 2.",
      _: "Unexpected field: extra.",
    });
  });

  it("keeps a message the schema wrote for people", () => {
    const schema = z.object({
      key: z.string().regex(/^[A-Z]+$/, "Use upper-case letters."),
      size: z.number().max(10, "At most 10, the team's limit."),
    });
    expect(sentencesOf(schema, { key: "a", size: 11 })).toEqual({
      key: "Use upper-case letters.",
      size: "At most 10, the team's limit.",
    });
  });

  it("never passes zod's raw wording through, whatever the code", () => {
    const raw = /Too small|Too big|Invalid input|expected|>=|<=/;
    const schema = z.object({ a: z.number().min(1), b: z.string().max(1), c: z.boolean(), d: z.date(), e: z.bigint() });
    for (const sentence of Object.values(sentencesOf(schema, { a: 0, b: "xx", c: "x", d: "x", e: "x" }))) {
      expect(sentence).not.toMatch(raw);
    }
  });
});
