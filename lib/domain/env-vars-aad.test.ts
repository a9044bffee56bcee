// Env var ciphertexts are bound to their app and key: a value copied to another row does not decrypt, and rows
// sealed before the binding existed (v1) are re-encrypted once by the migration path run at start.
import { describe, expect, it } from "vitest";
import { encryptSecret } from "@/lib/crypto";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { reencryptLegacyEnvVars, resolveEnvForRelease, setEnvVars } from "@/lib/domain/env-vars";
import { createTestTeam, createTestUser, userCtx } from "@/test/factories";

async function seed() {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const ctx = await userCtx(owner.id, team.id);
  const a = await createApp(getDb(), ctx, { name: `a-${crypto.randomUUID().slice(0, 8)}` });
  const b = await createApp(getDb(), ctx, { name: `b-${crypto.randomUUID().slice(0, 8)}` });
  return { ctx, a, b };
}

describe("env var ciphertexts bound to app and key", () => {
  it("a v2 ciphertext moved to another app or another key fails to decrypt", async () => {
    const { ctx, a, b } = await seed();
    await setEnvVars(getDb(), ctx, a.id, { SECRET: "alpha", OTHER: "beta" });
    await setEnvVars(getDb(), ctx, b.id, { SECRET: "gamma" });
    const source = await getDb().envVar.findUniqueOrThrow({ where: { appId_key: { appId: a.id, key: "SECRET" } } });
    expect(source.valueEncrypted.startsWith("v2.")).toBe(true);
    expect(await resolveEnvForRelease(getDb(), a.id)).toEqual({ OTHER: "beta", SECRET: "alpha" });

    await getDb().envVar.update({
      where: { appId_key: { appId: b.id, key: "SECRET" } },
      data: { valueEncrypted: source.valueEncrypted },
    });
    await expect(resolveEnvForRelease(getDb(), b.id)).rejects.toThrow();

    await getDb().envVar.update({
      where: { appId_key: { appId: a.id, key: "OTHER" } },
      data: { valueEncrypted: source.valueEncrypted },
    });
    await expect(resolveEnvForRelease(getDb(), a.id)).rejects.toThrow();
  });

  it("re-encrypts a v1 row to v2 once, keeping its value", async () => {
    const { a } = await seed();
    await getDb().envVar.create({ data: { appId: a.id, key: "LEGACY", valueEncrypted: encryptSecret("old value") } });
    await expect(resolveEnvForRelease(getDb(), a.id)).rejects.toThrow(/manage -- migrate/);

    expect((await reencryptLegacyEnvVars(getDb())).migrated).toBeGreaterThanOrEqual(1);
    const row = await getDb().envVar.findUniqueOrThrow({ where: { appId_key: { appId: a.id, key: "LEGACY" } } });
    expect(row.valueEncrypted.startsWith("v2.")).toBe(true);
    expect(await resolveEnvForRelease(getDb(), a.id)).toEqual({ LEGACY: "old value" });
    // Idempotent: nothing left to do, nothing changes.
    expect((await reencryptLegacyEnvVars(getDb())).migrated).toBe(0);
    const again = await getDb().envVar.findUniqueOrThrow({ where: { id: row.id } });
    expect(again.valueEncrypted).toBe(row.valueEncrypted);
  });
});
