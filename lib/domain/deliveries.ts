// Receiving a webhook delivery (POST /api/v1/hooks/{urlToken}): verify it the forge's way BEFORE reading a byte of
// its JSON, then decide. A push to the app's branch with auto-deploy on deploys exactly the pushed commit; anything
// else is answered with why it was ignored. Every delivery to a known URL is recorded, the newest DELIVERIES_KEPT
// per app kept (and delivery IDs for DEDUPE_DAYS), all in one transaction with the deployment it starts.
//
// Everything in a delivery is hostile until verified, and its content stays hostile after: the ref must be a plain
// branch name (validateGitRef), the commit a full hex SHA, the repository page an https URL, the message and author
// display text. An unknown URL token and a bad signature are answered alike (401), with nothing recorded for the
// former and only a "rejected" row (no delivery ID: a forgery cannot claim a genuine ID ahead of it) for the latter.
import { z } from "zod";
import { isCommitSha, validateGitRef } from "@/lib/build/source-git/url-policy";
import { decryptBound } from "@/lib/crypto";
import type { Db, Tx } from "@/lib/db";
import { queueDeployment } from "@/lib/domain/deployments";
import { enforceRateLimit, type RateLimitRule } from "@/lib/domain/rate-limit";
import { eventKind, type Forge, type SignedDelivery, verifyDelivery } from "@/lib/domain/webhook-signatures";
import { DELIVERIES_KEPT, webhookSecretBinding } from "@/lib/domain/webhooks";
import { AppError } from "@/lib/errors";
import { Prisma, type Webhook } from "@/lib/generated/prisma/client";

/** Per app: generous for real pushes (a forge sends one per push), bounding what a leaked URL can cost. */
export const DELIVERIES_PER_APP: RateLimitRule = { limit: 60, windowMs: 60_000 };
/**
 * How long a verified delivery's ID is kept to refuse a replay, whatever the DELIVERIES_KEPT display limit: the
 * forges' signatures carry no timestamp, so a captured delivery stays valid and only its recorded ID stops it.
 */
export const DEDUPE_DAYS = 30;

export type DeliveryAnswer =
  | { status: 200; body: { pong: true } | { ignored: string } }
  | { status: 202; body: { ignored: string } | { deployment: { id: string; number: number } } };

const ZERO_SHA = /^0+$/;
const PLAIN_BRANCH = /^[A-Za-z0-9][A-Za-z0-9._+/-]*$/;
const MAX_TEXT = 200;

const person = z
  .looseObject({ name: z.string().max(1000).optional() })
  .nullable()
  .optional();
const commit = z.looseObject({
  id: z.string().max(100).optional(),
  message: z.string().max(100_000).optional(),
  author: person,
});

/**
 * The fields of a push that are read; the rest of a forge's payload is allowed and ignored (third-party documents
 * grow fields). GitHub, Gitea and Forgejo send head_commit and repository.html_url; GitLab sends commits[],
 * project.web_url and repository.homepage.
 */
export const pushPayload = z.looseObject({
  ref: z.string().max(1000),
  after: z.string().max(100),
  before: z.string().max(100).optional(),
  deleted: z.boolean().optional(),
  head_commit: commit.nullable().optional(),
  commits: z.array(commit).max(10_000).optional(),
  repository: z
    .looseObject({ html_url: z.string().max(2048).optional(), homepage: z.string().max(2048).optional() })
    .nullable()
    .optional(),
  project: z
    .looseObject({ web_url: z.string().max(2048).optional() })
    .nullable()
    .optional(),
});
type PushPayload = z.infer<typeof pushPayload>;

function displayText(text: string | undefined, max = MAX_TEXT): string | null {
  const firstLine = (text ?? "").split(/\r?\n/, 1)[0] ?? "";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  const clean = firstLine.replace(/[\u0000-\u001f\u007f-\u009f]/g, "").trim();
  if (clean === "") return null;
  return clean.length > max ? `${clean.slice(0, max - 3)}...` : clean;
}

/** An https page without credentials, query or fragment; anything else is not linked. */
function repositoryPage(payload: PushPayload): string | null {
  const candidate = payload.repository?.html_url ?? payload.project?.web_url ?? payload.repository?.homepage;
  if (!candidate) return null;
  try {
    const url = new URL(candidate);
    if (url.protocol !== "https:" || url.username || url.password || url.search || url.hash) return null;
    return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
  } catch {
    return null;
  }
}

