// Validation issues in words, in one place for every form (lib/actions.ts) and for the domain's own checks
// (lib/domain/apps.ts): zod's default messages are for developers ("Too small: expected number to be >=128"); a
// person filling a form needs "Use a number of at least 128." A message a schema wrote itself is already meant
// for people and is kept as it is.

/** The fields of a zod 4 issue this reads; the rest (input, pattern, params) is ignored. */
export type IssueLike = {
  code: string;
  message: string;
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  inclusive?: boolean;
  expected?: string;
  format?: string;
  values?: readonly unknown[];
  divisor?: number | bigint;
  keys?: readonly string[];
};

// zod's English defaults all start like this; the project's own messages are sentences that do not.
const DEFAULT_MESSAGE =
  /^(Too (small|big): |Invalid (input|string|number|option|element|key|email|URL|UUID)|Unrecognized key)/;

const FORMATS: Record<string, string> = {
  email: "Enter an email address, like name@example.com.",
  url: "Enter a full address, like https://example.com.",
  uuid: "This is not a valid ID.",
  guid: "This is not a valid ID.",
  datetime: "Enter a date and time.",
  date: "Enter a date.",
};

function bound(issue: IssueLike, value: number | bigint | undefined, side: "least" | "most"): string {
  const n = String(value);
  if (issue.origin === "string") {
    if (side === "least" && Number(value) === 1) return "This field is required.";
    return `Use at ${side} ${n} ${n === "1" ? "character" : "characters"}.`;
  }
  if (issue.origin === "array" || issue.origin === "set") return `Choose at ${side} ${n}.`;
  if (issue.origin === "number" || issue.origin === "int" || issue.origin === "bigint") {
    if (issue.inclusive === false) return side === "least" ? `Use a number above ${n}.` : `Use a number below ${n}.`;
    return `Use a number of at ${side} ${n}.`;
  }
  if (issue.origin === "date") return side === "least" ? "This date is too early." : "This date is too late.";
  return side === "least" ? "This value is too small." : "This value is too large.";
}

function typeSentence(expected: string | undefined): string {
  switch (expected) {
    case "number":
      return "Enter a number.";
    case "int":
      return "Enter a whole number.";
    case "boolean":
      return "Choose yes or no.";
    case "date":
      return "Enter a date.";
    default:
      return "This field is required, or its value has the wrong form.";
  }
}

/** One issue as a sentence for the person who made it. */
export function issueSentence(issue: IssueLike): string {
  if (!DEFAULT_MESSAGE.test(issue.message)) return issue.message;
  switch (issue.code) {
    case "too_small":
      return bound(issue, issue.minimum, "least");
    case "too_big":
      return bound(issue, issue.maximum, "most");
    case "invalid_type":
      return typeSentence(issue.expected);
    case "invalid_format":
      return FORMATS[issue.format ?? ""] ?? "This is not in the expected form.";
    case "invalid_value":
      return issue.values && issue.values.length > 0
        ? `Choose one of: ${issue.values.map(String).join(", ")}.`
        : "Choose one of the offered values.";
    case "not_multiple_of":
      return `Use a multiple of ${String(issue.divisor)}.`;
    case "unrecognized_keys":
      return `Unexpected ${issue.keys?.length === 1 ? "field" : "fields"}: ${(issue.keys ?? []).join(", ")}.`;
    default:
      return "This value is not valid.";
  }
}
