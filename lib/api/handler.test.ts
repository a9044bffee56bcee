import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineEndpoint } from "@/lib/api/endpoint";
import { handle, MAX_JSON_BODY_BYTES } from "@/lib/api/handler";
import { AppError, ERROR_CODES, ERROR_STATUS } from "@/lib/errors";

const echo = defineEndpoint({
  id: "testEcho",
  method: "POST",
  path: "/api/test/{id}",
  summary: "echo",
  description: "A test endpoint that answers what it was sent.",
  examples: { responses: {} },
  tags: ["test"],
  auth: "public",
  params: z.strictObject({ id: z.uuid() }),
  query: z.strictObject({ verbose: z.enum(["0", "1"]).optional() }),
  body: z.strictObject({ name: z.string().min(1) }),
  responses: { 201: { description: "ok", schema: z.object({ id: z.string(), name: z.string() }) } },
});

const id = "3f1c2a5e-1b2c-4d3e-8f40-123456789abc";
const ctx = (params: Record<string, string> = { id }) => ({ params: Promise.resolve(params) });
const post = (body: string, headers: Record<string, string> = {}) =>
  new Request(`http://test/api/test/${id}`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...headers },
  });

describe("handle", () => {
  const route = handle(echo, async ({ params, body }) => ({
    status: 201 as const,
    // `secret` is not in the response schema and must never reach the client.
    body: { id: params.id, name: body.name, secret: "internal" } as { id: string; name: string },
  }));

  it("answers with the parsed input, a request ID, and only the declared fields", async () => {
    const response = await route(post(JSON.stringify({ name: "web" })), ctx());
    expect(response.status).toBe(201);
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(await response.json()).toEqual({ id, name: "web" });
  });

  it("answers malformed JSON with 400 bad_request", async () => {
    const response = await route(post("{not json"), ctx());
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.error.code).toBe("bad_request");
    expect(body.error.requestId).toBe(response.headers.get("x-request-id"));
  });

  it("answers schema failures with 422 and the issues, rejecting unknown fields", async () => {
    const response = await route(post(JSON.stringify({ name: "", teamId: "smuggled" })), ctx());
    expect(response.status).toBe(422);
    const body = await response.json();
    expect(body.error.code).toBe("invalid");
    const paths = body.error.details.map((issue: { path: string }) => issue.path);
    expect(paths).toContain("name");
    expect(body.error.details.some((issue: { code: string }) => issue.code === "unrecognized_keys")).toBe(true);
  });

  it("answers an invalid query string with 422", async () => {
    const request = new Request(`http://test/api/test/${id}?verbose=yes`, { method: "POST", body: '{"name":"a"}' });
    expect((await route(request, ctx())).status).toBe(422);
  });

  it.each([
    ["text/plain", {}],
    ["application/json; charset=latin1", {}],
    ["multipart/form-data; boundary=x", {}],
    ["application/json", { "content-encoding": "gzip" }],
    ["application/json", { "content-encoding": "identity, deflate" }],
  ])("answers Content-Type %s %o with 415 before reading the body", async (type, extra) => {
    const response = await route(post(JSON.stringify({ name: "a" }), { "content-type": type, ...extra }), ctx());
    expect(response.status).toBe(415);
    expect((await response.json()).error.code).toBe("unsupported_media_type");
  });

  it("answers a body without a Content-Type with 415, and takes JSON with a UTF-8 charset or identity coding", async () => {
    const untyped = new Request(`http://test/api/test/${id}`, {
      method: "POST",
      body: new TextEncoder().encode('{"name":"a"}'),
    });
    expect((await route(untyped, ctx())).status).toBe(415);
    const typed = post('{"name":"a"}', {
      "content-type": 'application/json;charset="UTF-8"',
      "content-encoding": "identity",
    });
    expect((await route(typed, ctx())).status).toBe(201);
  });

  it.each(["verbose=1&verbose=0", "other=1", "verbose=%00", "v%1Bx=1"])(
    "refuses the query string %s with 422 and says which parameter",
    async (search) => {
      const request = new Request(`http://test/api/test/${id}?${search}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"name":"a"}',
      });
      const response = await route(request, ctx());
      expect(response.status).toBe(422);
      expect((await response.json()).error.details.length).toBeGreaterThan(0);
    },
  );

  it("refuses any query parameter on an endpoint that declares no query", async () => {
    const bare = handle(defineEndpoint({ ...echo, query: undefined }), async ({ params, body }) => ({
      status: 201 as const,
      body: { id: params.id, name: body.name },
    }));
    const request = new Request(`http://test/api/test/${id}?cache=1`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"name":"a"}',
    });
    const response = await bare(request, ctx());
    expect(response.status).toBe(422);
    expect((await response.json()).error.details[0]).toMatchObject({ path: "cache", code: "unrecognized_keys" });
  });

  it("answers a malformed path ID with 404, as for an ID that does not exist", async () => {
    const response = await route(post(JSON.stringify({ name: "a" })), ctx({ id: "../etc" }));
    expect(response.status).toBe(404);
    expect((await response.json()).error.code).toBe("not_found");
  });

  it("answers bodies over the limit with 413", async () => {
    const big = JSON.stringify({ name: "x".repeat(MAX_JSON_BODY_BYTES + 1) });
    expect((await route(post(big), ctx())).status).toBe(413);
  });

  it.each(ERROR_CODES)("maps AppError %s through the one table", async (code) => {
    const failing = handle(echo, async () => {
      throw new AppError(code, `message for ${code}`, { details: { hint: 1 }, retryAfter: 7 });
    });
    const response = await failing(post(JSON.stringify({ name: "a" })), ctx());
    expect(response.status).toBe(ERROR_STATUS[code]);
    const body = await response.json();
    expect(body.error).toMatchObject({ code, message: `message for ${code}`, details: { hint: 1 } });
    expect(response.headers.get("retry-after")).toBe("7");
  });

  it("answers unknown errors with a generic 500 and no internals", async () => {
    const failing = handle(echo, async () => {
      throw new Error("connect ECONNREFUSED 10.0.0.5:5432 at /srv/tussilago/lib/db.ts:12");
    });
    const response = await failing(post(JSON.stringify({ name: "a" })), ctx());
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toMatch(/ECONNREFUSED|10\.0\.0\.5|\/srv|lib\/db|stack/);
    expect(JSON.parse(text).error).toMatchObject({ code: "internal", message: "Something went wrong on our side." });
  });

  it("refuses to send an answer that does not match its declared schema", async () => {
    const wrong = handle(echo, async () => ({
      status: 201 as const,
      body: { id: 5 } as unknown as { id: string; name: string },
    }));
    const response = await wrong(post(JSON.stringify({ name: "a" })), ctx());
    expect(response.status).toBe(500);
  });
});
