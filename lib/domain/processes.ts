// Process types (issue #15): how many containers each type of an app should run, and what the API shows of them.
// web's count is App.replicas (the API's `replicas` keeps meaning web); the other types' counts are App.processes,
// and a type of the release that was never scaled runs one container, as a Procfile worker is expected to run.
import { z } from "zod";
import type { Db } from "@/lib/db";
import type { App, ReplicaStatus } from "@/lib/generated/prisma/client";

export const MAX_PROCESS_COUNT = 20;
/** How many lines of a crashed container's output are kept and shown. */
export const CRASH_LOG_LINES = 50;

const storedCounts = z.record(z.string(), z.number().int().min(0).max(MAX_PROCESS_COUNT));

/** App.processes read defensively (old or hand-edited rows): only well-formed counts. */
export function storedProcessCounts(value: unknown): Record<string, number> {
  const parsed = storedCounts.safeParse(value);
  return parsed.success ? parsed.data : {};
}

/** Before the first release an app is assumed to be a web app (as it always was). */
export function processTypesOf(app: Pick<App, "processTypes">): string[] {
  return app.processTypes.length > 0 ? app.processTypes : ["web"];
}

/** Desired containers per type, for the given types (the release's): web from replicas, others scaled or 1. */
export function desiredCounts(
  app: Pick<App, "replicas" | "processes">,
  types: readonly string[],
): Record<string, number> {
  const counts = storedProcessCounts(app.processes);
  return Object.fromEntries(types.map((type) => [type, type === "web" ? app.replicas : (counts[type] ?? 1)]));
}

/** Whether the app has an address: not when its current release has types but no web among them. */
export function hasWeb(app: Pick<App, "processTypes">): boolean {
  return processTypesOf(app).includes("web");
}

export type ProcessView = {
  desired: number;
  running: number;
  crashed: number;
  lastCrash: { exitCode: number | null; at: Date; logTail: string } | null;
};

type ReplicaSummary = {
  appId: string;
  process: string;
  status: ReplicaStatus;
  lastExitCode: number | null;
  lastExitAt: Date | null;
  lastExitLog: string | null;
};

/** Replicas of these apps that say something about their processes: one query whatever the number of apps. */
export async function replicaSummaries(db: Db, appIds: string[]): Promise<Map<string, ReplicaSummary[]>> {
  const rows =
    appIds.length === 0
      ? []
      : await db.replica.findMany({
          where: { appId: { in: appIds }, status: { in: ["healthy", "crashed"] } },
          select: {
            appId: true,
            process: true,
            status: true,
            lastExitCode: true,
            lastExitAt: true,
            lastExitLog: true,
          },
          orderBy: [{ appId: "asc" }, { process: "asc" }, { index: "asc" }],
        });
  const byApp = new Map<string, ReplicaSummary[]>();
  for (const row of rows) byApp.set(row.appId, [...(byApp.get(row.appId) ?? []), row]);
  return byApp;
}

export function processesView(
  app: Pick<App, "status" | "replicas" | "processes" | "processTypes">,
  rows: readonly ReplicaSummary[],
): Record<string, ProcessView> {
  const desired = desiredCounts(app, processTypesOf(app));
  const view: Record<string, ProcessView> = {};
  for (const [type, count] of Object.entries(desired)) {
    const own = rows.filter((row) => row.process === type);
    let lastCrash: ProcessView["lastCrash"] = null;
    for (const row of own) {
      if (row.lastExitAt === null) continue;
      if (lastCrash === null || row.lastExitAt > lastCrash.at) {
        lastCrash = { exitCode: row.lastExitCode, at: row.lastExitAt, logTail: row.lastExitLog ?? "" };
      }
    }
    view[type] = {
      desired: count,
      running: app.status === "running" ? own.filter((row) => row.status === "healthy").length : 0,
      crashed: own.filter((row) => row.status === "crashed").length,
      lastCrash,
    };
  }
  return view;
}

const planProcesses = z.object({ builder: z.string().optional(), processes: z.record(z.string(), z.string()) }).loose();

/**
 * The process types a deployment's plan runs, web first. A plan without processes (written before #15, or by tests)
 * and a Containerfile build without a web line run web (the image's CMD); a Python plan runs exactly its processes.
 */
export function planProcessTypes(plan: unknown): string[] {
  const parsed = planProcesses.safeParse(plan);
  if (!parsed.success) return ["web"];
  const others = Object.keys(parsed.data.processes).filter((type) => type !== "web");
  const web = parsed.data.processes.web !== undefined || parsed.data.builder !== "python";
  return web ? ["web", ...others] : others;
}

/** The command of a non-web process type in a deployment's plan (web runs the image's CMD). */
export function planProcessCommand(plan: unknown, type: string): string | null {
  const parsed = planProcesses.safeParse(plan);
  return parsed.success ? (parsed.data.processes[type] ?? null) : null;
}
