// Deployments: a build of an app's source into an image, then (with the release pipeline) a running release.
import { enqueue } from "@/jobs/enqueue";
import { validateGitRef, validateGitUrl } from "@/lib/build/source-git/url-policy";
import { deploymentLogPath } from "@/lib/data-paths";
import type { Db, Tx } from "@/lib/db";
import { recordAudit } from "@/lib/domain/audit";
import { actorUserId, authorize, type Ctx } from "@/lib/domain/context";
import { initialPhases, type Phase, parsePhases } from "@/lib/domain/deployment-phases";
import { readLogChunk } from "@/lib/domain/log-chunk";
import { createOperation } from "@/lib/domain/operations";
import { afterCursor, type Page, type PageInput, toPage } from "@/lib/domain/pagination";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import type { App, Deployment, Operation } from "@/lib/generated/prisma/client";

export const TERMINAL_STATUSES = ["running", "failed", "superseded", "cancelled"] as const;
const ACTIVE_STATUSES = ["queued", "building"] as const;

export type DeploymentSourceInput = { type: "git"; url?: string; ref?: string } | { type: "upload"; uploadId: string };

export type DeploymentView = {
  id: string;
  appId: string;
  number: number;
  status: Deployment["status"];
  source:
    | {
        type: "git";
        url: string | null;
        ref: string | null;
        commitSha: string | null;
        commitMessage: string | null;
        commitAuthor: string | null;
        commitUrl: string | null;
      }
    | { type: "upload"; commitSha: null };
  trigger: DeploymentTriggerName;
  /** The deployment this one deploys again. */
  redeployOfId: string | null;
  /** The newer deployment that cancelled this one while it was queued or building. */
  supersededById: string | null;
  plan: unknown;
  imageBuilt: boolean;
  /** Its image was removed to save space (TUSSILAGO_KEEP_IMAGES): it can no longer be rolled back to. */
  imagePruned: boolean;
  phases: Phase[];
  error: string | null;
  /** Whose a failure is to fix: the tenant's (source, plan, build step, crash) or the operator's (the host). */
  failureSide: Deployment["failureSide"];
  cancelRequested: boolean;
  createdAt: Date;
  finishedAt: Date | null;
};

// Forges whose commit pages live at <repository>/commit/<sha> (GitLab's /-/commit/ also answers /commit/).
const KNOWN_FORGES = new Set(["github.com", "gitlab.com", "codeberg.org"]);

/**
 * A link to the commit's page: on a known forge from the clone URL, else from the repository page a push delivery
 * named (validated https when stored). Null when neither is known.
 */
export function commitUrl(
  row: Pick<Deployment, "gitUrl" | "commitSha" | "repositoryUrl" | "sourceType">,
): string | null {
  if (row.sourceType !== "git" || !row.commitSha) return null;
  let base: string | null = row.repositoryUrl;
  if (row.gitUrl) {
    try {
      const url = new URL(row.gitUrl);
      if (url.protocol === "https:" && KNOWN_FORGES.has(url.hostname)) {
        base = `https://${url.hostname}${url.pathname.replace(/\.git$/, "").replace(/\/+$/, "")}`;
      }
    } catch {
      // A stored URL is always valid; nothing to link otherwise.
    }
  }
  return base ? `${base}/commit/${row.commitSha}` : null;
}

export function deploymentView(row: Deployment): DeploymentView {
  return {
    id: row.id,
    appId: row.appId,
    number: row.number,
    status: row.status,
    source:
      row.sourceType === "git"
        ? {
            type: "git",
            url: row.gitUrl,
            ref: row.gitRef,
            commitSha: row.commitSha,
            commitMessage: row.commitMessage,
            commitAuthor: row.commitAuthor,
            commitUrl: commitUrl(row),
          }
        : { type: "upload", commitSha: null },
    trigger: row.trigger,
    redeployOfId: row.redeployOfId,
    supersededById: row.supersededById,
    plan: row.plan,
    imageBuilt: row.imageRef !== null,
    imagePruned: row.imagePrunedAt !== null,
    phases: parsePhases(row.phases),
    error: row.error,
    failureSide: row.failureSide,
    cancelRequested: row.cancelRequestedAt !== null,
    createdAt: row.createdAt,
    finishedAt: row.finishedAt,
  };
}

function invalidSource(message: string): AppError {
  return new AppError("invalid", message, { details: [{ path: "source", message }] });
}

export type DeploymentTriggerName = Deployment["trigger"];

