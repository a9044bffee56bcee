// The fixed list of hostile requests the API contract test sends to every operation (issue #22): wrong types,
// missing and extra fields, lone surrogates, NUL and control characters, boundary dates and numbers, forged cursors,
// wrong content types, bad Idempotency-Key headers, malformed path IDs. Pure: it builds request descriptions from an
// operation of the OpenAPI document and one valid request for it; e2e/api-contract.spec.ts sends them.
import type { JsonSchema } from "./schema-arbitrary";

/** One operation of the document, its `$ref`s inlined. */
export type Operation = {
  id: string;
  method: string;
  path: string;
  pathParams: string[];
  query: Record<string, JsonSchema>;
  body: JsonSchema | null;
  /** Documented statuses ("200", "422", …) with their JSON schema, if any. */
  responses: Record<string, JsonSchema | null>;
};

/** A request relative to a valid one: what is set here replaces the valid request's part. */
export type RequestPatch = {
  pathParams?: Record<string, string>;
  /** Replaces the whole query string, unencoded parts included (a raw "limit=0x10&x=%00"). */
  rawQuery?: string;
  headers?: Record<string, string>;
  /** A JSON value (serialised by the sender), or raw bytes/text sent as they are. */
  body?: { json: unknown } | { raw: string | Uint8Array };
};

/**
 * "4xx": the server must refuse it with a documented 4xx and the error body. "not-5xx": the input is odd but may be
 * acceptable (a date at the end of the range, an unknown filter value); any documented status except a 5xx will do.
 */
export type Mutation = { name: string; expect: "4xx" | "not-5xx"; patch: RequestPatch };

export const LONE_SURROGATE = "\ud800";
export const CONTROL_CHARACTERS: readonly [string, string][] = [
  ["NUL", "\u0000"],
  ["ESC", "\u001b"],
  ["BEL", "\u0007"],
  ["DEL", "\u007f"],
  ["C1 CSI", "\u009b"],
];
export const BAD_DATES = ["0000-01-01T00:00:00Z", "-000001-01-01T00:00:00Z", "2024-13-01T00:00:00Z", "yesterday"];
export const EDGE_DATES = ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z"];
export const BAD_NUMBERS: readonly unknown[] = [
  -1,
  1.5,
  1e308,
  -1e308,
  2 ** 53 + 2,
  -(2 ** 31) - 1,
  "12",
  true,
  null,
  [],
  {},
];
/** Query numbers no strict parser accepts, whatever the bounds; the bounds themselves are added per parameter. */
export const BAD_QUERY_NUMBERS = [
  "0x10",
  "+5",
  "",
  " 5",
  "5 ",
  "1e1",
  "1.5",
  "99999999999999999999",
  "NaN",
  "Infinity",
];

/** Just outside the documented bounds of a numeric query parameter. */
function outOfBounds(schema: JsonSchema): string[] {
  const values: string[] = [];
  if (typeof schema.minimum === "number") values.push(String(schema.minimum - 1));
  if (typeof schema.maximum === "number") values.push(String(schema.maximum + 1));
  return values;
}
/** Base64url of JSON, the way cursors look, with dates and IDs a client could forge, plus plain garbage. */
export const FORGED_CURSORS = [
  toBase64Url(JSON.stringify(["0000-01-01T00:00:00.000Z", "00000000-0000-4000-8000-000000000000"])),
  toBase64Url(JSON.stringify(["9999-12-31T23:59:59.999Z", "ffffffff-ffff-4fff-bfff-ffffffffffff"])),
  toBase64Url(JSON.stringify(["2024-01-01T00:00:00.000Z", "' OR 1=1 --"])),
  toBase64Url(JSON.stringify({ createdAt: "2024-01-01T00:00:00.000Z" })),
  toBase64Url("\u0000"),
  "!!!not-base64!!!",
  "A".repeat(200),
];
export const BAD_IDEMPOTENCY_KEYS = ["", "has space", "k".repeat(256), "caf\u00e9", "tab\tinside"];
export const BAD_PATH_IDS = [
  "not-a-uuid",
  "00000000-0000-0000-0000-00000000000g",
  "%00",
  "%ED%A0%80",
  "%1B",
  "..%2F..%2Fteam",
  "1",
  "x".repeat(300),
];

function toBase64Url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}

function typeOf(schema: JsonSchema): string[] {
  if (Array.isArray(schema.type)) return schema.type as string[];
  if (typeof schema.type === "string") return [schema.type];
  const branches = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  return branches ? branches.flatMap(typeOf) : [];
}

/** A value of a type the schema does not allow. */
function wrongTypeFor(schema: JsonSchema): unknown {
  const types = typeOf(schema);
  if (!types.includes("string")) return "not the right type";
  if (!types.includes("integer") && !types.includes("number")) return 12345;
  return { unexpected: "object" };
}

