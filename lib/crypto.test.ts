// Sealed secrets: v2 binds each ciphertext to where it belongs (associated data), v1 (unbound) still opens.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decryptBound, decryptSecret, encryptBound, encryptSecret, isLegacySealed } from "@/lib/crypto";

const key = randomBytes(32);

describe("bound secrets (v2)", () => {
  it("round-trips with the same binding and says v2", () => {
    const sealed = encryptBound("s3cret", ["env-var", "app-a", "KEY"], key);
    expect(sealed.startsWith("v2.")).toBe(true);
    expect(isLegacySealed(sealed)).toBe(false);
    expect(decryptBound(sealed, ["env-var", "app-a", "KEY"], key)).toBe("s3cret");
  });

  it("refuses a ciphertext moved to another app, another key or another purpose", () => {
    const sealed = encryptBound("s3cret", ["env-var", "app-a", "KEY"], key);
    expect(() => decryptBound(sealed, ["env-var", "app-b", "KEY"], key)).toThrow();
    expect(() => decryptBound(sealed, ["env-var", "app-a", "OTHER"], key)).toThrow();
    expect(() => decryptBound(sealed, ["database-password", "app-a", "KEY"], key)).toThrow();
    // Parts are encoded unambiguously: moving a separator between parts is another binding.
    expect(() => decryptBound(sealed, ["env-var", "app-aK", "EY"], key)).toThrow();
  });

  it("does not open a v1 ciphertext as bound, and marks it legacy", () => {
    const legacy = encryptSecret("old", key);
    expect(isLegacySealed(legacy)).toBe(true);
    expect(() => decryptBound(legacy, ["env-var", "app-a", "KEY"], key)).toThrow();
    expect(decryptSecret(legacy, key)).toBe("old");
  });
});
