"use server";

import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { type ActionState, teamAction, teamCall } from "@/lib/actions";
import { type AppLogFilter, type AppLogLine, MAX_SEARCH_CHARS } from "@/lib/app-log-file";
import { APP_LOG_MAX_TAIL, downloadAppLogs, readAppLogs } from "@/lib/domain/app-logs";
import { getApp } from "@/lib/domain/apps";
import { createDeployment } from "@/lib/domain/deployments";
import {
  type AppRuntimeView,
  getAppRuntime,
  MAX_REPLICAS,
  restartApp,
  rollbackApp,
  scaleApp,
  startApp,
  stopApp,
} from "@/lib/domain/lifecycle";
import { lineText } from "@/lib/domain/text";
import { createUpload } from "@/lib/domain/uploads";
import { AppError } from "@/lib/errors";

const appInput = z.strictObject({ teamId: z.uuid(), appId: z.uuid() });

/**
 * To the new deployment's page. The app's layout (its status in the header) is shared with the page the form was on,
 * so the client would keep it as it was: revalidating it makes the redirect bring the "deploying" status along.
 */
function goToDeployment(teamId: string, appId: string, deploymentId: string): never {
  revalidatePath(`/teams/${teamId}/apps/${appId}`, "layout");
  redirect(`/teams/${teamId}/apps/${appId}/deployments/${deploymentId}`);
}

/**
 * Uploads the chosen tarball and deploys it. teamAction sees form fields as strings (a file as its name), so the
 * File itself is taken from the FormData here and handed to the run as a closure.
 */
export async function deployUploadAction(previous: ActionState, formData: FormData): Promise<ActionState> {
  const file = formData.get("file");
  const run = teamAction(appInput.extend({ file: z.string().max(1000).optional() }), async (input, { db, ctx }) => {
    if (!(file instanceof File) || file.size === 0) {
      const message = "Choose a .tar.gz file to upload.";
      throw new AppError("invalid", message, { details: [{ path: "file", message }] });
    }
    // The app first: an upload for an app that is not there (or not this team's) would only wait to expire.
    await getApp(db, ctx, input.appId);
    const body = Readable.fromWeb(file.stream() as NodeReadableStream<Uint8Array>);
    const upload = await createUpload(db, ctx, body, { declaredBytes: file.size });
    const { deployment } = await createDeployment(db, ctx, input.appId, { type: "upload", uploadId: upload.id });
    goToDeployment(ctx.teamId, input.appId, deployment.id);
  });
  return await run(previous, formData);
}

export const deployGitAction = teamAction(appInput, async (input, { db, ctx }) => {
  const { deployment } = await createDeployment(db, ctx, input.appId, { type: "git" });
  goToDeployment(ctx.teamId, input.appId, deployment.id);
});

// ---------------------------------------------------------------------------------------------------------------
// Lifecycle: the same domain functions as POST /api/v1/apps/{appId}/actions/*. Each queues an operation and returns;
// the app page polls (pollAppRuntime) until the worker is done.

function lifecycleDone(teamId: string, appId: string, message: string): ActionState {
  revalidatePath(`/teams/${teamId}/apps/${appId}`, "layout");
  return { status: "success", message };
}

export const startAppAction = teamAction(appInput, async (input, { db, ctx }) => {
  await startApp(db, ctx, input.appId);
  return lifecycleDone(ctx.teamId, input.appId, "Starting: new containers come up, then traffic goes to them.");
});

export const stopAppAction = teamAction(appInput, async (input, { db, ctx }) => {
  await stopApp(db, ctx, input.appId);
  return lifecycleDone(ctx.teamId, input.appId, "Stopping: its address answers 503 until it is started again.");
});

export const restartAppAction = teamAction(appInput, async (input, { db, ctx }) => {
  await restartApp(db, ctx, input.appId);
  return lifecycleDone(ctx.teamId, input.appId, "Restarting with fresh containers, without downtime.");
});

const scaleFormInput = appInput.extend({ replicas: z.coerce.number().int().min(0).max(MAX_REPLICAS) });

