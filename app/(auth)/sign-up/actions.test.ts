// Sign-up answers the same whether or not the address has an account (no account enumeration), never creates a
// second account, and is rate-limited per IP.
import { randomBytes, randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { decryptSecret } from "@/lib/crypto";
import { getDb } from "@/lib/db";
import { SIGN_UP_PER_IP } from "@/lib/domain/rate-limit";
import { createUser } from "@/lib/domain/users";
import { resetEnvForTests } from "@/lib/env";
import { form } from "@/test/actions";

const request = vi.hoisted(() => ({ ip: "203.0.113.1" }));

vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => null,
  currentRequestMeta: async () => ({ requestId: randomUUID(), ip: request.ip, userAgent: "vitest" }),
}));
// Signing in needs a live Next request; the old flow signed new accounts in, which is what made answers differ.
vi.mock("@/lib/auth/next-auth", () => ({ signIn: async () => undefined }));
vi.mock("next-auth", () => ({ AuthError: class AuthError extends Error {} }));

const { signUp } = await import("@/app/(auth)/sign-up/actions");

function email(label: string): string {
  return `${label}-${randomBytes(5).toString("hex")}@example.test`;
}

/** What the person sees: a redirect's target, or the returned state. */
async function outcome(values: Record<string, string>): Promise<unknown> {
  try {
    return await signUp({ status: "idle" }, form(values));
  } catch (error) {
    const digest = (error as { digest?: unknown }).digest;
    if (typeof digest === "string" && digest.startsWith("NEXT_REDIRECT")) return { redirect: digest.split(";")[2] };
    throw error;
  }
}

beforeEach(() => {
  request.ip = `198.18.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;
});

describe("sign-up", () => {
  it("answers an existing address exactly as a new one, and creates no second account", async () => {
    const taken = email("taken");
    const original = await createUser(getDb(), { email: taken, password: "the original password" });
    const before = await getDb().user.findUniqueOrThrow({ where: { id: original.id } });

    const fresh = await outcome({ name: "New Person", email: email("fresh"), password: "a new password 123" });
    const existing = await outcome({ name: "Someone Else", email: taken, password: "another password 123" });

    expect(existing).toEqual(fresh);
    expect(JSON.stringify(existing)).not.toContain("already");
    expect(await getDb().user.count({ where: { email: taken } })).toBe(1);
    const after = await getDb().user.findUniqueOrThrow({ where: { id: original.id } });
    expect(after.passwordHash).toBe(before.passwordHash);
    expect(after.name).toBe(before.name);
  });

  it("creates the new account with the given password hashed", async () => {
    const address = email("created");
    await outcome({ name: "Created", email: address, password: "a new password 123" });
    const user = await getDb().user.findUniqueOrThrow({ where: { email: address } });
    expect(user.passwordHash).toMatch(/^\$argon2/);
    expect(user.name).toBe("Created");
  });

  it("is rate-limited per IP, and another IP is not affected", async () => {
    for (let i = 0; i < SIGN_UP_PER_IP.limit; i += 1) {
      await outcome({ name: "Bulk", email: email("bulk"), password: "a new password 123" });
    }
    const limited = await outcome({ name: "Bulk", email: email("bulk"), password: "a new password 123" });
    expect(limited).toMatchObject({ status: "error", message: expect.stringContaining("Too many") });

    request.ip = "198.19.0.1";
    const other = await outcome({ name: "Other", email: email("other"), password: "a new password 123" });
    expect(other).toHaveProperty("redirect");
  });

  it("with mail configured, mails the address in both cases: a welcome, or a heads-up to the existing account", async () => {
    process.env.SMTP_URL = "smtp://localhost:2525";
    resetEnvForTests();
    try {
      const taken = email("mailed-taken");
      await createUser(getDb(), { email: taken, password: "the original password" });
      const fresh = email("mailed-fresh");
      const a = await outcome({ name: "Fresh", email: fresh, password: "a new password 123" });
      const b = await outcome({ name: "Taken", email: taken, password: "another password 123" });
      expect(a).toEqual(b);
      const mails = await getDb().outboundEmail.findMany({ where: { to: { in: [fresh, taken] } } });
      expect(mails.map((mail) => mail.to).sort()).toEqual([fresh, taken].sort());
      const heads = mails.find((mail) => mail.to === taken);
      expect(decryptSecret(heads?.bodyEncrypted ?? "")).toContain("/forgot-password");
    } finally {
      delete process.env.SMTP_URL;
      resetEnvForTests();
    }
  });
});