type SourceFields = {
  sourceType: "git" | "upload";
  gitUrl?: string | null;
  gitRef?: string | null;
  uploadId?: string | null;
};

/** What a deployment is pinned to and why it exists, beyond its source (a push, a redeploy). */
export type DeploymentOrigin = {
  trigger: DeploymentTriggerName;
  /** A full commit SHA, already validated: the build fetches exactly this commit. */
  commitSha?: string | null;
  commitMessage?: string | null;
  commitAuthor?: string | null;
  repositoryUrl?: string | null;
  redeployOfId?: string | null;
};

/**
 * Writes a deployment with its operation and build job on the caller's transaction, which must hold the app row
 * locked (numbers are allocated one at a time per app). Deployments of the app still queued or building are
 * superseded: they are asked to cancel and point at this one, so many pushes in a row end on the newest commit.
 */
export async function queueDeployment(
  tx: Tx,
  input: {
    app: { id: string; teamId: string; status: App["status"] };
    source: SourceFields;
    origin: DeploymentOrigin;
    createdBy: string | null;
    requestId?: string;
  },
): Promise<{ deployment: Deployment; operation: Operation; superseded: number }> {
  const { app } = input;
  const last = await tx.deployment.findFirst({
    where: { appId: app.id },
    orderBy: { number: "desc" },
    select: { number: true },
  });
  const now = new Date();
  const deployment = await tx.deployment.create({
    data: {
      appId: app.id,
      teamId: app.teamId,
      number: (last?.number ?? 0) + 1,
      ...input.source,
      trigger: input.origin.trigger,
      commitSha: input.origin.commitSha ?? null,
      commitMessage: input.origin.commitMessage ?? null,
      commitAuthor: input.origin.commitAuthor ?? null,
      repositoryUrl: input.origin.repositoryUrl ?? null,
      redeployOfId: input.origin.redeployOfId ?? null,
      phases: initialPhases(now),
      createdBy: input.createdBy,
    },
  });
  // The newest deployment is what the user wants: older ones still waiting or building are cancelled, and say by
  // which (the build reads supersededById for its reason).
  const { count: superseded } = await tx.deployment.updateMany({
    where: {
      appId: app.id,
      id: { not: deployment.id },
      status: { in: [...ACTIVE_STATUSES] },
      cancelRequestedAt: null,
    },
    data: { cancelRequestedAt: now, supersededById: deployment.id },
  });
  const operation = await createOperation(tx, {
    kind: "app.deploy",
    teamId: app.teamId,
    target: { type: "deployment", id: deployment.id },
    requestId: input.requestId,
  });
  await tx.deployment.update({ where: { id: deployment.id }, data: { operationId: operation.id } });
  await tx.app.update({ where: { id: app.id }, data: { status: app.status === "running" ? "running" : "deploying" } });
  await enqueue(
    tx,
    "deployment__build",
    { deploymentId: deployment.id, operationId: operation.id },
    { jobKey: `deployment:${deployment.id}` },
  );
  return { deployment: { ...deployment, operationId: operation.id }, operation, superseded };
}

/**
 * An SSH repository URL is accepted only once the app has a deploy key (the clone authenticates with it); checked
 * here, where the deployment is asked for, so the refusal is a 422 rather than a failed build.
 */
async function requireDeployKeyForSsh(tx: Tx, appId: string, gitUrl: string): Promise<void> {
  if (!gitUrl.startsWith("ssh:")) return;
  const key = await tx.deployKey.findUnique({ where: { appId }, select: { id: true } });
  if (!key) {
    throw invalidSource(
      "An SSH repository URL needs the app's deploy key: create one (POST /api/v1/apps/{appId}/deploy-key) and add " +
        "its public key to the repository, or use the repository's https:// URL.",
    );
  }
}

/** Locks the caller's team's app row (deployment numbers are allocated one at a time per app). */
async function lockApp(tx: Tx, ctx: Ctx, appId: string): Promise<App> {
  const [locked] = await tx.$queryRaw<{ id: string }[]>`
    SELECT id FROM "App" WHERE id = ${appId}::uuid AND "teamId" = ${ctx.teamId}::uuid FOR UPDATE`;
  if (!locked) throw new AppError("not_found", "App not found.");
  const app = await tx.app.findUniqueOrThrow({ where: { id: appId } });
  if (app.status === "deleting") throw new AppError("conflict", "This app is being deleted.");
  return app;
}

function triggerOf(ctx: Ctx): DeploymentTriggerName {
  return ctx.actor.type === "token" ? "api" : "manual";
}

