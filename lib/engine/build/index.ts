// Builds a deployment's image (deployment__build): fetch the source (git or an uploaded tarball), detect the build
// plan, vet a tenant's own Containerfile (lib/build/containerfile-policy) or render one, `podman build` under the
// build limits, streaming the build log (host details scrubbed, size capped: lib/build/build-log.ts) to the data
// directory. A built image goes on to deployment__release (queued with the "built" status), which finishes the
// deployment's operation. The steps are in steps.ts, the dependencies in context.ts; status writes in ../state.ts.
//
// Idempotent: a retry after a crash at any point starts the build over in a fresh workspace, truncates the log
// (one log), rebuilds the same tag (one image) and only ever updates this deployment's row (no duplicates).
//
// A generated build whose image key (image-key.ts: source tree, plan, Containerfile, base image ID) matches a kept
// image of an earlier deployment of the same app releases that image without `podman build` (reuse.ts).
import { createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { enqueue } from "@/jobs/enqueue";
import { appQueue } from "@/jobs/queues";
import { type BuildLogSink, createBuildLogSink } from "@/lib/build/build-log";
import { buildWorkspace, deploymentLogPath } from "@/lib/data-paths";
import { enterPhase, type PhaseName, parsePhases } from "@/lib/domain/deployment-phases";
import { cancelOperation, claimOperation, failOperation } from "@/lib/domain/operations";
import {
  type BuildDeps,
  hostScrubber,
  imageTagFor,
  MAX_BUILD_LOG_BYTES,
  MAX_REDACTED_LOGGED,
  userFacing,
} from "@/lib/engine/build/context";
import { shortKey } from "@/lib/engine/build/image-key";
import { imageKeyFor, reuseImage } from "@/lib/engine/build/reuse";
import {
  type BuildRun,
  buildImage,
  containerfileFor,
  fetchSource,
  planSource,
  vetTenantFile,
} from "@/lib/engine/build/steps";
import {
  cancelled,
  failureSide,
  hostNotReady,
  imageFetchFailure,
  isCancelled,
  isFinalFailure,
  logSummary,
} from "@/lib/engine/failure";
import { endDeployment, markBuilt, startBuilding } from "@/lib/engine/state";
import type { FailureSide } from "@/lib/generated/prisma/client";

export { type BuildDeps, buildDepsFromEnv, imageTagFor } from "@/lib/engine/build/context";

export type BuildInput = { deploymentId: string; operationId: string };

const CANCELLED = "The deployment was cancelled.";

async function setPhase(deps: BuildDeps, deploymentId: string, name: PhaseName): Promise<void> {
  const row = await deps.db.deployment.findUniqueOrThrow({ where: { id: deploymentId }, select: { phases: true } });
  await deps.db.deployment.update({
    where: { id: deploymentId },
    data: { phases: enterPhase(parsePhases(row.phases), name, new Date()) },
  });
}

/** Why a cancelled build ended: a newer deployment of the app superseded it (it says which), or a user cancelled. */
async function cancelReason(deps: BuildDeps, deploymentId: string): Promise<string> {
  const row = await deps.db.deployment.findUnique({ where: { id: deploymentId }, select: { supersededById: true } });
  if (!row?.supersededById) return CANCELLED;
  const newer = await deps.db.deployment.findUnique({ where: { id: row.supersededById }, select: { number: true } });
  return newer ? `Superseded by deployment #${newer.number}.` : CANCELLED;
}

/**
 * The deployment will not be built: it ends (its waiting app settles: lib/engine/state.ts), so does the operation,
 * "cancelled" for a cancel (a client following the operation must not report a failure), else "failed".
 */
async function endBuild(
  deps: BuildDeps,
  input: BuildInput,
  status: "failed" | "cancelled",
  reason: string,
  side: FailureSide = "operator",
) {
  await endDeployment(deps.db, input.deploymentId, status, reason, new Date(), side);
  if (status === "cancelled") await cancelOperation(deps.db, input.operationId, reason);
  else await failOperation(deps.db, input.operationId, reason);
}

/**
 * The build is done: the deployment becomes "built" and its release is queued in the same transaction, so a crash
 * cannot leave a built image nobody releases. The operation stays running until the release finishes it.
 */
async function handOverToRelease(deps: BuildDeps, deployment: { id: string; appId: string }, operationId: string) {
  await deps.db.$transaction(async (tx) => {
    if (!(await markBuilt(tx, deployment.id))) return;
    await enqueue(
      tx,
      "deployment__release",
      { deploymentId: deployment.id, operationId },
      { queue: appQueue(deployment.appId), jobKey: `release:${deployment.id}` },
    );
  });
}

/**
 * One build attempt. Final failures (the user's to fix, a cancel, an unready host) end the deployment and its
 * operation here; anything else is thrown for graphile-worker to retry.
 */
export async function buildDeployment(deps: BuildDeps, input: BuildInput): Promise<void> {
  const { db } = deps;
  const { deploymentId, operationId } = input;
  const deployment = await db.deployment.findUnique({ where: { id: deploymentId }, include: { app: true } });
  if (!deployment || !["queued", "building"].includes(deployment.status)) return;
  if (!(await claimOperation(db, operationId))) return;
  const log = deps.log.child({ deploymentId, appId: deployment.appId, teamId: deployment.teamId, operationId });
  if (deployment.cancelRequestedAt) {
    await endBuild(deps, input, "cancelled", await cancelReason(deps, deploymentId));
    return;
  }

  await startBuilding(db, deploymentId);
  const workspace = buildWorkspace(deps.dataDir, deploymentId);
  const sourceDir = path.join(workspace, "source");
  const logFile = deploymentLogPath(deps.dataDir, deploymentId);
  await fs.rm(workspace, { recursive: true, force: true });
  await fs.mkdir(sourceDir, { recursive: true, mode: 0o700 });
  await fs.mkdir(path.dirname(logFile), { recursive: true, mode: 0o700 });
  const buildLog = createWriteStream(logFile, { flags: "w", mode: 0o600 });
  const flushLog = () => new Promise<void>((resolve) => buildLog.write("", () => resolve()));
  // The context is only known after planning; until then the source directory is the nearest the tenant knows.
  const hostPaths = { context: sourceDir, source: sourceDir, workspace, dataDir: deps.dataDir };
  let scrub = await hostScrubber(hostPaths);
  let redactedLogged = 0;
  const sink: BuildLogSink = createBuildLogSink({
    out: (text) => buildLog.write(text),
    scrub: (line) => scrub(line),
    maxBytes: MAX_BUILD_LOG_BYTES,
    // The operator's log keeps what the tenant does not see (bounded: a tenant controls how often it happens).
    onRedacted: (original) => {
      if (redactedLogged++ < MAX_REDACTED_LOGGED) log.info({ line: original }, "build log line redacted");
    },
  });

  const abort = new AbortController();
  const cancelWatch = setInterval(() => {
    db.deployment
      .findUnique({ where: { id: deploymentId }, select: { cancelRequestedAt: true } })
      .then((row) => {
        if (!row || row.cancelRequestedAt) abort.abort(cancelled(CANCELLED));
      })
      .catch(() => undefined);
  }, deps.cancelPollMs);
  cancelWatch.unref();

  // An unready host (no podman, no sandbox runtime) fails the deployment, with what to do, not after retries. Asked
  // just before podman is first needed, so a refused Containerfile never reaches podman at all.
  let ready = false;
  const run: BuildRun = {
    deps: { ...deps, log },
    deployment,
    sink,
    workspace,
    sourceDir,
    logFile,
    signal: abort.signal,
    checkCancelled: () => {
      if (abort.signal.aborted) throw cancelled(CANCELLED);
    },
    ensureReady: async () => {
      if (ready) return;
      const problem = await deps.readinessProblem();
      if (problem) throw hostNotReady(problem);
      ready = true;
    },
    flushLog,
  };

  try {
    await setPhase(deps, deploymentId, "fetching");
    const commitSha = await fetchSource(run);
    run.checkCancelled();

    await setPhase(deps, deploymentId, "planning");
    const { plan, context } = await planSource(run, commitSha);
    scrub = await hostScrubber({ ...hostPaths, context });
    sink.line("==> Build plan");
    for (const reason of plan.reasons) sink.line(`    ${reason}`);
    run.checkCancelled();

    const tenantFile = plan.builder === "containerfile" && plan.containerfile ? plan.containerfile : null;
    if (tenantFile) await vetTenantFile(run, context, tenantFile);
    run.checkCancelled();

    await run.ensureReady();
    await setPhase(deps, deploymentId, "building");
    const containerfile = await containerfileFor(run, plan, context, tenantFile);
    // A tenant's own Containerfile is not keyed: its FROM images are pulled again on every build and may have moved.
    const keyInput = { plan, context, containerfile };
    const key = tenantFile ? null : await imageKeyFor(run, keyInput);
    const reused = key ? await reuseImage(run, key) : null;
    if (key && reused) {
      sink.line(
        `==> Reused image ${shortKey(key)} from deployment #${reused.number} (same source, plan and base image)`,
      );
    } else {
      const tag = imageTagFor(deployment);
      const what = plan.builder === "containerfile" ? plan.containerfile : `Python ${plan.pythonVersion}`;
      sink.line(`==> Building the image (${what})`);
      await buildImage(run, { context, containerfile, tag, tenantFile });
      // A base image the build pulled only has an ID now.
      const imageKey = tenantFile ? null : (key ?? (await imageKeyFor(run, keyInput)));
      await db.deployment.update({ where: { id: deploymentId }, data: { imageRef: tag, imageKey } });
      sink.line(`==> Built ${tag.split("/").pop()}`);
    }
    // Flushed before the release can start appending to the same file.
    await flushLog();
    await handOverToRelease(deps, deployment, operationId);
    log.info(
      { reusedFrom: reused?.number ?? null },
      reused ? "image reused; release queued" : "image built; release queued",
    );
  } catch (thrown) {
    const error = imageFetchFailure(thrown) ?? thrown;
    if (isCancelled(error) || abort.signal.aborted) {
      const reason = await cancelReason(deps, deploymentId);
      sink.line(`==> Cancelled: ${reason}`);
      await endBuild(deps, input, "cancelled", reason);
      log.info("build cancelled");
      return;
    }
    const message = userFacing(error);
    if (message) {
      // A failed build step's reason quotes the end of this very log, which is already above: not printed twice.
      sink.line(`==> Failed: ${logSummary(message)}`);
      await endBuild(deps, input, "failed", message, isFinalFailure(error) ? failureSide(error) : "tenant");
      log.info({ reason: message.split("\n")[0] }, "build failed");
      return;
    }
    sink.line("==> The build hit an internal error; retrying.");
    throw error;
  } finally {
    clearInterval(cancelWatch);
    sink.flush();
    await new Promise((resolve) => buildLog.end(resolve));
    await fs.rm(workspace, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** The last attempt failed: the deployment fails with the reason (unless it already moved on), and its operation. */
export async function giveUpBuild(deps: Pick<BuildDeps, "db">, input: BuildInput, reason: string): Promise<void> {
  await endDeployment(deps.db, input.deploymentId, "failed", reason);
  await failOperation(deps.db, input.operationId, reason);
}
