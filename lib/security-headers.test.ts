// The security headers of every page: a CSP with this request's nonce and no inline scripts, HSTS only over https.
import { describe, expect, it } from "vitest";
import { contentSecurityPolicy, newNonce, securityHeaders } from "@/lib/security-headers";

function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp
      .split(";")
      .map((part) => part.trim().split(/\s+/))
      .filter((words) => words[0])
      .map(([name, ...values]) => [name as string, values]),
  );
}

describe("contentSecurityPolicy", () => {
  it("allows scripts by nonce with strict-dynamic, never inline or eval in production", () => {
    const csp = directives(contentSecurityPolicy({ nonce: "abc123", dev: false, https: false }));
    expect(csp.get("script-src")).toEqual(["'self'", "'nonce-abc123'", "'strict-dynamic'"]);
    expect(csp.get("script-src")).not.toContain("'unsafe-inline'");
    expect(csp.get("default-src")).toEqual(["'self'"]);
    expect(csp.get("object-src")).toEqual(["'none'"]);
    expect(csp.get("base-uri")).toEqual(["'none'"]);
    expect(csp.get("form-action")).toEqual(["'self'"]);
    expect(csp.get("frame-ancestors")).toEqual(["'none'"]);
    expect(csp.has("upgrade-insecure-requests")).toBe(false);
  });

  it("adds eval only in development (React's dev tooling), and upgrade-insecure-requests over https", () => {
    expect(directives(contentSecurityPolicy({ nonce: "n", dev: true, https: false })).get("script-src")).toContain(
      "'unsafe-eval'",
    );
    expect(
      directives(contentSecurityPolicy({ nonce: "n", dev: false, https: true })).has("upgrade-insecure-requests"),
    ).toBe(true);
  });

  it("lets a sign-in form go on to the single sign-on issuer", () => {
    const csp = directives(
      contentSecurityPolicy({ nonce: "n", dev: false, https: true, formTargets: ["https://id.example.org"] }),
    );
    expect(csp.get("form-action")).toEqual(["'self'", "https://id.example.org"]);
  });
});

describe("securityHeaders", () => {
  it("sends HSTS only when the public URL is https", () => {
    const plain = securityHeaders({ nonce: "n", dev: false, publicUrl: "http://localhost:3000" });
    expect(plain["strict-transport-security"]).toBeUndefined();
    const secure = securityHeaders({ nonce: "n", dev: false, publicUrl: "https://paas.example.org" });
    expect(secure["strict-transport-security"]).toMatch(/^max-age=\d+/);
    expect(secure["content-security-policy"]).toContain("'nonce-n'");
    expect(secure["x-content-type-options"]).toBe("nosniff");
    expect(secure["referrer-policy"]).toBe("strict-origin-when-cross-origin");
  });

  it("draws a fresh, unguessable nonce per request", () => {
    const a = newNonce();
    expect(a).toMatch(/^[A-Za-z0-9+/]{22,}={0,2}$/);
    expect(newNonce()).not.toBe(a);
  });
});
