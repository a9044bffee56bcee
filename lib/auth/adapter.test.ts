// The next-auth adapter over our tables: what an email link's first proof of an address does to the account.
import pino from "pino";
import { describe, expect, it } from "vitest";
import { tussilagoAdapter } from "@/lib/auth/adapter";
import { getDb } from "@/lib/db";
import { createTestUser } from "@/test/factories";

const silent = pino({ level: "silent" });

async function row(id: string) {
  return await getDb().user.findUniqueOrThrow({
    where: { id },
    select: { passwordHash: true, sessionVersion: true, emailVerifiedAt: true },
  });
}

describe("tussilagoAdapter.updateUser", () => {
  it("removes a password nobody proved the address for, and ends its sessions, at the first email-link sign-in", async () => {
    const squatted = await createTestUser({ password: "correct horse battery staple" });
    const before = await row(squatted.id);
    expect(before.passwordHash).not.toBeNull();
    expect(before.emailVerifiedAt).toBeNull();

    const adapter = tussilagoAdapter(getDb(), silent);
    const verifiedAt = new Date();
    await adapter.updateUser?.({ id: squatted.id, emailVerified: verifiedAt });

    const after = await row(squatted.id);
    expect(after.passwordHash).toBeNull();
    expect(after.sessionVersion).toBe(before.sessionVersion + 1);
    expect(after.emailVerifiedAt?.getTime()).toBe(verifiedAt.getTime());
  });

  it("keeps the password and the sessions of an address proved before", async () => {
    const owner = await createTestUser({ password: "correct horse battery staple" });
    await getDb().user.update({ where: { id: owner.id }, data: { emailVerifiedAt: new Date(Date.now() - 60_000) } });
    const before = await row(owner.id);

    await tussilagoAdapter(getDb(), silent).updateUser?.({ id: owner.id, emailVerified: new Date() });

    const after = await row(owner.id);
    expect(after.passwordHash).toBe(before.passwordHash);
    expect(after.sessionVersion).toBe(before.sessionVersion);
  });

  it("changes nothing but the name when no proof comes with the update", async () => {
    const user = await createTestUser({ password: "correct horse battery staple" });
    const before = await row(user.id);

    await tussilagoAdapter(getDb(), silent).updateUser?.({ id: user.id, name: "New Name" });

    const after = await row(user.id);
    expect(after).toEqual(before);
    expect((await getDb().user.findUniqueOrThrow({ where: { id: user.id } })).name).toBe("New Name");
  });
});
