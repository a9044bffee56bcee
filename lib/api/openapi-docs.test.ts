// The OpenAPI document reads as documentation (issue #18): every operation has a summary, a description and
// examples that validate against their own schemas (Ajv, JSON Schema 2020-12, as clients validate), a curl sample,
// and none of zod's JSON Schema noise. Written over the whole registry, so endpoints added later are held to it.
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { inlineRefs, type JsonSchema } from "@/e2e/contract/schema-arbitrary";
import { defineEndpoint, type Endpoint } from "@/lib/api/endpoint";
import { endpoints } from "@/lib/api/endpoints";
import { buildOpenApiDocument } from "@/lib/api/openapi";

type Media = { schema?: JsonSchema; example?: unknown; examples?: Record<string, { value: unknown }> };
type Operation = {
  operationId: string;
  summary?: string;
  description?: string;
  requestBody?: { content?: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media> }>;
  "x-codeSamples"?: { lang: string; source: string }[];
};

function operations(document: JsonSchema): [string, Operation][] {
  const found: [string, Operation][] = [];
  for (const [path, methods] of Object.entries(document.paths as Record<string, Record<string, Operation>>)) {
    for (const [method, operation] of Object.entries(methods)) {
      found.push([`${method.toUpperCase()} ${path}`, inlineRefs(operation, document) as Operation]);
    }
  }
  return found;
}

/** What a reader of one operation would miss: an empty string per gap, named. */
function documentationGaps(document: JsonSchema, registry: readonly Endpoint[]): string[] {
  const gaps: string[] = [];
  for (const [where, operation] of operations(document)) {
    const endpoint = registry.find((candidate) => candidate.id === operation.operationId) as Endpoint;
    if (!operation.summary?.trim()) gaps.push(`${where}: no summary`);
    // The generator appends who may call it; the endpoint's own text must say what it does.
    if (endpoint.description.trim().length < 20) gaps.push(`${where}: no description`);
    if (!operation.description?.startsWith(endpoint.description)) gaps.push(`${where}: description not shown`);
    const body = operation.requestBody?.content?.["application/json"];
    if (endpoint.body && body?.example === undefined) gaps.push(`${where}: no request example`);
    for (const [status, response] of Object.entries(operation.responses)) {
      const media = response.content?.["application/json"];
      if (!media) continue;
      if (media.example === undefined && !media.examples) gaps.push(`${where}: no example for ${status}`);
    }
    if (!operation["x-codeSamples"]?.some((sample) => sample.source.startsWith("curl "))) {
      gaps.push(`${where}: no curl sample`);
    }
  }
  return gaps;
}

describe("the OpenAPI document as documentation", () => {
  const document = buildOpenApiDocument("https://tussilago.example.org");

  it("gives every operation a summary, a description, examples and a curl sample", () => {
    expect(documentationGaps(document, endpoints)).toEqual([]);
  });

  it("names an operation declared without a description or examples", () => {
    const bare = defineEndpoint({
      id: "bareThing",
      method: "POST",
      path: "/api/v1/bare-things",
      summary: "Create a thing",
      description: "",
      examples: { responses: {} },
      tags: ["platform"],
      auth: "public",
      errors: [],
      body: z.strictObject({ name: z.string() }),
      responses: { 201: { description: "The thing", schema: z.object({ name: z.string() }) } },
    });
    const gaps = documentationGaps(buildOpenApiDocument("https://tussilago.example.org", [bare]), [bare]);
    expect(gaps).toEqual([
      "POST /api/v1/bare-things: no description",
      "POST /api/v1/bare-things: no request example",
      "POST /api/v1/bare-things: no example for 201",
    ]);
  });

  it("has examples that validate against their own schemas (and request examples the server accepts)", () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    let checked = 0;
    const check = (where: string, media: Media | undefined) => {
      if (!media?.schema) return;
      const validate = ajv.compile(media.schema);
      const values = [
        ...(media.example !== undefined ? [media.example] : []),
        ...Object.values(media.examples ?? {}).map((example) => example.value),
      ];
      for (const value of values) {
        checked++;
        expect(validate(value), `${where}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      }
    };
    for (const [where, operation] of operations(document)) {
      check(`${where} request`, operation.requestBody?.content?.["application/json"]);
      for (const [status, response] of Object.entries(operation.responses)) {
        check(`${where} ${status}`, response.content?.["application/json"]);
      }
    }
    for (const endpoint of endpoints) {
      if (!endpoint.body) continue;
      const parsed = endpoint.body.safeParse(endpoint.examples.request);
      expect(parsed.success, `${endpoint.id}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
    }
    expect(checked).toBeGreaterThan(endpoints.length);
  });

  it("carries none of zod's noise: safe-integer bounds, regexes beside uuid/date-time, trivial propertyNames", () => {
    const noise: string[] = [];
    const walk = (node: unknown, where: string) => {
      if (Array.isArray(node)) {
        for (const [index, item] of node.entries()) walk(item, `${where}/${index}`);
        return;
      }
      if (node === null || typeof node !== "object") return;
      const schema = node as JsonSchema;
      if (schema.minimum === Number.MIN_SAFE_INTEGER || schema.maximum === Number.MAX_SAFE_INTEGER) {
        noise.push(`${where}: safe-integer bound`);
      }
      if ((schema.format === "uuid" || schema.format === "date-time") && "pattern" in schema) {
        noise.push(`${where}: pattern beside format ${schema.format}`);
      }
      // zod's date-time (leap years spelled out) and UUID regexes, wherever they might appear.
      if (typeof schema.pattern === "string" && /\[2468\]\[048\]|\[1-8\]\[0-9a-fA-F\]/.test(schema.pattern)) {
        noise.push(`${where}: zod's date-time or UUID regex`);
      }
      const names = schema.propertyNames as JsonSchema | undefined;
      if (names && Object.keys(names).length === 1 && names.type === "string") {
        noise.push(`${where}: propertyNames {type: string}`);
      }
      for (const [key, value] of Object.entries(schema)) walk(value, `${where}/${key}`);
    };
    walk(document, "#");
    expect(noise).toEqual([]);
  });

  it("keeps the server's rules that the formats do not say: a UUID is still type string, format uuid", () => {
    const app = (document.paths as Record<string, Record<string, Operation>>)["/api/v1/apps/{appId}"]?.get;
    const parameter = (app as unknown as { parameters: { name: string; schema: JsonSchema }[] }).parameters.find(
      (candidate) => candidate.name === "appId",
    );
    expect(parameter?.schema).toEqual({ type: "string", format: "uuid" });
  });
});