type Leaf = { path: string[]; schema: JsonSchema };

/** The properties of a body schema, down to `depth` levels of nested objects (settings.webCommand). */
function leavesOf(schema: JsonSchema, prefix: string[] = [], depth = 2): Leaf[] {
  const objectBranch = [schema, ...(((schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined) ?? [])].find(
    (candidate) => candidate.properties !== undefined,
  );
  if (!objectBranch || depth === 0) return [];
  const leaves: Leaf[] = [];
  for (const [name, property] of Object.entries(objectBranch.properties as Record<string, JsonSchema>)) {
    const path = [...prefix, name];
    leaves.push({ path, schema: property });
    leaves.push(...leavesOf(property, path, depth - 1));
  }
  return leaves;
}

function withValue(base: unknown, path: string[], value: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  const object =
    base !== null && typeof base === "object" && !Array.isArray(base) ? (base as Record<string, unknown>) : {};
  return { ...object, [head]: withValue(object[head], rest, value) };
}

function withoutKey(base: unknown, key: string): unknown {
  if (base === null || typeof base !== "object" || Array.isArray(base)) return base;
  const { [key]: _removed, ...rest } = base as Record<string, unknown>;
  return rest;
}

function stringTypes(schema: JsonSchema): boolean {
  return typeOf(schema).includes("string") && schema.enum === undefined && schema.const === undefined;
}

function isDateTime(schema: JsonSchema): boolean {
  return [schema, ...(((schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined) ?? [])].some(
    (candidate) => candidate.format === "date-time",
  );
}

function isNumeric(schema: JsonSchema): boolean {
  const types = typeOf(schema);
  return types.includes("integer") || types.includes("number");
}

function bodyMutations(operation: Operation, validBody: unknown): Mutation[] {
  const schema = operation.body;
  if (!schema) return [];
  const json = (name: string, value: unknown, expect: Mutation["expect"] = "4xx"): Mutation => ({
    name: `body ${name}`,
    expect,
    patch: { body: { json: value } },
  });
  const raw = (name: string, text: string | Uint8Array, headers: Record<string, string> = {}): Mutation => ({
    name,
    expect: "4xx",
    patch: { body: { raw: text }, headers: { "content-type": "application/json", ...headers } },
  });
  const mutations: Mutation[] = [
    json("is an array", []),
    json("is a string", "text"),
    json("is a number", 42),
    json("is null", null),
    raw("body is not JSON", "{"),
    raw("body is empty", ""),
    raw("body is invalid UTF-8", new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])),
    raw("body is deeply nested", `${"[".repeat(100_000)}${"]".repeat(100_000)}`),
    raw("body is larger than 1 MiB", JSON.stringify({ padding: "x".repeat(1024 * 1024 + 1) })),
    raw("body with duplicated keys and a NUL key", '{"\\u0000":1,"\\u0000":2}'),
    // Wrong content types: JSON sent as something else, or compressed in a way the server does not decode.
    {
      name: "content-type text/plain",
      expect: "4xx",
      patch: { body: { raw: JSON.stringify(validBody) }, headers: { "content-type": "text/plain" } },
    },
    {
      name: "content-type form",
      expect: "4xx",
      patch: {
        body: { raw: JSON.stringify(validBody) },
        headers: { "content-type": "application/x-www-form-urlencoded" },
      },
    },
    {
      name: "content-type missing",
      expect: "4xx",
      patch: { body: { raw: new TextEncoder().encode(JSON.stringify(validBody)) }, headers: { "content-type": "" } },
    },
    {
      name: "content-encoding gzip on plain JSON",
      expect: "4xx",
      patch: {
        body: { raw: JSON.stringify(validBody) },
        headers: { "content-type": "application/json", "content-encoding": "gzip" },
      },
    },
  ];
  const required = (schema.required ?? []) as string[];
  if (required.length > 0) mutations.push(json("is an empty object", {}));
  for (const key of required) mutations.push(json(`misses required ${key}`, withoutKey(validBody, key)));
  if (schema.additionalProperties === false) {
    mutations.push(json("has an extra field", withValue(validBody, ["unexpectedField"], 1)));
    mutations.push(json("has an extra __proto__ field", JSON.parse(`{"__proto__":{"admin":true}}`)));
  }
  for (const leaf of leavesOf(schema)) {
    const where = leaf.path.join(".");
    const at = (value: unknown) => withValue(validBody, leaf.path, value);
    mutations.push(json(`${where} has the wrong type`, at(wrongTypeFor(leaf.schema))));
    if (stringTypes(leaf.schema)) {
      mutations.push(json(`${where} has a lone surrogate`, at(`a${LONE_SURROGATE}b`)));
      for (const [label, character] of CONTROL_CHARACTERS) {
        mutations.push(json(`${where} has ${label}`, at(`a${character}b`)));
      }
      mutations.push(json(`${where} is 100 000 characters`, at("a".repeat(100_000))));
    }
    if (isDateTime(leaf.schema)) {
      for (const date of BAD_DATES) mutations.push(json(`${where} is ${date}`, at(date)));
      for (const date of EDGE_DATES) mutations.push(json(`${where} is ${date}`, at(date), "not-5xx"));
    }
    if (isNumeric(leaf.schema)) {
      for (const number of BAD_NUMBERS) mutations.push(json(`${where} is ${JSON.stringify(number)}`, at(number)));
    }
  }
  return mutations;
}

