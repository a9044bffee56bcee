// The action wrapper's typed entry points (teamCall, userCall): the same session, validation and membership checks
// as the form actions, for client code that calls a server function with arguments (the live views' polls), so
// nothing builds a FormData only to reach teamAction.
import { randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import type { PublicUser } from "@/lib/domain/users";
import { createTestTeam, createTestUser } from "@/test/factories";

const session = vi.hoisted(() => ({ user: null as PublicUser | null }));

vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => session.user,
  currentRequestMeta: async () => ({ requestId: randomUUID(), ip: "203.0.113.9", userAgent: "vitest" }),
}));

const { teamCall, userCall } = await import("@/lib/actions");

const pollInput = z.strictObject({ teamId: z.uuid(), offset: z.coerce.number().int().min(0) });
const poll = teamCall<typeof pollInput, { teamId: string; role: string; offset: number }>(
  pollInput,
  async (input, { ctx }) => ({ status: "success", data: { teamId: ctx.teamId, role: ctx.role, offset: input.offset } }),
);

beforeEach(() => {
  session.user = null;
});

describe("teamCall", () => {
  it("runs with the caller's team context from typed arguments", async () => {
    const owner = await createTestUser();
    const team = await createTestTeam(owner.id);
    session.user = owner;
    expect(await poll({ teamId: team.id, offset: 42 })).toEqual({
      status: "success",
      data: { teamId: team.id, role: "owner", offset: 42 },
    });
  });

  it("answers another team's ID as not found, and refuses the signed-out and unknown fields", async () => {
    const owner = await createTestUser();
    const other = await createTestTeam((await createTestUser()).id);
    expect((await poll({ teamId: other.id, offset: 0 })).message).toMatch(/session has ended/);
    session.user = owner;
    expect(await poll({ teamId: other.id, offset: 0 })).toMatchObject({ status: "error", message: "Team not found." });
    // The arguments come from the browser: as hostile as a form, so validated the same way.
    const smuggled = { teamId: other.id, offset: 0, role: "owner" } as unknown as z.input<typeof pollInput>;
    expect((await poll(smuggled)).status).toBe("error");
    expect((await poll({ teamId: "' OR 1=1 --", offset: -1 })).fieldErrors).toHaveProperty("teamId");
  });
});

describe("userCall", () => {
  it("needs a signed-in user", async () => {
    const whoami = userCall<z.ZodObject, string>(z.strictObject({}), async (_input, { user }) => ({
      status: "success",
      data: user.id,
    }));
    expect((await whoami({})).status).toBe("error");
    const user = await createTestUser();
    session.user = user;
    expect(await whoami({})).toEqual({ status: "success", data: user.id });
  });
});
