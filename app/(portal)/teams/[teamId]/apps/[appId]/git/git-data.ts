// What the Git tab shows: the webhook and its newest deliveries, the deploy key, the pinned host keys and whether a
// read token is set. One query each whatever the number of deliveries or keys (the lists are bounded by the domain).
import type { Db } from "@/lib/db";
import type { Ctx } from "@/lib/domain/context";
import { type DeployKeyView, getDeployKey } from "@/lib/domain/deploy-keys";
import { type GitHostKeyView, listGitHostKeys } from "@/lib/domain/git-host-keys";
import { type GitTokenView, getGitToken } from "@/lib/domain/git-tokens";
import { type DeliveryView, getWebhook, type WebhookView } from "@/lib/domain/webhooks";
import { isAppError } from "@/lib/errors";

export type WebhookData = { webhook: WebhookView | null; deliveries: DeliveryView[] };

export type AppGit = WebhookData & {
  deployKey: DeployKeyView | null;
  hostKeys: GitHostKeyView[];
  gitToken: GitTokenView | null;
};

/** "None yet" reads as null; any other error (the app itself not found, forbidden) goes on. */
async function orNull<T>(read: Promise<T>): Promise<T | null> {
  try {
    return await read;
  } catch (error) {
    if (isAppError(error) && error.code === "not_found") return null;
    throw error;
  }
}

/** The webhook part alone: what the delivery list polls. */
export async function loadWebhook(db: Db, ctx: Ctx, appId: string): Promise<WebhookData> {
  const found = await orNull(getWebhook(db, ctx, appId));
  return found ?? { webhook: null, deliveries: [] };
}

export async function loadAppGit(db: Db, ctx: Ctx, appId: string): Promise<AppGit> {
  // The host key list goes first and unguarded: it is the one that says "App not found" for a missing app.
  const hostKeys = await listGitHostKeys(db, ctx, appId);
  const [webhook, deployKey, gitToken] = await Promise.all([
    loadWebhook(db, ctx, appId),
    orNull(getDeployKey(db, ctx, appId)),
    getGitToken(db, ctx, appId),
  ]);
  return { ...webhook, deployKey, hostKeys, gitToken };
}
