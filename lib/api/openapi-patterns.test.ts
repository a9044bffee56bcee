// Patterns and formats in the document are the server's rules: for every request body the document describes,
// strings the server refuses in a field (or as an env key) are refused by the document's schema too, so a client
// validating against the document never sends what the server refuses. Validated with Ajv (JSON Schema 2020-12).
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import type { Endpoint } from "@/lib/api/endpoint";
import { endpoints } from "@/lib/api/endpoints";
import { buildOpenApiDocument } from "@/lib/api/openapi";

const SOME_ID = "3f1c2a5e-1b2c-4d3e-8f40-123456789abc";

/** A body each server accepts; each string field is then replaced by the hostile samples one at a time. */
const VALID: Record<string, Record<string, unknown>> = {
  createApp: { name: "shop" },
  updateApp: { name: "shop" },
  putAppEnv: { env: { SHOP_MODE: "on" } },
  createInvitation: { email: "someone@example.com", role: "viewer" },
  createDatabase: { name: "orders" },
  createRedis: { name: "cache" },
  rollbackApp: { deploymentId: SOME_ID },
};

const SAMPLES = [
  "",
  "a--b",
  "shop--x",
  "-shop",
  "shop-",
  "Shop",
  "1shop",
  "admin",
  "www",
  "tussilago",
  "shop x",
  "shop\u001b[31m",
  "x".repeat(300),
  "PORT",
  "DATABASE_URL",
  "TUSSILAGO_SECRET",
  "shop_mode",
  "1KEY",
  "KEY-1",
  "not-an-email",
  "a@b",
  "a@@example.com",
  "a b@example.com",
  "a!b@example.com",
  "{x}@example.com",
  ".a@example.com",
  "a..b@example.com",
];

type Operation = { requestBody?: { content?: { "application/json"?: { schema?: object } } } };

function documentedBody(document: Record<string, unknown>, endpoint: Endpoint): object {
  const paths = document.paths as Record<string, Record<string, Operation>>;
  const schema =
    paths[endpoint.path]?.[endpoint.method.toLowerCase()]?.requestBody?.content?.["application/json"]?.schema;
  expect(schema, endpoint.id).toBeDefined();
  return schema as object;
}

describe("the document's patterns and formats", () => {
  const ajv = new Ajv2020({ strict: false, allErrors: false });
  addFormats(ajv);
  const document = buildOpenApiDocument();

  it("refuse what the server refuses, field by field", () => {
    let compared = 0;
    for (const [id, valid] of Object.entries(VALID)) {
      const endpoint = endpoints.find((candidate) => candidate.id === id);
      if (!endpoint?.body) throw new Error(`${id} is not an endpoint with a body`);
      const validate = ajv.compile(documentedBody(document, endpoint));
      expect(endpoint.body.safeParse(valid).success, id).toBe(true);
      expect(validate(valid), `${id}: ${JSON.stringify(validate.errors)}`).toBe(true);
      const variants: [string, unknown][] = [];
      for (const [field, value] of Object.entries(valid)) {
        if (typeof value === "string")
          for (const sample of SAMPLES) variants.push([field, { ...valid, [field]: sample }]);
        if (field === "env") for (const sample of SAMPLES) variants.push([`env key`, { env: { [sample]: "v" } }]);
      }
      for (const [field, body] of variants) {
        if (endpoint.body.safeParse(body).success) continue;
        compared++;
        expect(
          validate(body),
          `${id} ${field}: the server refuses ${JSON.stringify(body)}, the document accepts it`,
        ).toBe(false);
      }
    }
    expect(compared).toBeGreaterThan(50);
  });

  it("say that a database change gives appId, limits, or both", () => {
    const endpoint = endpoints.find((candidate) => candidate.id === "updateDatabase") as Endpoint;
    const validate = ajv.compile(documentedBody(document, endpoint));
    expect(endpoint.body?.safeParse({}).success).toBe(false);
    expect(validate({})).toBe(false);
    for (const body of [{ appId: null }, { limits: { connectionLimit: 5 } }, { appId: SOME_ID, limits: {} }]) {
      expect(endpoint.body?.safeParse(body).success, JSON.stringify(body)).toBe(true);
      expect(validate(body), JSON.stringify(body)).toBe(true);
    }
  });
});