function unauthenticated(): AppError {
  return new AppError("unauthenticated", "The delivery's signature does not verify for this webhook.");
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
}

/** A verified delivery that cannot be acted on: recorded as rejected, answered 400 or 422 once recorded. */
type Refusal = { outcome: "rejected"; reason: string; code: "bad_request" | "invalid"; ref?: null; sha?: null };

type Decision =
  | {
      outcome: "deployed" | "ignored";
      reason: string;
      ref?: string | null;
      sha?: string | null;
      answer: DeliveryAnswer;
    }
  | Refusal;

function ignored(reason: string, extra: { ref?: string; sha?: string } = {}): Decision {
  return { outcome: "ignored", reason, answer: { status: 202, body: { ignored: reason } }, ...extra };
}

function refused(code: Refusal["code"], reason: string): Refusal {
  return { outcome: "rejected", reason, code };
}

/**
 * Past the newest DELIVERIES_KEPT, a row goes unless it holds a delivery ID younger than DEDUPE_DAYS (kept so a
 * replay is still a duplicate). Those are bounded by the per-app rate limit, and only a holder of the secret makes
 * them: a delivery that does not verify is recorded without an ID.
 */
async function prune(tx: Tx, appId: string): Promise<void> {
  const dedupeSince = new Date(Date.now() - DEDUPE_DAYS * 86_400_000);
  await tx.$executeRaw`
    DELETE FROM "WebhookDelivery" WHERE "appId" = ${appId}::uuid
      AND ("deliveryId" IS NULL OR "receivedAt" < ${dedupeSince})
      AND id NOT IN (
        SELECT id FROM "WebhookDelivery" WHERE "appId" = ${appId}::uuid
        ORDER BY "receivedAt" DESC, id DESC LIMIT ${DELIVERIES_KEPT})`;
}

async function recordRejected(db: Db, webhook: Webhook, forge: Forge | null, reason: string): Promise<void> {
  await db.$transaction(async (tx) => {
    await tx.webhookDelivery.create({
      data: {
        appId: webhook.appId,
        teamId: webhook.teamId,
        forge: forge ?? "unknown",
        deliveryId: null,
        outcome: "rejected",
        reason,
      },
    });
    await prune(tx, webhook.appId);
  });
}

/** Reads the verified body as a push and decides; deploys inside `tx` (which holds the app row locked). */
async function decidePush(tx: Tx, webhook: Webhook, delivery: SignedDelivery, body: Buffer): Promise<Decision> {
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    return refused("bad_request", "The body is not valid JSON.");
  }
  const parsed = pushPayload.safeParse(json);
  if (!parsed.success) return refused("invalid", "The body is not a push payload (ref and after are needed).");
  const payload = parsed.data;
  const after = payload.after.toLowerCase();
  if (!isCommitSha(after)) return refused("invalid", "The pushed commit is not a full hex SHA.");
  if (payload.ref.startsWith("refs/tags/")) return ignored("Tag pushes are not deployed.", { sha: after });
  if (!payload.ref.startsWith("refs/heads/")) return ignored("Only branch pushes are deployed.", { sha: after });
  let branch: string;
  try {
    branch = validateGitRef(payload.ref.slice("refs/heads/".length));
    // Stricter than git: nothing a shell or a log viewer could read as syntax ($, `, ;, quotes, spaces...).
    if (!PLAIN_BRANCH.test(branch)) throw new Error("not plain");
  } catch {
    return refused("invalid", "The pushed branch name is not a plain branch name.");
  }
  // Stored refs are plain (checked above): safe to show and record from here on.
  const ref = payload.ref;
  if (payload.deleted === true || ZERO_SHA.test(after)) return ignored("Branch deletions are not deployed.", { ref });

  const [app] = await tx.$queryRaw<
    { id: string; teamId: string; status: "created" | "deploying" | "running" | "stopped" | "failed" | "deleting" }[]
  >`SELECT id, "teamId", status FROM "App" WHERE id = ${webhook.appId}::uuid FOR UPDATE`;
  const full = app ? await tx.app.findUnique({ where: { id: app.id } }) : null;
  if (!app || !full) return ignored("The app no longer exists.", { ref, sha: after });
  if (full.status === "deleting") return ignored("The app is being deleted.", { ref, sha: after });
  if (full.sourceType !== "git" || !full.gitUrl) return ignored("The app has no git source.", { ref, sha: after });
  if (!full.autoDeploy) return ignored("Auto-deploy is off for this app.", { ref, sha: after });
  const appBranch = full.gitRef ?? "main";
  if (branch !== appBranch) {
    return ignored(`A push to ${branch}; this app deploys ${appBranch}.`, { ref, sha: after });
  }

  const head = payload.head_commit ?? payload.commits?.findLast((entry) => entry.id?.toLowerCase() === after);
  const { deployment } = await queueDeployment(tx, {
    app: full,
    source: { sourceType: "git", gitUrl: full.gitUrl, gitRef: appBranch },
    origin: {
      trigger: "push",
      commitSha: after,
      commitMessage: displayText(head?.message),
      commitAuthor: displayText(head?.author?.name ?? undefined, 100),
      repositoryUrl: repositoryPage(payload),
    },
    createdBy: null,
  });
  // A system actor: the forge, not a member, asked for this (no Ctx exists for a public endpoint).
  await tx.auditEvent.create({
    data: {
      teamId: full.teamId,
      actorType: "system",
      actorLabel: `webhook (${delivery.forge})`,
      action: "deployment.created",
      targetType: "deployment",
      targetId: deployment.id,
      metadata: { appId: full.id, number: deployment.number, source: "git", trigger: "push", commitSha: after },
    },
  });
  return {
    outcome: "deployed",
    reason: `Deployment #${deployment.number} of ${after.slice(0, 12)}.`,
    ref,
    sha: after,
    answer: { status: 202, body: { deployment: { id: deployment.id, number: deployment.number } } },
  };
}

