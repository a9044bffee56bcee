// The API contract test's pure parts (e2e/contract/): the JSON Schema → fast-check converter generates only values
// its schema accepts (checked with ajv on every request schema of our OpenAPI document), and the hostile mutation
// list has what issue #22 asks for. The e2e spec itself runs against the platform (e2e/api-contract.spec.ts).
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BAD_DATES, hostileMutations, LONE_SURROGATE, type Operation } from "@/e2e/contract/mutations";
import { arbitraryOf, inlineRefs, type JsonSchema } from "@/e2e/contract/schema-arbitrary";
import { buildOpenApiDocument } from "@/lib/api/openapi";

function ajv() {
  const instance = new Ajv2020({ strict: false, allErrors: true });
  addFormats(instance);
  return instance;
}

/** Every schema a client fills in: request bodies and query/path parameters. */
function requestSchemas(document: JsonSchema): [string, JsonSchema][] {
  const schemas: [string, JsonSchema][] = [];
  for (const [path, methods] of Object.entries(document.paths as Record<string, Record<string, JsonSchema>>)) {
    for (const [method, raw] of Object.entries(methods)) {
      const operation = inlineRefs(raw, document) as JsonSchema;
      const body = (operation.requestBody as { content?: Record<string, { schema: JsonSchema }> } | undefined)
        ?.content?.["application/json"]?.schema;
      if (body) schemas.push([`${method} ${path} body`, body]);
      for (const parameter of (operation.parameters ?? []) as { name: string; schema: JsonSchema }[]) {
        schemas.push([`${method} ${path} ${parameter.name}`, parameter.schema]);
      }
    }
  }
  return schemas;
}

describe("arbitraryOf", () => {
  it("generates only values valid against each request schema of the OpenAPI document", () => {
    const document = buildOpenApiDocument("http://tussilago.test");
    const schemas = requestSchemas(document);
    expect(schemas.length).toBeGreaterThan(20);
    const validator = ajv();
    for (const [where, schema] of schemas) {
      const validate = validator.compile(schema);
      fc.assert(
        fc.property(arbitraryOf(schema), (value) => {
          if (!validate(value))
            throw new Error(`${where}: ${JSON.stringify(value)} ${validator.errorsText(validate.errors)}`);
        }),
        { seed: 22, numRuns: 30 },
      );
    }
  });

  it("covers the keywords of the subset: const, enum, pattern, formats, bounds, nullable, oneOf, maps", () => {
    const schema: JsonSchema = {
      type: "object",
      properties: {
        kind: { const: "git" },
        role: { enum: ["admin", "viewer"] },
        name: { type: "string", pattern: "^[a-z]{2,5}$", maxLength: 4 },
        id: { type: "string", format: "uuid" },
        email: { type: "string", format: "email" },
        at: { type: "string", format: "date-time" },
        short: { type: "string", minLength: 2, maxLength: 3 },
        count: { type: "integer", minimum: 3, maximum: 7 },
        ratio: { type: "number", exclusiveMinimum: 0, maximum: 1 },
        maybe: { type: "string", nullable: true },
        slug: { type: "string", maxLength: 10, allOf: [{ pattern: "^[a-z-]+$" }, { pattern: "^(?!.*--)" }] },
        flags: { type: "object", properties: { a: { type: "boolean" }, b: { type: "boolean" } }, minProperties: 1 },
        either: { oneOf: [{ type: "boolean" }, { type: "array", items: { type: "integer" }, maxItems: 2 }] },
        env: {
          type: "object",
          propertyNames: { type: "string", pattern: "^[A-Z]+$" },
          additionalProperties: { type: ["string", "null"] },
        },
      },
      required: [
        "kind",
        "role",
        "name",
        "id",
        "email",
        "at",
        "short",
        "count",
        "ratio",
        "maybe",
        "either",
        "env",
        "slug",
        "flags",
      ],
      additionalProperties: false,
    };
    const validator = ajv();
    const validate = validator.compile({
      ...schema,
      properties: { ...(schema.properties as object), maybe: { type: ["string", "null"] } },
    });
    fc.assert(
      fc.property(arbitraryOf(schema), (value) => {
        if (!validate(value)) throw new Error(`${JSON.stringify(value)} ${validator.errorsText(validate.errors)}`);
      }),
      { seed: 7, numRuns: 200 },
    );
  });

  it("refuses a schema it does not understand instead of generating anything", () => {
    expect(() => arbitraryOf({ type: "tuple" })).toThrow(/unsupported/);
    expect(() => arbitraryOf({ $ref: "#/x" })).toThrow(/inline/);
  });
});

describe("hostileMutations", () => {
  const operation: Operation = {
    id: "listThings",
    method: "POST",
    path: "/api/v1/things/{id}",
    pathParams: ["id"],
    query: { limit: { type: "integer" }, cursor: { type: "string" }, since: { type: "string", format: "date-time" } },
    body: {
      type: "object",
      properties: {
        name: { type: "string" },
        settings: { type: "object", properties: { replicas: { type: "integer" } } },
      },
      required: ["name"],
      additionalProperties: false,
    },
    responses: {},
  };
  const mutations = hostileMutations(operation, { body: { name: "ok" }, query: { limit: "5" } });
  const names = mutations.map((mutation) => mutation.name);

  it("names each mutation once", () => {
    expect(new Set(names).size).toBe(names.length);
  });

  it("covers the classes of issue #22", () => {
    const bodies = mutations.map((mutation) => JSON.stringify(mutation.patch.body ?? null));
    expect(bodies.some((body) => body.includes("\\ud800"))).toBe(true);
    expect(LONE_SURROGATE).toHaveLength(1);
    expect(names).toEqual(
      expect.arrayContaining([
        "body misses required name",
        "body has an extra field",
        "body name has NUL",
        "body name has ESC",
        "body settings.replicas is 1e+308",
        "content-type text/plain",
        "content-encoding gzip on plain JSON",
        `query since=${BAD_DATES[0]}`,
        'query limit="0x10"',
        'query limit=""',
        "query has an unknown parameter",
        'Idempotency-Key ""',
        "path id=not-a-uuid",
      ]),
    );
    expect(names.some((name) => name.startsWith("query cursor="))).toBe(true);
  });

  it("changes one thing: a nested mutation keeps the rest of the valid body", () => {
    const nested = mutations.find((mutation) => mutation.name === "body settings.replicas is -1");
    expect(nested?.patch.body).toEqual({ json: { name: "ok", settings: { replicas: -1 } } });
    const dated = mutations.find((mutation) => mutation.name === `query since=${BAD_DATES[0]}`);
    expect(dated?.patch.rawQuery).toBe(`limit=5&since=${encodeURIComponent(BAD_DATES[0] ?? "")}`);
  });
});
