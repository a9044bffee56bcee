// JSON Schema (2020-12, the subset our OpenAPI document uses) → fast-check arbitraries, for the API contract test.
// Hand-written because no maintained npm converter targets 2020-12 and fast-check 4 (json-schema-fast-check is a
// 0.0.x draft-04 package, zod-fast-check works on zod schemas, not on the document clients actually see).
// Pure: no I/O, so it is unit-tested with vitest (test/contract-schema-arbitrary.test.ts).
import fc from "fast-check";

export type JsonSchema = { [key: string]: unknown };

/** Resolves local `$ref`s ("#/components/schemas/Error") against `root`, deeply; the document has no cycles. */
export function inlineRefs(schema: unknown, root: JsonSchema, depth = 0): unknown {
  if (depth > 50) throw new Error("inlineRefs: $ref nesting deeper than 50 (a cycle?)");
  if (Array.isArray(schema)) return schema.map((item) => inlineRefs(item, root, depth));
  if (schema === null || typeof schema !== "object") return schema;
  const object = schema as JsonSchema;
  if (typeof object.$ref === "string") {
    const { $ref, ...rest } = object;
    const target = resolvePointer(root, $ref as string);
    return inlineRefs({ ...(target as JsonSchema), ...rest }, root, depth + 1);
  }
  return Object.fromEntries(Object.entries(object).map(([key, value]) => [key, inlineRefs(value, root, depth)]));
}

function resolvePointer(root: JsonSchema, ref: string): unknown {
  if (!ref.startsWith("#/")) throw new Error(`only local $refs are supported, not ${ref}`);
  let node: unknown = root;
  for (const raw of ref.slice(2).split("/")) {
    const key = decodeURIComponent(raw).replaceAll("~1", "/").replaceAll("~0", "~");
    if (node === null || typeof node !== "object" || !(key in node)) throw new Error(`unresolvable $ref ${ref}`);
    node = (node as JsonSchema)[key];
  }
  return node;
}

// PostgreSQL's timestamptz and JavaScript's Date agree on this range; a "valid" date-time stays inside it so that
// values a client may reasonably send are generated. The boundaries are exercised by the hostile mutations instead.
const MIN_DATE = new Date("1970-01-01T00:00:00.000Z");
const MAX_DATE = new Date("2200-12-31T23:59:59.999Z");

/** Keeps generated collections small: the contract is about shapes, and every request goes over the network. */
const MAX_ITEMS = 4;
const MAX_PLAIN_STRING = 40;

function numberOr(value: unknown, fallback: number | undefined): number | undefined {
  return typeof value === "number" ? value : fallback;
}

/** Lookarounds and backreferences, which fast-check's stringMatching cannot generate from (they only filter). */
const UNGENERATABLE = /\(\?<?[=!]|\\[1-9]/;

function stringArbitrary(schema: JsonSchema, patterns: string[]): fc.Arbitrary<string> {
  const minLength = numberOr(schema.minLength, 0) ?? 0;
  const maxLength = numberOr(schema.maxLength, undefined);
  const fits = (value: string) =>
    [...value].length >= minLength && (maxLength === undefined || [...value].length <= maxLength);
  // Matched with the u flag as JSON Schema says; generated from the flagless form of the first pattern that
  // stringMatching supports, the others (a "no --" lookahead, reserved names) filter.
  const all = patterns.map((source) => new RegExp(source, "u"));
  const matches = (value: string) => all.every((regex) => regex.test(value));
  const pattern = all.find((regex) => !UNGENERATABLE.test(regex.source)) ?? null;
  let base: fc.Arbitrary<string>;
  switch (schema.format) {
    case "uuid":
      base = fc.uuid({ version: 4 });
      break;
    case "email":
      base = fc.emailAddress();
      break;
    case "date-time":
      base = fc.date({ min: MIN_DATE, max: MAX_DATE, noInvalidDate: true }).map((date) => date.toISOString());
      break;
    case "uri":
      base = fc.webUrl();
      break;
    default:
      base = pattern
        ? fc.stringMatching(new RegExp(pattern.source), { size: "xsmall" })
        : fc.string({
            unit: "binary",
            minLength,
            maxLength: Math.min(maxLength ?? MAX_PLAIN_STRING, Math.max(minLength, MAX_PLAIN_STRING)),
          });
  }
  // A format and a pattern together (zod emits both for uuid and date-time): the value must satisfy both.
  return base.filter((value) => fits(value) && matches(value));
}

function integerArbitrary(schema: JsonSchema): fc.Arbitrary<number> {
  let min = numberOr(schema.minimum, -1_000_000) ?? -1_000_000;
  let max = numberOr(schema.maximum, 1_000_000) ?? 1_000_000;
  if (typeof schema.exclusiveMinimum === "number") min = Math.floor(schema.exclusiveMinimum) + 1;
  if (typeof schema.exclusiveMaximum === "number") max = Math.ceil(schema.exclusiveMaximum) - 1;
  return fc.integer({ min: Math.max(min, Number.MIN_SAFE_INTEGER), max: Math.min(max, Number.MAX_SAFE_INTEGER) });
}

function numberArbitrary(schema: JsonSchema): fc.Arbitrary<number> {
  const min = numberOr(schema.minimum, numberOr(schema.exclusiveMinimum, -1e6)) ?? -1e6;
  const max = numberOr(schema.maximum, numberOr(schema.exclusiveMaximum, 1e6)) ?? 1e6;
  return fc
    .double({ min, max, noNaN: true, noDefaultInfinity: true })
    .filter(
      (value) =>
        (typeof schema.exclusiveMinimum !== "number" || value > schema.exclusiveMinimum) &&
        (typeof schema.exclusiveMaximum !== "number" || value < schema.exclusiveMaximum),
    );
}

function objectArbitrary(schema: JsonSchema): fc.Arbitrary<Record<string, unknown>> {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, property] of Object.entries(properties)) model[name] = arbitraryOf(property);
  const known = fc.record(model, { requiredKeys: [...required].filter((name) => name in properties) });
  const minProperties = numberOr(schema.minProperties, 0) ?? 0;
  const additional = schema.additionalProperties;
  if (additional === undefined || additional === false || Object.keys(properties).length > 0) {
    return known.filter((value) => Object.keys(value).length >= minProperties);
  }
  // A map (env variables): keys from propertyNames, values from additionalProperties.
  const keys = schema.propertyNames ? arbitraryOf(schema.propertyNames as JsonSchema) : fc.string({ maxLength: 20 });
  const values = additional === true ? fc.jsonValue({ maxDepth: 1 }) : arbitraryOf(additional as JsonSchema);
  return fc
    .dictionary(keys as fc.Arbitrary<string>, values, {
      minKeys: minProperties,
      maxKeys: Math.max(minProperties, MAX_ITEMS),
    })
    .map((entries) => ({ ...entries }) as Record<string, unknown>);
}

