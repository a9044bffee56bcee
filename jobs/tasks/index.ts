// The task registry: one entry per file in jobs/tasks, keyed by its name (a test keeps the two in step).
import { platformPing } from "@/jobs/tasks/platform__ping";
import { platformPrune } from "@/jobs/tasks/platform__prune";

export const tasks = {
  [platformPing.name]: platformPing,
  [platformPrune.name]: platformPrune,
} as const;

export type Tasks = typeof tasks;
export type TaskName = keyof Tasks;
