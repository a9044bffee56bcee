// What a task is: its catalog entry (jobs/catalog.ts: name, payload schema, attempt budget, queue), the work, and
// what to tell the user when the budget is spent. The entry lives apart so the web side can enqueue without loading
// this handler code; a task file joins the two: `defineTask(catalog.deployment__build, { run, onGiveUp })`.
import type { Logger } from "pino";
import type { z } from "zod";
import type { CatalogEntry } from "@/jobs/catalog";
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

export type TaskHandlers<Schema extends z.ZodType = z.ZodType> = {
  run(payload: z.output<Schema>, ctx: TaskContext): Promise<void>;
  /**
   * Called when the last attempt failed, with a reason a user can read. Tasks driving an Operation mark it failed
   * here, so nobody polls a job that will never finish.
   */
  onGiveUp?(payload: z.output<Schema>, reason: string, ctx: TaskContext): Promise<void>;
};

export type TaskDefinition<Name extends string = string, Schema extends z.ZodType = z.ZodType> = CatalogEntry<
  Name,
  Schema
> &
  TaskHandlers<Schema>;

export function defineTask<const Name extends string, Schema extends z.ZodType>(
  entry: CatalogEntry<Name, Schema>,
  handlers: TaskHandlers<Schema>,
): TaskDefinition<Name, Schema> {
  return { ...entry, ...handlers };
}
