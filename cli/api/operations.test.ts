// The CLI's API client against the OpenAPI document the server serves (built from the server's own zod schemas):
// every request the client can make exists there with the same success status and Idempotency-Key handling, and
// every answer the document allows for it is accepted by the client's schema (sampled with fast-check from the
// document's JSON Schema, the generator of the API contract test).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { arbitraryOf, inlineRefs, type JsonSchema } from "@/e2e/contract/schema-arbitrary";
import { buildOpenApiDocument } from "@/lib/api/openapi";
import { ApiClient } from "./client";
import { operations } from "./operations";

const document = buildOpenApiDocument("https://tussilago.example.org") as JsonSchema & {
  paths: Record<string, Record<string, JsonSchema>>;
};

type DocOperation = {
  parameters?: { name: string; in: string }[];
  responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }>;
};

function documented(method: string, path: string): DocOperation | undefined {
  return document.paths[path]?.[method.toLowerCase()] as DocOperation | undefined;
}

describe("the CLI's API client and the OpenAPI document", () => {
  const entries = Object.entries(operations);

  it("lists operations (the check below must not pass vacuously)", () => {
    expect(entries.length).toBeGreaterThan(20);
  });

  it.each(entries)("%s: method and path exist, with the same success status and Idempotency-Key", (_, spec) => {
    const operation = documented(spec.method, spec.path);
    expect(operation, `${spec.method} ${spec.path} is not in the document`).toBeDefined();
    expect(Object.keys(operation?.responses ?? {})).toContain(String(spec.status));
    const honoursKey = (operation?.parameters ?? []).some((p) => p.in === "header" && p.name === "Idempotency-Key");
    // Sending the key where it is not honoured answers 422, so the client must agree with the document exactly.
    expect("idempotent" in spec && spec.idempotent === true).toBe(honoursKey);
  });

  it.each(entries)("%s: every answer the document allows parses with the client's schema", (_, spec) => {
    const content = documented(spec.method, spec.path)?.responses[String(spec.status)]?.content;
    if (spec.response === null) {
      expect(content).toBeUndefined();
      return;
    }
    const schema = content?.["application/json"]?.schema;
    expect(schema, "the document has no JSON answer for it").toBeDefined();
    const arbitrary = arbitraryOf(inlineRefs(schema, document) as JsonSchema);
    fc.assert(
      fc.property(arbitrary, (value) => {
        const parsed = spec.response.safeParse(value);
        if (!parsed.success) throw new Error(`${JSON.stringify(value)}\n${parsed.error.message}`);
      }),
      { numRuns: 60, seed: 18 },
    );
  });

  it("fills path templates with encoded parameters and refuses a missing one", () => {
    expect(ApiClient.pathOf("/api/v1/apps/{appId}/env", { appId: "a/b c" })).toBe("/api/v1/apps/a%2Fb%20c/env");
    expect(() => ApiClient.pathOf("/api/v1/runs/{id}", {})).toThrow(/missing path parameter id/);
  });
});
