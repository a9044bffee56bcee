// The host readiness page's actions: only instance administrators queue a run or read the report; anyone else is
// answered "not found" with nothing queued. The checks themselves run in the worker (platform__check).
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it, vi } from "vitest";
import { getDb } from "@/lib/db";
import type { PublicUser } from "@/lib/domain/users";
import { createTestUser } from "@/test/factories";
import { pendingJobs } from "@/test/helpers";

const session = vi.hoisted(() => ({ user: null as PublicUser | null }));

vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => session.user,
  currentRequestMeta: async () => ({ requestId: randomUUID(), ip: "203.0.113.9", userAgent: "vitest" }),
}));

const { pollHostChecks, runHostChecksAction } = await import("@/app/(portal)/admin/host/actions");

afterAll(() => {
  session.user = null;
});

describe("host readiness actions", () => {
  it("refuses a user who is not an instance administrator, queueing nothing", async () => {
    session.user = await createTestUser({ admin: false });
    const result = await runHostChecksAction({ status: "idle" }, new FormData());
    expect(result).toMatchObject({ status: "error", message: "Page not found." });
    expect(await pendingJobs("platform__check")).toEqual([]);
    expect(await pollHostChecks()).toMatchObject({ status: "error", message: "Page not found." });
  });

  it("refuses a signed-out visitor", async () => {
    session.user = null;
    expect((await runHostChecksAction({ status: "idle" }, new FormData())).status).toBe("error");
    expect(await pendingJobs("platform__check")).toEqual([]);
  });

  it("queues one run for an administrator, however often asked, and reports it as running", async () => {
    session.user = await createTestUser({ admin: true });
    expect((await runHostChecksAction({ status: "idle" }, new FormData())).status).toBe("success");
    expect((await runHostChecksAction({ status: "idle" }, new FormData())).status).toBe("success");
    expect(await pendingJobs("platform__check")).toHaveLength(1);
    expect(await getDb().operation.count({ where: { kind: "platform.check" } })).toBe(1);
    expect(await pollHostChecks()).toEqual({ status: "success", data: { report: null, running: true } });
  });
});
