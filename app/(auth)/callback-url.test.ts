import { describe, expect, it } from "vitest";
import { authPageHref, safeCallbackUrl } from "./callback-url";

describe("safeCallbackUrl", () => {
  it.each([
    ["/teams", "/teams"],
    ["/teams/abc/members?x=1#top", "/teams/abc/members?x=1#top"],
    ["/invitations/AbC-_123", "/invitations/AbC-_123"],
    ["/a/../teams", "/teams"],
  ])("keeps the same-origin path %s", (input, expected) => {
    expect(safeCallbackUrl(input)).toBe(expected);
  });

  it.each([
    "https://evil.example/",
    "//evil.example",
    "/\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "javascript:alert(1)",
    "teams",
    "",
    "/api/auth/signout",
    `/${"a".repeat(2001)}`,
  ])("drops %j", (input) => {
    expect(safeCallbackUrl(input)).toBeNull();
  });

  it("drops values that are not strings", () => {
    expect(safeCallbackUrl(undefined)).toBeNull();
    expect(safeCallbackUrl(["/teams"])).toBeNull();
  });
});

describe("authPageHref", () => {
  it("carries a safe callback and extra parameters", () => {
    expect(authPageHref("/sign-up", "/invitations/t", { email: "a@example.com" })).toBe(
      "/sign-up?email=a%40example.com&callbackUrl=%2Finvitations%2Ft",
    );
  });

  it("leaves an unsafe callback out", () => {
    expect(authPageHref("/sign-in", "https://evil.example")).toBe("/sign-in");
  });
});