export async function createDeployment(
  db: Db,
  ctx: Ctx,
  appId: string,
  source: DeploymentSourceInput | undefined,
): Promise<{ deployment: DeploymentView; operation: Operation }> {
  authorize(ctx, "deployments:create");
  return await db.$transaction(async (tx) => {
    const app = await lockApp(tx, ctx, appId);

    let sourceFields: SourceFields;
    const wanted = source ?? (app.sourceType === "git" ? { type: "git" as const } : undefined);
    if (!wanted) throw invalidSource("This app has no git source: give one, or upload a tarball.");
    if (wanted.type === "git") {
      const url = wanted.url ?? app.gitUrl;
      const ref = wanted.ref ?? app.gitRef ?? "main";
      if (!url) throw invalidSource("This app has no git URL: give one.");
      try {
        sourceFields = {
          sourceType: "git",
          gitUrl: validateGitUrl(url, { allowPrivateHosts: getEnv().infra.gitAllowPrivateHosts }).toString(),
          gitRef: validateGitRef(ref),
        };
      } catch (error) {
        throw invalidSource(error instanceof Error ? error.message : "Invalid git source.");
      }
      await requireDeployKeyForSsh(tx, appId, sourceFields.gitUrl ?? "");
    } else {
      const upload = await tx.upload.findFirst({ where: { id: wanted.uploadId, teamId: ctx.teamId } });
      if (!upload) throw new AppError("not_found", "Upload not found.");
      if (upload.expiresAt <= new Date()) throw invalidSource("This upload has expired; upload the tarball again.");
      sourceFields = { sourceType: "upload", uploadId: upload.id };
    }

    const { deployment, operation } = await queueDeployment(tx, {
      app,
      source: sourceFields,
      origin: { trigger: triggerOf(ctx) },
      createdBy: actorUserId(ctx),
      requestId: ctx.meta.requestId,
    });
    await recordAudit(tx, ctx, {
      action: "deployment.created",
      target: { type: "deployment", id: deployment.id },
      metadata: { appId, number: deployment.number, source: sourceFields.sourceType },
    });
    return { deployment: deploymentView(deployment), operation };
  });
}

/**
 * Deploys a finished deployment's source again: the same commit of the same repository (pinned, so a branch that
 * moved on does not change what is built), or the same upload while it is kept (409 once it is gone).
 */
export async function redeployDeployment(
  db: Db,
  ctx: Ctx,
  deploymentId: string,
): Promise<{ deployment: DeploymentView; operation: Operation }> {
  authorize(ctx, "deployments:create");
  return await db.$transaction(async (tx) => {
    const original = await tx.deployment.findFirst({ where: { id: deploymentId, teamId: ctx.teamId } });
    if (!original) throw new AppError("not_found", "Deployment not found.");
    const app = await lockApp(tx, ctx, original.appId);
    let sourceFields: SourceFields;
    const origin: DeploymentOrigin = { trigger: "redeploy", redeployOfId: original.id };
    if (original.sourceType === "git") {
      if (!original.gitUrl) throw new AppError("conflict", "This deployment has no repository to deploy again.");
      sourceFields = { sourceType: "git", gitUrl: original.gitUrl, gitRef: original.gitRef };
      // Not built yet (cancelled while queued): no commit was ever checked out, so the ref is fetched again.
      if (original.commitSha) {
        Object.assign(origin, {
          commitSha: original.commitSha,
          commitMessage: original.commitMessage,
          commitAuthor: original.commitAuthor,
          repositoryUrl: original.repositoryUrl,
        });
      }
    } else {
      const upload = original.uploadId
        ? await tx.upload.findFirst({ where: { id: original.uploadId, teamId: ctx.teamId } })
        : null;
      if (!upload || upload.expiresAt <= new Date()) {
        throw new AppError("conflict", "The uploaded tarball of this deployment is no longer kept; upload it again.");
      }
      sourceFields = { sourceType: "upload", uploadId: upload.id };
    }
    const { deployment, operation } = await queueDeployment(tx, {
      app,
      source: sourceFields,
      origin,
      createdBy: actorUserId(ctx),
      requestId: ctx.meta.requestId,
    });
    await recordAudit(tx, ctx, {
      action: "deployment.redeployed",
      target: { type: "deployment", id: deployment.id },
      metadata: { appId: app.id, number: deployment.number, redeployOf: original.number },
    });
    return { deployment: deploymentView(deployment), operation };
  });
}