function queryMutations(operation: Operation, validQuery: Record<string, string>): Mutation[] {
  const names = Object.keys(operation.query);
  const encode = (entries: Record<string, string>) =>
    Object.entries(entries)
      .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
      .join("&");
  const withRaw = (name: string, rawValue: string) => {
    const others = encode(Object.fromEntries(Object.entries(validQuery).filter(([key]) => key !== name)));
    return [others, `${encodeURIComponent(name)}=${rawValue}`].filter(Boolean).join("&");
  };
  const mutation = (name: string, rawQuery: string, expect: Mutation["expect"] = "4xx"): Mutation => ({
    name: `query ${name}`,
    expect,
    patch: { rawQuery },
  });
  const mutations: Mutation[] = [
    // Endpoints with query parameters parse them strictly; the others ignore the query string.
    mutation(
      "has an unknown parameter",
      [encode(validQuery), "unknownParameter=1"].filter(Boolean).join("&"),
      names.length > 0 ? "4xx" : "not-5xx",
    ),
  ];
  for (const name of names) {
    const schema = operation.query[name] as JsonSchema;
    if (isNumeric(schema)) {
      for (const value of [...BAD_QUERY_NUMBERS, ...outOfBounds(schema)]) {
        mutations.push(mutation(`${name}=${JSON.stringify(value)}`, withRaw(name, encodeURIComponent(value))));
      }
    }
    if (isDateTime(schema)) {
      for (const date of BAD_DATES)
        mutations.push(mutation(`${name}=${date}`, withRaw(name, encodeURIComponent(date))));
      for (const date of EDGE_DATES) {
        mutations.push(mutation(`${name}=${date}`, withRaw(name, encodeURIComponent(date)), "not-5xx"));
      }
    }
    if (name === "cursor") {
      for (const cursor of FORGED_CURSORS) {
        mutations.push(mutation(`cursor=${cursor.slice(0, 24)}…`, withRaw(name, encodeURIComponent(cursor))));
      }
    }
    if (stringTypes(schema) && !isDateTime(schema)) {
      mutations.push(mutation(`${name} has NUL`, withRaw(name, "a%00b")));
      // Not UTF-8 at all (a lone surrogate encoded, a lone continuation byte): refused or read as U+FFFD, never a 500.
      mutations.push(mutation(`${name} has an encoded lone surrogate`, withRaw(name, "%ED%A0%80"), "not-5xx"));
      mutations.push(mutation(`${name} has a lone continuation byte`, withRaw(name, "%80"), "not-5xx"));
      mutations.push(mutation(`${name} has ESC`, withRaw(name, "a%1Bb"), "not-5xx"));
      mutations.push(mutation(`${name} repeated`, `${withRaw(name, "a")}&${encodeURIComponent(name)}=b`, "not-5xx"));
    }
  }
  return mutations;
}

function headerMutations(operation: Operation): Mutation[] {
  if (operation.method !== "POST") return [];
  return BAD_IDEMPOTENCY_KEYS.map((key) => ({
    name: `Idempotency-Key ${JSON.stringify(key.length > 20 ? `${key.slice(0, 20)}…` : key)}`,
    expect: "4xx" as const,
    patch: { headers: { "idempotency-key": key } },
  }));
}

function pathMutations(operation: Operation): Mutation[] {
  const mutations: Mutation[] = [];
  for (const name of operation.pathParams) {
    for (const id of BAD_PATH_IDS) {
      mutations.push({ name: `path ${name}=${id.slice(0, 24)}`, expect: "4xx", patch: { pathParams: { [name]: id } } });
    }
  }
  return mutations;
}

/**
 * Every hostile request for `operation`, each a patch over the valid request (`validBody`, `validQuery`), so that
 * exactly one thing is wrong in each.
 */
export function hostileMutations(
  operation: Operation,
  valid: { body: unknown; query: Record<string, string> },
): Mutation[] {
  return [
    ...pathMutations(operation),
    ...queryMutations(operation, valid.query),
    ...headerMutations(operation),
    ...bodyMutations(operation, valid.body),
  ];
}
