import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  generateTenantPassword,
  scramSha256Verifier,
  TenantPostgresError,
  tenantConnectionInfo,
  tenantNames,
} from "./index";

describe("tenant names, passwords and connection info", () => {
  it("derives t_<hex> names from a v4 UUID and rejects anything else without echoing it", () => {
    expect(tenantNames("0F3C2A6E-8B1D-4C7E-9A5F-2D4B6C8E0A1B")).toEqual({
      role: "t_0f3c2a6e8b1d4c7e9a5f2d4b6c8e0a1b",
      database: "t_0f3c2a6e8b1d4c7e9a5f2d4b6c8e0a1b",
    });
    for (const bad of [
      "",
      "x",
      "0f3c2a6e-8b1d-1c7e-9a5f-2d4b6c8e0a1b", // v1
      "0f3c2a6e-8b1d-4c7e-7a5f-2d4b6c8e0a1b", // wrong variant
      "0f3c2a6e-8b1d-4c7e-9a5f-2d4b6c8e0a1b; DROP ROLE x",
      "0f3c2a6e8b1d4c7e9a5f2d4b6c8e0a1b",
    ]) {
      let caught: unknown;
      try {
        tenantNames(bad);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(TenantPostgresError);
      const error = caught as TenantPostgresError;
      expect(error.kind).toBe("invalid_argument");
      expect(error.retryable).toBe(false);
      if (bad.length > 2) expect(error.message).not.toContain(bad);
    }
  });

  it("generates 32-byte base64url passwords", () => {
    const password = generateTenantPassword();
    expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(password, "base64url")).toHaveLength(32);
    expect(generateTenantPassword()).not.toBe(password);
  });

  it("computes a well-formed SCRAM-SHA-256 verifier, deterministic for a given salt", async () => {
    const salt = Buffer.alloc(16, 7);
    const verifier = await scramSha256Verifier("x".repeat(32), salt);
    expect(verifier).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
    expect(await scramSha256Verifier("x".repeat(32), salt)).toBe(verifier);
    expect(await scramSha256Verifier("x".repeat(32))).not.toBe(verifier);
  });

  it("builds an encoded URL equivalent to the discrete fields", () => {
    const resourceId = randomUUID();
    const password = "a/b@c:d?e#f%g+h[x]0123456789abcdefghijklmnop";
    const info = tenantConnectionInfo({ host: "db.internal", port: 6432, resourceId, password });
    const { role, database } = tenantNames(resourceId);
    expect(info).toMatchObject({ host: "db.internal", port: 6432, user: role, database, password });
    const url = new URL(info.url);
    expect(url.protocol).toBe("postgresql:");
    expect(url.hostname).toBe("db.internal");
    expect(url.port).toBe("6432");
    expect(decodeURIComponent(url.username)).toBe(role);
    expect(decodeURIComponent(url.password)).toBe(password);
    expect(url.pathname).toBe(`/${database}`);
    expect(tenantConnectionInfo({ host: "::1", port: 5432, resourceId, password }).url).toContain("@[::1]:5432/");
  });

  it("rejects hostile hosts, ports and passwords", () => {
    const resourceId = randomUUID();
    const password = generateTenantPassword();
    for (const host of ["", "a/b", "a@b", "a b", "host:1", "-x", "a\nb"]) {
      expect(() => tenantConnectionInfo({ host, port: 5432, resourceId, password })).toThrow(TenantPostgresError);
    }
    for (const port of [0, 65_536, 1.5, Number.NaN]) {
      expect(() => tenantConnectionInfo({ host: "h", port, resourceId, password })).toThrow(TenantPostgresError);
    }
    for (const weak of ["short", "x".repeat(31), `${"x".repeat(40)} `, `${"x".repeat(40)}é`]) {
      expect(() => tenantConnectionInfo({ host: "h", port: 1, resourceId, password: weak })).toThrow(/password/);
    }
  });
});
