import { describe, expect, it } from "vitest";
import { API_TOKEN_PREFIX, looksLikeApiToken, newApiToken, randomToken, safeEqual, sha256 } from "@/lib/auth/tokens";

describe("randomToken", () => {
  it("is 256 bits of base64url by default", () => {
    const token = randomToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, "base64url")).toHaveLength(32);
  });

  it("honours a requested size", () => {
    expect(Buffer.from(randomToken(16), "base64url")).toHaveLength(16);
    expect(Buffer.from(randomToken(48), "base64url")).toHaveLength(48);
  });

  it("does not repeat (a weak or seeded generator would)", () => {
    const seen = new Set(Array.from({ length: 2_000 }, () => randomToken()));
    expect(seen.size).toBe(2_000);
  });

  it("uses every byte value over many draws, so no bits are fixed", () => {
    // 64 KiB of output: each of the 256 byte values is expected ~256 times; a stuck bit would leave half unseen.
    const bytes = Buffer.concat(Array.from({ length: 2_048 }, () => Buffer.from(randomToken(32), "base64url")));
    expect(new Set(bytes).size).toBe(256);
  });
});

describe("sha256", () => {
  it("is the hex SHA-256 of the UTF-8 string", () => {
    expect(sha256("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(sha256("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(sha256("é")).toBe(sha256("\u00e9"));
    expect(sha256("é")).not.toBe(sha256("e\u0301"));
  });
});

describe("safeEqual", () => {
  it("is true only for identical strings", () => {
    const token = randomToken();
    expect(safeEqual(token, `${token}`)).toBe(true);
    expect(safeEqual("", "")).toBe(true);
    expect(safeEqual(token, `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`)).toBe(false);
    expect(safeEqual("abc", "ABC")).toBe(false);
  });

  it("answers false instead of throwing for different lengths", () => {
    // timingSafeEqual throws on length mismatch; the wrapper must turn that into a plain refusal.
    expect(safeEqual("abc", "abcd")).toBe(false);
    expect(safeEqual("", "a")).toBe(false);
  });

  it("compares bytes, so strings of equal length but different UTF-8 size do not throw", () => {
    expect("é".length).toBe("e".length);
    expect(safeEqual("é", "e")).toBe(false);
    expect(safeEqual("\u00e9", "e\u0301")).toBe(false);
  });
});

describe("newApiToken", () => {
  it("has the recognisable prefix, 256 random bits, and a display prefix that is not the secret", () => {
    const { token, hash, prefix } = newApiToken();
    expect(API_TOKEN_PREFIX).toBe("tsl_");
    expect(token.startsWith("tsl_")).toBe(true);
    expect(Buffer.from(token.slice(4), "base64url")).toHaveLength(32);
    expect(token).toHaveLength(47);
    expect(looksLikeApiToken(token)).toBe(true);
    expect(prefix).toBe(token.slice(0, 12));
    // The shown prefix carries at most 8 random characters (48 bits): not enough to guess the remaining 208.
    expect(prefix.length).toBeLessThanOrEqual(12);
    expect(hash).toBe(sha256(token));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain(token.slice(4));
  });

  it("never repeats a token or a prefix in practice", () => {
    const tokens = Array.from({ length: 500 }, () => newApiToken());
    expect(new Set(tokens.map((t) => t.token)).size).toBe(500);
    expect(new Set(tokens.map((t) => t.hash)).size).toBe(500);
  });
});

describe("looksLikeApiToken", () => {
  const valid = newApiToken().token;

  it("accepts the exact format", () => {
    expect(looksLikeApiToken(valid)).toBe(true);
    expect(looksLikeApiToken(`tsl_${"A".repeat(43)}`)).toBe(true);
    expect(looksLikeApiToken(`tsl_${"-_".repeat(21)}z`)).toBe(true);
  });

  it.each([
    ["empty", ""],
    ["prefix only", "tsl_"],
    ["one character short", valid.slice(0, -1)],
    ["one character long", `${valid}A`],
    ["other prefix", `tsk_${valid.slice(4)}`],
    ["upper-case prefix", `TSL_${valid.slice(4)}`],
    ["bearer scheme included", `Bearer ${valid}`],
    ["leading space", ` ${valid.slice(0, -1)}`],
    ["trailing newline", `${valid}\n`],
    ["newline in the middle", `${valid.slice(0, 20)}\n${valid.slice(21)}`],
    ["standard base64 characters", `tsl_${"+/".repeat(21)}A`],
    ["padding", `tsl_${"A".repeat(42)}=`],
    ["non-ASCII", `tsl_${"é".repeat(43)}`],
  ])("refuses %s", (_label, value) => {
    expect(looksLikeApiToken(value)).toBe(false);
  });
});
