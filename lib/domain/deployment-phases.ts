// A deployment's phases (queued, fetching, planning, building, releasing...) with their timings, as stored in
// Deployment.phases and shown to the user.
import { z } from "zod";

export const PHASE_NAMES = ["queued", "fetching", "planning", "building", "releasing"] as const;
export type PhaseName = (typeof PHASE_NAMES)[number];
export type PhaseStatus = "pending" | "running" | "succeeded" | "failed" | "cancelled";
export type Phase = { name: PhaseName; status: PhaseStatus; startedAt: string | null; finishedAt: string | null };

const phaseSchema = z.object({
  name: z.enum(PHASE_NAMES),
  status: z.enum(["pending", "running", "succeeded", "failed", "cancelled"]),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

export function initialPhases(now: Date): Phase[] {
  return PHASE_NAMES.map((name) =>
    name === "queued"
      ? { name, status: "running", startedAt: now.toISOString(), finishedAt: null }
      : { name, status: "pending", startedAt: null, finishedAt: null },
  );
}

export function parsePhases(value: unknown): Phase[] {
  const parsed = z.array(phaseSchema).safeParse(value);
  return parsed.success ? parsed.data : [];
}

/** Finishes whatever is running (successfully) and starts `name`. Restarting a phase (a retried job) resets it. */
export function enterPhase(phases: Phase[], name: PhaseName, now: Date): Phase[] {
  const at = now.toISOString();
  return phases.map((phase) => {
    if (phase.name === name) return { name, status: "running", startedAt: at, finishedAt: null };
    if (phase.status === "running") return { ...phase, status: "succeeded", finishedAt: at };
    return phase;
  });
}

/** Ends the running phase with `status`; later phases stay pending (or become cancelled with the deployment). */
export function endPhases(phases: Phase[], status: "succeeded" | "failed" | "cancelled", now: Date): Phase[] {
  const at = now.toISOString();
  return phases.map((phase) => {
    if (phase.status === "running") return { ...phase, status, finishedAt: at };
    if (status === "cancelled" && phase.status === "pending") return { ...phase, status: "cancelled" };
    return phase;
  });
}
