"use server";

// The Runs tab's actions: the same domain functions as the API (POST /api/v1/apps/{appId}/runs, GET /api/v1/runs/{id}
// and .../logs, POST .../cancel). Each validates its arguments with zod; the domain function authorizes (runs need
// the member role) and scopes by team, so another team's run is "not found" like one that does not exist.
import { redirect } from "next/navigation";
import { z } from "zod";
import {
  type AppRuns,
  loadAppRuns,
  loadRun,
  type RunItem,
} from "@/app/(portal)/teams/[teamId]/apps/[appId]/runs/runs-data";
import { type ActionState, teamAction, teamCall } from "@/lib/actions";
import { MAX_COMMAND_LENGTH } from "@/lib/domain/cron";
import type { LogChunk } from "@/lib/domain/log-chunk";
import { cancelRun, createRun, readRunLog } from "@/lib/domain/runs";
import { AppError, isAppError } from "@/lib/errors";

const appInput = z.strictObject({ teamId: z.uuid(), appId: z.uuid() });
const runInput = z.strictObject({ teamId: z.uuid(), runId: z.uuid() });

/** The domain checks the command as a bare string, so its issues have an empty path: they belong to the command. */
function onCommandField(error: unknown): unknown {
  if (!isAppError(error) || error.code !== "invalid" || !Array.isArray(error.details)) return error;
  const details = (error.details as { path?: string; message?: string }[]).map((detail) =>
    detail.path ? detail : { ...detail, path: "command" },
  );
  return new AppError("invalid", error.message, { details });
}

export const createRunAction = teamAction(
  appInput.extend({
    // Bounds only stop oversized input early; the command's rules are the domain's (one wording).
    command: z.string().max(MAX_COMMAND_LENGTH + 64, `A command has at most ${MAX_COMMAND_LENGTH} characters.`),
    timeoutSeconds: z
      .string()
      .trim()
      .regex(/^\d{0,6}$/, "A whole number of seconds.")
      .optional(),
  }),
  async (input, { db, ctx }) => {
    const timeout = input.timeoutSeconds ? Number(input.timeoutSeconds) : undefined;
    const { run } = await createRun(db, ctx, input.appId, { command: input.command, timeoutSeconds: timeout }).catch(
      (error: unknown) => {
        throw onCommandField(error);
      },
    );
    redirect(`/teams/${ctx.teamId}/apps/${input.appId}/runs/${run.id}`);
  },
);

export const cancelRunAction = teamAction(runInput, async (input, { db, ctx }) => {
  const run = await cancelRun(db, ctx, input.runId);
  return {
    status: "success",
    message: run.status === "cancelled" ? "Cancelled." : "Stopping the run…",
  };
});

const runsPoll = teamCall<typeof appInput, AppRuns>(appInput, async (input, { db, ctx }) => {
  return { status: "success", data: await loadAppRuns(db, ctx, input.appId) };
});

/** The runs list polls this while a run is queued or running (membership checked on each call). */
export async function pollAppRuns(teamId: string, appId: string): Promise<ActionState<AppRuns>> {
  return await runsPoll({ teamId, appId });
}

export type RunProgress = { run: RunItem; chunk: LogChunk };

const progressInput = runInput.extend({
  appId: z.uuid(),
  offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

const runPoll = teamCall<typeof progressInput, RunProgress>(progressInput, async (input, { db, ctx }) => {
  // The output first, then the status: a complete chunk then always comes with the final status, never a stale
  // "running" the page would stop polling on. Both are team-scoped; another app's run answers nothing.
  const chunk = await readRunLog(db, ctx, input.runId, { offset: input.offset });
  const run = await loadRun(db, ctx, input.runId);
  if (run.appId !== input.appId) throw new AppError("not_found", "Run not found.");
  return { status: "success", data: { run, chunk } };
});

/** The run page follows the output from `offset` (bytes already shown) and the run's status. */
export async function pollRun(
  teamId: string,
  appId: string,
  runId: string,
  offset: number,
): Promise<ActionState<RunProgress>> {
  return await runPoll({ teamId, appId, runId, offset });
}