export const scaleAppAction = teamAction(scaleFormInput, async (input, { db, ctx }) => {
  const { app } = await scaleApp(db, ctx, input.appId, { replicas: input.replicas });
  return lifecycleDone(ctx.teamId, input.appId, `Scaling to ${app.replicas} replica${app.replicas === 1 ? "" : "s"}.`);
});

export const rollbackAppAction = teamAction(appInput.extend({ deploymentId: z.uuid() }), async (input, { db, ctx }) => {
  await rollbackApp(db, ctx, input.appId, { deploymentId: input.deploymentId });
  return lifecycleDone(ctx.teamId, input.appId, "Rolling back: that image is released again, nothing is rebuilt.");
});

const runtimePoll = teamCall<typeof appInput, AppRuntimeView>(appInput, async (input, { db, ctx }) => {
  return { status: "success", data: await getAppRuntime(db, ctx, input.appId) };
});

/** The app page's live part calls this every ~2 s while something is under way (membership checked each time). */
export async function pollAppRuntime(teamId: string, appId: string): Promise<ActionState<AppRuntimeView>> {
  return await runtimePoll({ teamId, appId });
}

const logTime = z
  .string()
  .max(64)
  .refine((value) => !Number.isNaN(Date.parse(value)), "must be a time")
  .optional();

/** The Logs tab's filters (#17): process type, replica, plain-text search and a time range. */
const logFilter = z.strictObject({
  process: z
    .string()
    .max(30)
    .regex(/^[a-z]([a-z0-9-]*[a-z0-9])?$/)
    .optional(),
  replica: z.number().int().min(0).max(MAX_REPLICAS).optional(),
  q: lineText().max(MAX_SEARCH_CHARS).optional(),
  from: logTime,
  until: logTime,
});
export type LogFilterInput = z.input<typeof logFilter>;

function filterOf(filter: z.output<typeof logFilter> | undefined): AppLogFilter {
  return {
    process: filter?.process,
    replica: filter?.replica,
    q: filter?.q || undefined,
    until: filter?.until ? new Date(filter.until) : undefined,
  };
}

const logsInput = appInput.extend({
  tail: z.coerce.number().int().min(1).max(APP_LOG_MAX_TAIL),
  // A line's own timestamp as the previous poll returned it (RFC 3339, podman's precision).
  since: logTime,
  filter: logFilter.optional(),
});

const logsPoll = teamCall<typeof logsInput, { lines: AppLogLine[] }>(logsInput, async (input, { db, ctx }) => {
  // The later of the poll's position and the filter's start.
  const times = [input.since, input.filter?.from]
    .filter((value) => value !== undefined)
    .map((value) => Date.parse(value));
  const since = times.length > 0 ? new Date(Math.max(...times)) : undefined;
  return {
    status: "success",
    data: await readAppLogs(db, ctx, input.appId, { tail: input.tail, since, ...filterOf(input.filter) }),
  };
});

const downloadInput = appInput.extend({ filter: logFilter });

const logsDownload = teamCall<typeof downloadInput, { text: string }>(downloadInput, async (input, { db, ctx }) => {
  const since = input.filter.from ? new Date(input.filter.from) : undefined;
  const text = await downloadAppLogs(db, ctx, input.appId, { since, ...filterOf(input.filter) });
  return { status: "success", data: { text } };
});

/** The Logs tab's download: the kept lines matching the filters, as text (no podman: the collected file only). */
export async function downloadFilteredLogs(
  teamId: string,
  appId: string,
  filter: LogFilterInput,
): Promise<ActionState<{ text: string }>> {
  return await logsDownload({ teamId, appId, filter });
}

/**
 * The Logs tab polls this: the newest `tail` lines, or those from `since` on. Reading never runs podman; it asks the
 * worker to collect new lines for the next poll (lib/domain/app-logs.ts), like GET /api/v1/apps/{appId}/logs.
 */
export async function pollAppLogs(
  teamId: string,
  appId: string,
  query: { tail: number; since?: string; filter?: LogFilterInput },
): Promise<ActionState<{ lines: AppLogLine[] }>> {
  return await logsPoll({
    teamId,
    appId,
    tail: query.tail,
    ...(query.since ? { since: query.since } : {}),
    ...(query.filter ? { filter: query.filter } : {}),
  });
}