/**
 * Handles one delivery to the webhook URL with this token. `body` is the raw body (the caller caps its size).
 * Throws unauthenticated (401) for an unknown token or a bad signature, rate_limited (429) past the app's limit.
 */
export async function receiveDelivery(
  db: Db,
  input: { urlToken: string; headers: Headers; body: Buffer },
): Promise<DeliveryAnswer> {
  const webhook = await db.webhook.findUnique({ where: { urlToken: input.urlToken } });
  if (!webhook) throw unauthenticated();
  await enforceRateLimit(
    db,
    `webhook:${webhook.appId}`,
    DELIVERIES_PER_APP,
    "Too many deliveries to this webhook; try again shortly.",
  );
  const secret = decryptBound(webhook.secretSealed, webhookSecretBinding(webhook.id));
  const delivery = verifyDelivery(input.headers, input.body, secret);
  if (!delivery) {
    await recordRejected(db, webhook, null, "The signature is missing or does not verify.");
    throw unauthenticated();
  }
  const kind = eventKind(delivery);
  let decision: Decision;
  try {
    decision = await db.$transaction(async (tx) => {
      // The ID is claimed first: a concurrent copy of the same delivery fails on the unique index and is a duplicate.
      const row = await tx.webhookDelivery.create({
        data: {
          appId: webhook.appId,
          teamId: webhook.teamId,
          forge: delivery.forge,
          deliveryId: delivery.deliveryId,
          event: delivery.event,
          outcome: "ignored",
          reason: "",
        },
      });
      const decided: Decision =
        kind === "ping"
          ? { outcome: "ignored", reason: "Ping.", answer: { status: 200, body: { pong: true } } }
          : kind === "other"
            ? ignored(`The ${delivery.event} event is not deployed; send push events.`)
            : await decidePush(tx, webhook, delivery, input.body);
      const deployed =
        decided.outcome === "deployed" && "deployment" in decided.answer.body ? decided.answer.body.deployment : null;
      await tx.webhookDelivery.update({
        where: { id: row.id },
        data: {
          outcome: decided.outcome,
          reason: decided.reason,
          ref: decided.ref ?? null,
          sha: decided.sha ?? null,
          deploymentId: deployed?.id ?? null,
          // A refused delivery gives its ID back: the forge's retry of a fixed payload is not a duplicate.
          ...(decided.outcome === "rejected" ? { deliveryId: null } : {}),
        },
      });
      await prune(tx, webhook.appId);
      return decided;
    });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    await db.$transaction(async (tx) => {
      await tx.webhookDelivery.create({
        data: {
          appId: webhook.appId,
          teamId: webhook.teamId,
          forge: delivery.forge,
          deliveryId: null,
          event: delivery.event,
          outcome: "duplicate",
          reason: `Delivery ${delivery.deliveryId.slice(0, 80)} was received before.`,
        },
      });
      await prune(tx, webhook.appId);
    });
    return { status: 200, body: { ignored: "duplicate delivery" } };
  }
  if (decision.outcome === "rejected") throw new AppError(decision.code, decision.reason);
  return decision.answer;
}
