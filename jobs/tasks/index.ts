// The task registry: one entry per file in jobs/tasks, keyed by its name (a test keeps the two in step).
import { appDelete } from "@/jobs/tasks/app__delete";
import { deploymentBuild } from "@/jobs/tasks/deployment__build";
import { emailSend } from "@/jobs/tasks/email__send";
import { platformPing } from "@/jobs/tasks/platform__ping";
import { platformPrune } from "@/jobs/tasks/platform__prune";
import { teamDelete } from "@/jobs/tasks/team__delete";

export const tasks = {
  [appDelete.name]: appDelete,
  [deploymentBuild.name]: deploymentBuild,
  [emailSend.name]: emailSend,
  [platformPing.name]: platformPing,
  [platformPrune.name]: platformPrune,
  [teamDelete.name]: teamDelete,
} as const;

export type Tasks = typeof tasks;
export type TaskName = keyof Tasks;
