// The instance admin's host readiness page: the checks of `manage check` (lib/checks/check.ts) run by the worker
// (platform__check), never in a request, since they run podman and iptables. A request only queues a run and reads
// the newest stored report. Only instance administrators: anyone else gets not_found, like a page that is not there.
import { enqueue } from "@/jobs/enqueue";
import type { CheckSection } from "@/lib/checks/report";
import type { Db } from "@/lib/db";
import { createOperation } from "@/lib/domain/operations";
import type { PublicUser } from "@/lib/domain/users";
import { AppError } from "@/lib/errors";

export type HostCheckView = { id: string; ok: boolean; sections: CheckSection[]; createdAt: Date };
export type HostCheckState = {
  report: HostCheckView | null;
  /** A run queued or under way (the page polls while there is one). */
  running: { id: string; status: "queued" | "running"; createdAt: Date } | null;
};

export const HOST_CHECK_JOB_KEY = "platform-check";

function requireInstanceAdmin(user: PublicUser | null): PublicUser {
  if (!user?.isAdmin) throw new AppError("not_found", "Page not found.");
  return user;
}

/** Queues a run of the host checks; a run already waiting is reused. */
export async function requestHostCheck(db: Db, user: PublicUser | null, requestId?: string): Promise<{ id: string }> {
  requireInstanceAdmin(user);
  return await db.$transaction(async (tx) => {
    const waiting = await tx.operation.findFirst({
      where: { kind: "platform.check", teamId: null, status: "queued" },
      orderBy: { createdAt: "desc" },
      select: { id: true },
    });
    if (waiting) return waiting;
    const operation = await createOperation(tx, { kind: "platform.check", ...(requestId ? { requestId } : {}) });
    await enqueue(tx, "platform__check", { operationId: operation.id });
    return { id: operation.id };
  });
}

/** The newest report and the run in progress, if any: two queries whatever the history. */
export async function hostCheckState(db: Db, user: PublicUser | null): Promise<HostCheckState> {
  requireInstanceAdmin(user);
  const [report, running] = await Promise.all([
    db.hostCheckReport.findFirst({ orderBy: { createdAt: "desc" } }),
    db.operation.findFirst({
      where: { kind: "platform.check", teamId: null, status: { in: ["queued", "running"] } },
      orderBy: { createdAt: "desc" },
      select: { id: true, status: true, createdAt: true },
    }),
  ]);
  return {
    report: report
      ? { id: report.id, ok: report.ok, sections: report.sections as CheckSection[], createdAt: report.createdAt }
      : null,
    running:
      running && (running.status === "queued" || running.status === "running")
        ? { id: running.id, status: running.status, createdAt: running.createdAt }
        : null,
  };
}
