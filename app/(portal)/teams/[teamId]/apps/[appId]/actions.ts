"use server";

import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { type ActionState, teamAction } from "@/lib/actions";
import { getApp } from "@/lib/domain/apps";
import { createDeployment } from "@/lib/domain/deployments";
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
