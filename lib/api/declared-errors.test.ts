import { describe, expect, it } from "vitest";
import { z } from "zod";
import { declaredErrorCodes } from "@/lib/api/declared-errors";
import { defineEndpoint } from "@/lib/api/endpoint";
import { handle } from "@/lib/api/handler";
import { AppError } from "@/lib/errors";

const declaring = defineEndpoint({
  id: "testDeclaring",
  method: "POST",
  path: "/api/test/declaring",
  summary: "declares its refusals",
  description: "A test endpoint that refuses with the code it is given.",
  examples: { responses: {} },
  tags: ["test"],
  auth: "public",
  errors: ["conflict"],
  body: z.strictObject({ code: z.enum(["conflict", "quota_exceeded"]) }),
  responses: { 200: { description: "ok" } },
});

const route = handle(declaring, async ({ body }) => {
  throw new AppError(body.code, "refused");
});

const post = (code: string) =>
  route(
    new Request("http://test/api/test/declaring", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code }),
    }),
    { params: Promise.resolve({}) },
  );

describe("declared error codes", () => {
  it("answers a declared refusal in the error shape", async () => {
    const response = await post("conflict");
    expect(response.status).toBe(409);
  });

  it("throws under test when an endpoint answers a code it does not declare", async () => {
    await expect(post("quota_exceeded")).rejects.toThrow(/undeclared error code quota_exceeded/);
  });

  it("derives the codes every endpoint of its kind can answer", () => {
    expect(declaredErrorCodes(declaring)).toEqual(
      expect.arrayContaining(["bad_request", "conflict", "invalid", "too_large", "internal"]),
    );
    expect(declaredErrorCodes(declaring)).not.toContain("unauthenticated");
    expect(declaredErrorCodes(declaring)).not.toContain("quota_exceeded");
  });
});