/**
 * allOf folded into one schema: zod emits it for strings with several regexes (a name's pattern, "no --", reserved
 * names); their patterns are all kept, other keywords merged (the members never disagree in our document).
 */
function withoutAllOf(schema: JsonSchema): { schema: JsonSchema; patterns: string[] } {
  const patterns = typeof schema.pattern === "string" ? [schema.pattern] : [];
  if (!Array.isArray(schema.allOf)) return { schema, patterns };
  const { allOf, ...merged } = schema;
  for (const member of allOf as JsonSchema[]) {
    const folded = withoutAllOf(member);
    patterns.push(...folded.patterns);
    const { pattern: _pattern, ...rest } = folded.schema;
    Object.assign(merged, rest);
  }
  return { schema: merged, patterns };
}

function typedArbitrary(type: string, schema: JsonSchema, patterns: string[]): fc.Arbitrary<unknown> {
  switch (type) {
    case "string":
      return stringArbitrary(schema, patterns);
    case "integer":
      return integerArbitrary(schema);
    case "number":
      return numberArbitrary(schema);
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array": {
      const items = schema.items ? arbitraryOf(schema.items as JsonSchema) : fc.jsonValue({ maxDepth: 1 });
      const minLength = numberOr(schema.minItems, 0) ?? 0;
      const maxLength = Math.max(minLength, Math.min(numberOr(schema.maxItems, MAX_ITEMS) ?? MAX_ITEMS, MAX_ITEMS));
      return fc.array(items, { minLength, maxLength });
    }
    case "object":
      return objectArbitrary(schema);
    default:
      throw new Error(`unsupported JSON Schema type ${type}`);
  }
}

/**
 * Values valid against `schema` (whose `$ref`s are already inlined: see inlineRefs). Supports type (one or a list),
 * properties/required/additionalProperties/propertyNames/minProperties, enum, const, pattern (fast-check's
 * stringMatching; several through allOf, lookaheads filtering),
 * format uuid/email/date-time/uri, min/maxLength, minimum/maximum (and exclusive), items/min/maxItems, anyOf, oneOf,
 * OpenAPI 3.0's nullable; an empty schema means any JSON value. Anything else throws, so the test never silently
 * generates from a schema it does not understand.
 */
export function arbitraryOf(input: JsonSchema): fc.Arbitrary<unknown> {
  if (typeof input.$ref === "string") throw new Error("arbitraryOf: inline $refs first (inlineRefs)");
  const { schema, patterns } = withoutAllOf(input);
  let arbitrary: fc.Arbitrary<unknown>;
  if ("const" in schema) {
    arbitrary = fc.constant(schema.const);
  } else if (Array.isArray(schema.enum)) {
    arbitrary = fc.constantFrom(...(schema.enum as unknown[]));
  } else if (Array.isArray(schema.anyOf) || Array.isArray(schema.oneOf)) {
    // oneOf branches in our document are disjoint (distinct types or discriminators), so any branch's value is valid.
    const branches = (schema.anyOf ?? schema.oneOf) as JsonSchema[];
    arbitrary = fc.oneof(...branches.map((branch) => arbitraryOf(branch)));
  } else if (Array.isArray(schema.type)) {
    arbitrary = fc.oneof(...(schema.type as string[]).map((type) => typedArbitrary(type, schema, patterns)));
  } else if (typeof schema.type === "string") {
    arbitrary = typedArbitrary(schema.type, schema, patterns);
  } else if ("properties" in schema) {
    arbitrary = objectArbitrary(schema);
  } else {
    arbitrary = fc.jsonValue({ maxDepth: 2 });
  }
  return schema.nullable === true ? fc.option(arbitrary, { nil: null }) : arbitrary;
}
