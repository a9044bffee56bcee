// The usage page and its "Measure now" action: only instance administrators see the page or queue a measurement;
// anyone else gets the 404 page (notFound) or "Page not found." with nothing queued.
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it, vi } from "vitest";
import type { PublicUser } from "@/lib/domain/users";
import { createTestUser } from "@/test/factories";
import { pendingJobs } from "@/test/helpers";

const session = vi.hoisted(() => ({ user: null as PublicUser | null }));

vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => session.user,
  requireUser: async () => {
    if (!session.user) throw new Error("redirected to sign-in");
    return session.user;
  },
  currentRequestMeta: async () => ({ requestId: randomUUID(), ip: "203.0.113.9", userAgent: "vitest" }),
}));

// The header's sign-out actions load next-auth, which needs Next's runtime; the page's gate does not.
vi.mock("@/app/(portal)/actions", () => ({
  signOutAction: async () => ({ status: "idle" }),
  signOutEverywhereAction: async () => ({ status: "idle" }),
}));

const { measureUsageAction } = await import("@/app/(portal)/admin/usage/actions");
const { default: UsagePage } = await import("@/app/(portal)/admin/usage/page");

afterAll(() => {
  session.user = null;
});

describe("usage page", () => {
  it("is not found for a user who is not an instance administrator, and their request queues nothing", async () => {
    session.user = await createTestUser({ admin: false });
    const error = await UsagePage().catch((caught: unknown) => caught);
    expect((error as { digest?: string }).digest).toBe("NEXT_HTTP_ERROR_FALLBACK;404");
    const result = await measureUsageAction({ status: "idle" }, new FormData());
    expect(result).toMatchObject({ status: "error", message: "Page not found." });
    expect(await pendingJobs("instance__usage")).toEqual([]);
  });

  it("renders for an administrator, whose request queues one measurement", async () => {
    session.user = await createTestUser({ admin: true });
    await expect(UsagePage()).resolves.toBeTruthy();
    expect((await measureUsageAction({ status: "idle" }, new FormData())).status).toBe("success");
    expect((await measureUsageAction({ status: "idle" }, new FormData())).status).toBe("success");
    expect(await pendingJobs("instance__usage")).toHaveLength(1);
  });
});
