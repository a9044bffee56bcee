// What the deployment page shows and what each poll sends back: the deployment as the domain answers it, with the
// stored plan checked for shape. The plan column is JSON written by the build job; an older or hand-edited row must
// not break the page, so anything unexpected reads as "no plan".
import { z } from "zod";
import type { DeploymentView } from "@/lib/domain/deployments";

const planShape = z.object({
  builder: z.string(),
  installer: z.string(),
  pythonVersion: z.string(),
  processes: z.record(z.string(), z.string()),
  release: z.string().nullable(),
  reasons: z.array(z.string()),
});

export type PlanView = z.infer<typeof planShape>;

export type DeploymentSnapshot = Omit<DeploymentView, "plan"> & { plan: PlanView | null };

export type LogChunk = { text: string; nextOffset: number; complete: boolean };

export type DeploymentPoll = { deployment: DeploymentSnapshot; log: LogChunk };

export function parsePlan(value: unknown): PlanView | null {
  const parsed = planShape.safeParse(value);
  return parsed.success ? parsed.data : null;
}

export function deploymentSnapshot(view: DeploymentView): DeploymentSnapshot {
  return { ...view, plan: parsePlan(view.plan) };
}
