"use server";

// The Git tab's actions: the same domain functions as the API (PATCH /api/v1/apps/{appId} source.autoDeploy,
// POST/DELETE .../webhook, POST .../deploy-key, POST /api/v1/git-host-keys/{id}/confirm, DELETE
// /api/v1/git-host-keys/{id}, POST/DELETE .../git-token). Each validates its fields with zod; the domain function
// authorizes and scopes by team, so another team's app or key is "not found" like one that does not exist.
import { refresh } from "next/cache";
import { z } from "zod";
import { loadWebhook, type WebhookData } from "@/app/(portal)/teams/[teamId]/apps/[appId]/git/git-data";
import { type ActionState, teamAction, teamCall } from "@/lib/actions";
import { setGitTokenBody } from "@/lib/api/endpoints/git-access";
import { changeApp, getApp } from "@/lib/domain/apps";
import { createOrRotateDeployKey } from "@/lib/domain/deploy-keys";
import { confirmGitHostKey, deleteGitHostKey } from "@/lib/domain/git-host-keys";
import { deleteGitToken, setGitToken } from "@/lib/domain/git-tokens";
import { createOrRotateWebhook, deleteWebhook } from "@/lib/domain/webhooks";
import { AppError } from "@/lib/errors";

const appInput = z.strictObject({ teamId: z.uuid(), appId: z.uuid() });
const hostKeyInput = z.strictObject({ teamId: z.uuid(), hostKeyId: z.uuid() });

export const setAutoDeployAction = teamAction(
  appInput.extend({ enabled: z.enum(["on", "off"]) }),
  async (input, { db, ctx }) => {
    const app = await getApp(db, ctx, input.appId);
    if (app.source?.type !== "git") {
      throw new AppError("invalid", "Set a git repository in the app's settings first.");
    }
    const autoDeploy = input.enabled === "on";
    await changeApp(db, ctx, input.appId, { source: { url: app.source.url, ref: app.source.ref, autoDeploy } });
    refresh();
    return {
      status: "success",
      message: autoDeploy
        ? `Pushes to ${app.source.ref} that reach the webhook now deploy.`
        : "Pushes no longer deploy; deliveries are still recorded.",
    };
  },
);

export type WebhookSecret = { url: string; secret: string; rotated: boolean };

/** Creates the webhook or rotates its secret; the secret is in this answer only (shown once by the form). */
export const createWebhookAction = teamAction<typeof appInput, WebhookSecret>(appInput, async (input, { db, ctx }) => {
  const { webhook, rotated } = await createOrRotateWebhook(db, ctx, input.appId);
  refresh();
  return {
    status: "success",
    message: rotated ? "New secret made: paste it into your forge's webhook." : "Webhook created.",
    data: { url: webhook.url, secret: webhook.secret, rotated },
  };
});

export const deleteWebhookAction = teamAction(appInput, async (input, { db, ctx }) => {
  await deleteWebhook(db, ctx, input.appId);
  refresh();
  return { status: "success", message: "Webhook turned off: its URL refuses every delivery from now on." };
});

export const createDeployKeyAction = teamAction(appInput, async (input, { db, ctx }) => {
  const { rotated } = await createOrRotateDeployKey(db, ctx, input.appId);
  refresh();
  return {
    status: "success",
    message: rotated
      ? "New deploy key made: add it to the repository and remove the old one there."
      : "Deploy key created: add it to the repository as a read-only deploy key.",
  };
});

export const confirmHostKeyAction = teamAction(hostKeyInput, async (input, { db, ctx }) => {
  const key = await confirmGitHostKey(db, ctx, input.hostKeyId);
  refresh();
  return { status: "success", message: `${key.host}'s ${key.keyType} key is trusted for clones.` };
});

export const deleteHostKeyAction = teamAction(hostKeyInput, async (input, { db, ctx }) => {
  await deleteGitHostKey(db, ctx, input.hostKeyId);
  refresh();
  return { status: "success", message: "Host key forgotten; the next clone records the server's keys again." };
});

export const setGitTokenAction = teamAction(
  // The API's own rules for the token and user name; an empty user name is the default.
  appInput.extend({
    username: z.preprocess((value) => (value === "" ? undefined : value), setGitTokenBody.shape.username),
    token: setGitTokenBody.shape.token,
  }),
  async (input, { db, ctx }) => {
    await setGitToken(db, ctx, input.appId, { username: input.username, token: input.token });
    refresh();
    return { status: "success", message: "Token saved. It is never shown again." };
  },
);

export const deleteGitTokenAction = teamAction(appInput, async (input, { db, ctx }) => {
  await deleteGitToken(db, ctx, input.appId);
  refresh();
  return { status: "success", message: "Token removed." };
});

const webhookPoll = teamCall<typeof appInput, WebhookData>(appInput, async (input, { db, ctx }) => {
  return { status: "success", data: await loadWebhook(db, ctx, input.appId) };
});

/** The delivery list polls this while the tab is visible (membership checked on each call). */
export async function pollWebhook(teamId: string, appId: string): Promise<ActionState<WebhookData>> {
  return await webhookPoll({ teamId, appId });
}
