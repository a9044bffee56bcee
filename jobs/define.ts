// What a task is: a name (`entity__verb`), a zod schema for its payload, an explicit attempt budget, the work, and
// what to tell the user when the budget is spent.
import type { Logger } from "pino";
import type { z } from "zod";
import type { Db } from "@/lib/db";

export type TaskContext = {
  db: Db;
  log: Logger;
  jobId: string;
  /** 1 on the first run. */
  attempt: number;
  maxAttempts: number;
  workerId: string;
};

export type TaskDefinition<Name extends string = string, Schema extends z.ZodType = z.ZodType> = {
  name: Name;
  payload: Schema;
  /** Explicit on every task: graphile-worker retries with exponential backoff until this many attempts. */
  maxAttempts: number;
  /** Jobs in one queue run one at a time (e.g. every Caddy write). */
  queue?: string;
  run(payload: z.output<Schema>, ctx: TaskContext): Promise<void>;
  /**
   * Called when the last attempt failed, with a reason a user can read. Tasks driving an Operation mark it failed
   * here, so nobody polls a job that will never finish.
   */
  onGiveUp?(payload: z.output<Schema>, reason: string, ctx: TaskContext): Promise<void>;
};

export function defineTask<const Name extends string, Schema extends z.ZodType>(
  definition: TaskDefinition<Name, Schema>,
): TaskDefinition<Name, Schema> {
  if (!/^[a-z][a-z0-9_]*__[a-z][a-z0-9_]*$/.test(definition.name)) {
    throw new Error(`task name ${definition.name} must look like entity__verb`);
  }
  if (!Number.isInteger(definition.maxAttempts) || definition.maxAttempts < 1) {
    throw new Error(`task ${definition.name} needs an explicit maxAttempts >= 1`);
  }
  return definition;
}