export async function getDeploymentOrThrow(db: Db, ctx: Ctx, deploymentId: string): Promise<Deployment> {
  const deployment = await db.deployment.findFirst({ where: { id: deploymentId, teamId: ctx.teamId } });
  if (!deployment) throw new AppError("not_found", "Deployment not found.");
  return deployment;
}

export async function getDeployment(db: Db, ctx: Ctx, deploymentId: string): Promise<DeploymentView> {
  authorize(ctx, "apps:read");
  return deploymentView(await getDeploymentOrThrow(db, ctx, deploymentId));
}

export async function listDeployments(db: Db, ctx: Ctx, appId: string, page: PageInput): Promise<Page<DeploymentView>> {
  authorize(ctx, "apps:read");
  const app = await db.app.findFirst({
    where: { id: appId, teamId: ctx.teamId },
    select: {
      deployments: {
        where: afterCursor(page.cursor),
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        take: page.limit + 1,
      },
    },
  });
  if (!app) throw new AppError("not_found", "App not found.");
  return toPage(app.deployments, page.limit, deploymentView);
}

/** The newest deployment of each of these apps of the caller's team, in one query (for app lists). */
export async function latestDeployments(db: Db, ctx: Ctx, appIds: string[]): Promise<Map<string, DeploymentView>> {
  authorize(ctx, "apps:read");
  if (appIds.length === 0) return new Map();
  const rows = await db.$queryRaw<Deployment[]>`
    SELECT DISTINCT ON ("appId") * FROM "Deployment"
    WHERE "teamId" = ${ctx.teamId}::uuid AND "appId" = ANY(${appIds}::uuid[])
    ORDER BY "appId", "createdAt" DESC, id DESC`;
  return new Map(rows.map((row) => [row.appId, deploymentView(row)]));
}

/** Until its release has started, a deployment can be cancelled (the release refuses to begin on a built one). */
export const CANCELLABLE_STATUSES = ["queued", "building", "built"] as const;

/**
 * Cancels a deployment whose release has not started: the build job notices and stops, or the release job refuses
 * to begin; either ends it `cancelled`, its operation too. Once it is releasing it is too late, and that is said.
 */
export async function cancelDeployment(db: Db, ctx: Ctx, deploymentId: string): Promise<DeploymentView> {
  authorize(ctx, "deployments:create");
  return await db.$transaction(async (tx) => {
    const deployment = await tx.deployment.findFirst({ where: { id: deploymentId, teamId: ctx.teamId } });
    if (!deployment) throw new AppError("not_found", "Deployment not found.");
    // Guarded on the status, so a release that started meanwhile is reported as too late rather than ignored.
    const { count } = await tx.deployment.updateMany({
      where: { id: deployment.id, status: { in: [...CANCELLABLE_STATUSES] } },
      data: { cancelRequestedAt: new Date() },
    });
    if (count === 0) {
      const { status } = await tx.deployment.findUniqueOrThrow({ where: { id: deployment.id } });
      throw new AppError("conflict", tooLateToCancel(deployment.number, status));
    }
    const updated = await tx.deployment.findUniqueOrThrow({ where: { id: deployment.id } });
    await recordAudit(tx, ctx, {
      action: "deployment.cancel_requested",
      target: { type: "deployment", id: deployment.id },
    });
    return deploymentView(updated);
  });
}

function tooLateToCancel(number: number, status: Deployment["status"]): string {
  if (status === "releasing" || status === "running") {
    return `Too late to cancel: the release of deployment #${number} had already started. Roll back or deploy again instead.`;
  }
  return `Deployment #${number} has already ended (${status}); there is nothing to cancel.`;
}

/** The largest chunk one poll of a log answers (lib/domain/log-chunk.ts). */
export { CHUNK_MAX_BYTES as LOG_CHUNK_MAX_BYTES } from "@/lib/domain/log-chunk";

/** A chunk of the build and release log from `offset` (bytes), ending on a line boundary, for polling readers. */
export async function readDeploymentLog(
  db: Db,
  ctx: Ctx,
  deploymentId: string,
  offset: number,
): Promise<{ text: string; nextOffset: number; complete: boolean }> {
  authorize(ctx, "apps:read");
  const deployment = await getDeploymentOrThrow(db, ctx, deploymentId);
  // "built" is not the end: the release appends to the same log.
  const complete = (TERMINAL_STATUSES as readonly string[]).includes(deployment.status);
  return await readLogChunk(deploymentLogPath(getEnv().dataDir, deployment.id), { offset, finished: complete });
}
