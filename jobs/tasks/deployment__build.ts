// Builds a deployment's image: fetch the source (git or an uploaded tarball), detect the build plan, vet a tenant's own
// Containerfile (lib/build/containerfile-policy) or render one, `podman build` under the build limits, streaming the
// build log (host details scrubbed, size capped: lib/build/build-log.ts) to the data directory. A built image
// goes on to deployment__release (queued with the "built" status), which finishes the deployment's operation.
//
// Idempotent: a retry after a crash at any point starts the build over in a fresh workspace, truncates the log
// (one log), rebuilds the same tag (one image) and only ever updates this deployment's row (no duplicates).
import { createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { catalog } from "@/jobs/catalog";
import { defineTask, type TaskContext } from "@/jobs/define";
import { enqueue } from "@/jobs/enqueue";
import { appQueue } from "@/jobs/queues";
import { type BuildLogSink, createBuildLogSink, createScrubber, resolversOf } from "@/lib/build/build-log";
import { baseImageFor, renderContainerfile } from "@/lib/build/containerfile";
import { vetContainerfile } from "@/lib/build/containerfile-policy/vet";
import { type BuildPlan, detectPlan, fsSourceTree, planToJson } from "@/lib/build/plan";
import { fetchGitSource } from "@/lib/build/source-git";
import { extractTarball } from "@/lib/build/source-tarball";
import { probeBaseImage, readinessDepsFromEnv, readinessProblem } from "@/lib/checks/readiness";
import { buildWorkspace, deploymentLogPath, uploadPath } from "@/lib/data-paths";
import { endPhases, enterPhase, type PhaseName, parsePhases } from "@/lib/domain/deployment-phases";
import { claimOperation, failOperation } from "@/lib/domain/operations";
import { defaultPythonVersion, getEnv } from "@/lib/env";
import type { Deployment } from "@/lib/generated/prisma/client";
import { toResourceName } from "@/lib/infra/podman";
import { getInfra } from "@/lib/services/infra";

const CANCEL_POLL_MS = 2_000;
const LOG_TAIL_LINES = 25;
const MAX_TARBALL_ENTRIES = 50_000;
// The build log a tenant can make podman write: beyond this, the rest of the output is dropped.
const MAX_BUILD_LOG_BYTES = 20 * 1024 * 1024;
// Unredacted originals of scrubbed lines logged for the operator, per build.
const MAX_REDACTED_LOGGED = 200;

/** A failure the user caused or can fix (bad source, no plan, failing build step): no retry, say why. */
export class BuildFailure extends Error {
  override name = "BuildFailure";
}

class Cancelled extends Error {
  override name = "Cancelled";
}

function userFacing(error: unknown): string | null {
  if (error instanceof BuildFailure) return error.message;
  if (
    error instanceof Error &&
    ["PlanError", "SourcePathError", "SourceError", "ContainerfilePolicyError"].includes(error.name)
  )
    return error.message;
  if (
    error instanceof Error &&
    "code" in error &&
    ["no_plan", "invalid_python_version", "invalid_override"].includes(String(error.code))
  ) {
    return error.message;
  }
  return null;
}

async function tailOfFile(file: string, lines: number): Promise<string> {
  const text = await fs.readFile(file, "utf8").catch(() => "");
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

export function imageTagFor(deployment: Pick<Deployment, "appId" | "number">): string {
  return `localhost/${toResourceName(deployment.appId)}:${deployment.number}`;
}

async function setPhase(ctx: TaskContext, deploymentId: string, name: PhaseName): Promise<void> {
  const row = await ctx.db.deployment.findUniqueOrThrow({ where: { id: deploymentId }, select: { phases: true } });
  await ctx.db.deployment.update({
    where: { id: deploymentId },
    data: { phases: enterPhase(parsePhases(row.phases), name, new Date()) },
  });
}

async function finish(
  ctx: TaskContext,
  deployment: Deployment,
  outcome: { status: "failed" | "cancelled"; error?: string },
): Promise<void> {
  const now = new Date();
  const row = await ctx.db.deployment.findUniqueOrThrow({ where: { id: deployment.id }, select: { phases: true } });
  await ctx.db.deployment.update({
    where: { id: deployment.id },
    data: {
      status: outcome.status,
      error: outcome.error ?? null,
      phases: endPhases(parsePhases(row.phases), outcome.status, now),
      finishedAt: now,
    },
  });
  // An app that was waiting for this deployment: back to its earlier release (stopped), or failed/created if none.
  const app = await ctx.db.app.findUnique({ where: { id: deployment.appId }, select: { currentDeploymentId: true } });
  await ctx.db.app.updateMany({
    where: { id: deployment.appId, status: "deploying" },
    data: { status: app?.currentDeploymentId ? "stopped" : outcome.status === "failed" ? "failed" : "created" },
  });
}

/**
 * The build is done: the deployment becomes "built" and its release is queued in the same transaction, so a crash
 * cannot leave a built image nobody releases. The operation stays running until the release finishes it.
 */
async function handOverToRelease(ctx: TaskContext, deployment: Deployment, operationId: string): Promise<void> {
  await ctx.db.$transaction(async (tx) => {
    const row = await tx.deployment.findUniqueOrThrow({ where: { id: deployment.id }, select: { phases: true } });
    const claimed = await tx.deployment.updateMany({
      where: { id: deployment.id, status: "building" },
      data: { status: "built", error: null, phases: endPhases(parsePhases(row.phases), "succeeded", new Date()) },
    });
    if (claimed.count === 0) return;
    await enqueue(
      tx,
      "deployment__release",
      { deploymentId: deployment.id, operationId },
      { queue: appQueue(deployment.appId), jobKey: `release:${deployment.id}` },
    );
  });
}

/** What tenants see instead of this host's paths and resolver addresses in their build log. */
async function hostScrubber(hostPaths: {
  context: string;
  source: string;
  workspace: string;
  dataDir: string;
}): Promise<(line: string) => string> {
  const realDataDir = await fs.realpath(hostPaths.dataDir).catch(() => hostPaths.dataDir);
  const resolvConf = await fs.readFile("/etc/resolv.conf", "utf8").catch(() => "");
  return createScrubber({
    paths: [
      { from: hostPaths.context, to: "." },
      { from: hostPaths.source, to: "<source>" },
      { from: hostPaths.workspace, to: "<build>" },
      { from: hostPaths.dataDir, to: "<data>" },
      { from: realDataDir, to: "<data>" },
    ],
    resolvers: resolversOf(resolvConf),
  });
}

export const deploymentBuild = defineTask(catalog.deployment__build, {
  async run({ deploymentId, operationId }, ctx) {
    const { db, log } = ctx;
    const deployment = await db.deployment.findUnique({ where: { id: deploymentId }, include: { app: true } });
    if (!deployment || !["queued", "building"].includes(deployment.status)) return;
    if (!(await claimOperation(db, operationId))) return;
    const env = getEnv();
    const jobLog = log.child({ deploymentId, appId: deployment.appId, teamId: deployment.teamId, operationId });
    if (deployment.cancelRequestedAt) {
      await finish(ctx, deployment, { status: "cancelled", error: "The deployment was cancelled." });
      await failOperation(db, operationId, "The deployment was cancelled.");
      return;
    }

    await db.deployment.update({ where: { id: deploymentId }, data: { status: "building", error: null } });
    const workspace = buildWorkspace(env.dataDir, deploymentId);
    const sourceDir = path.join(workspace, "source");
    const logFile = deploymentLogPath(env.dataDir, deploymentId);
    await fs.rm(workspace, { recursive: true, force: true });
    await fs.mkdir(sourceDir, { recursive: true, mode: 0o700 });
    await fs.mkdir(path.dirname(logFile), { recursive: true, mode: 0o700 });
    const buildLog = createWriteStream(logFile, { flags: "w", mode: 0o600 });
    // The context is only known after planning; until then the source directory is the nearest the tenant knows.
    const hostPaths = { context: sourceDir, source: sourceDir, workspace, dataDir: env.dataDir };
    let scrub = await hostScrubber(hostPaths);
    let redactedLogged = 0;
    const sink: BuildLogSink = createBuildLogSink({
      out: (text) => buildLog.write(text),
      scrub: (line) => scrub(line),
      maxBytes: MAX_BUILD_LOG_BYTES,
      // The operator's log keeps what the tenant does not see (bounded: a tenant controls how often it happens).
      onRedacted: (original) => {
        if (redactedLogged++ < MAX_REDACTED_LOGGED) jobLog.info({ line: original }, "build log line redacted");
      },
    });

    const abort = new AbortController();
    const cancelWatch = setInterval(() => {
      db.deployment
        .findUnique({ where: { id: deploymentId }, select: { cancelRequestedAt: true } })
        .then((row) => {
          if (!row || row.cancelRequestedAt) abort.abort(new Cancelled("cancelled"));
        })
        .catch(() => undefined);
    }, CANCEL_POLL_MS);
    cancelWatch.unref();
    const checkCancelled = () => {
      if (abort.signal.aborted) throw new Cancelled("cancelled");
    };

    // An unready host (no podman, no sandbox runtime) fails the deployment, with what to do, not after retries. Asked
    // just before podman is first needed, so a refused Containerfile never reaches podman at all.
    let ready = false;
    const ensureReady = async () => {
      if (ready) return;
      const problem = await readinessProblem(readinessDepsFromEnv(env), { podman: true });
      if (problem) throw new BuildFailure(problem);
      ready = true;
    };

    try {
      await setPhase(ctx, deploymentId, "fetching");
      let commitSha: string | null = null;
      if (deployment.sourceType === "git" && deployment.gitUrl) {
        sink.line(`==> Fetching ${deployment.gitUrl} (${deployment.gitRef ?? "main"})`);
        const fetched = await fetchGitSource(getInfra().exec, {
          url: deployment.gitUrl,
          ref: deployment.gitRef ?? "main",
          dest: sourceDir,
          gitPath: getInfra().gitPath(),
          timeoutMs: 5 * 60_000,
          maxBytes: env.infra.sourceMaxBytes,
          allowPrivateHosts: env.infra.gitAllowPrivateHosts,
        });
        commitSha = fetched.commitSha;
        sink.line(`    commit ${commitSha}`);
      } else if (deployment.sourceType === "upload" && deployment.uploadId) {
        sink.line("==> Unpacking the uploaded tarball");
        await extractTarball({ file: uploadPath(env.dataDir, deployment.uploadId) }, sourceDir, {
          maxCompressedBytes: env.infra.uploadMaxBytes,
          maxExtractedBytes: env.infra.sourceMaxBytes,
          maxEntries: MAX_TARBALL_ENTRIES,
        });
      } else {
        throw new BuildFailure("This deployment has no source (its upload may have expired). Deploy again.");
      }
      checkCancelled();

      await setPhase(ctx, deploymentId, "planning");
      const app = deployment.app;
      const contextDir = app.subdirectory ? path.join(sourceDir, app.subdirectory) : sourceDir;
      const realContext = await fs.realpath(contextDir).catch(() => null);
      const realSource = await fs.realpath(sourceDir);
      if (!realContext || !(realContext === realSource || realContext.startsWith(`${realSource}${path.sep}`))) {
        throw new BuildFailure(`The subdirectory "${app.subdirectory}" does not exist in the source.`);
      }
      const plan: BuildPlan = await detectPlan(fsSourceTree(realContext), {
        defaultPythonVersion: defaultPythonVersion(),
        overrides: {
          ...(app.pythonVersion ? { pythonVersion: app.pythonVersion } : {}),
          ...(app.installCommand ? { install: app.installCommand } : {}),
          ...(app.webCommand ? { web: app.webCommand } : {}),
          ...(app.releaseCommand ? { release: app.releaseCommand } : {}),
        },
      });
      await db.deployment.update({ where: { id: deploymentId }, data: { plan: planToJson(plan), commitSha } });
      scrub = await hostScrubber({ ...hostPaths, context: realContext });
      sink.line("==> Build plan");
      for (const reason of plan.reasons) sink.line(`    ${reason}`);
      checkCancelled();

      // A tenant's own Containerfile is refused here, before anything reaches podman (lib/build/containerfile-policy).
      const tenantFile = plan.builder === "containerfile" && plan.containerfile ? plan.containerfile : null;
      if (tenantFile) {
        sink.line(`==> Checking ${tenantFile}`);
        await vetContainerfile({
          contextDir: realContext,
          file: path.join(realContext, tenantFile),
          displayName: tenantFile,
          baseImages: [env.infra.pythonImage],
          podman: () => getInfra().podman(),
          pullTimeoutMs: env.infra.buildTimeoutMs,
          signal: abort.signal,
          beforePull: ensureReady,
        });
      }
      checkCancelled();

      await ensureReady();
      await setPhase(ctx, deploymentId, "building");
      let containerfile: string;
      if (tenantFile) {
        containerfile = path.join(realContext, tenantFile);
      } else {
        containerfile = path.join(workspace, "Containerfile");
        const baseImage = baseImageFor(env.infra.pythonImage, plan.pythonVersion);
        // A local base image (built by host setup, no registry) cannot be pulled: say so before building.
        const missing = baseImage.startsWith("localhost/")
          ? await probeBaseImage(getInfra().podman(), baseImage)
          : null;
        if (missing?.status === "error")
          throw new BuildFailure(`This host is not ready to build apps: ${missing.message}.`);
        const pyprojectOnly = plan.installCommand?.endsWith(" .") ?? false;
        await fs.writeFile(containerfile, renderContainerfile(plan, { baseImage, pyprojectOnly }), { mode: 0o600 });
      }
      const tag = imageTagFor(deployment);
      sink.line(
        `==> Building the image (${plan.builder === "containerfile" ? plan.containerfile : `Python ${plan.pythonVersion}`})`,
      );
      try {
        await getInfra()
          .podman()
          .build({
            contextDir: realContext,
            containerfile,
            tag,
            labels: { team: deployment.teamId, app: deployment.appId, deployment: deployment.id },
            memoryMiB: env.infra.buildMemoryMb,
            cpus: env.infra.buildCpus,
            pidsLimit: env.infra.buildPids,
            // A tenant's file builds from the images vetted above, never from a newer pull.
            ...(tenantFile ? { pull: "never" as const } : {}),
            timeoutMs: env.infra.buildTimeoutMs,
            signal: abort.signal,
            onStdout: (chunk) => sink.write(chunk),
            onStderr: (chunk) => sink.write(chunk),
          });
      } catch (error) {
        checkCancelled();
        if (
          error instanceof Error &&
          error.name === "PodmanError" &&
          "kind" in error &&
          error.kind === "command_failed"
        ) {
          sink.flush();
          await new Promise((resolve) => buildLog.write("", resolve));
          const tail = await tailOfFile(logFile, LOG_TAIL_LINES);
          throw new BuildFailure(`The image build failed. The end of the build log:\n${tail}`);
        }
        throw error;
      }
      await db.deployment.update({ where: { id: deploymentId }, data: { imageRef: tag } });
      sink.line(`==> Built ${tag.split("/").pop()}`);
      // Flushed before the release can start appending to the same file.
      await new Promise((resolve) => buildLog.write("", resolve));
      await handOverToRelease(ctx, deployment, operationId);
      jobLog.info({ tag }, "image built; release queued");
    } catch (error) {
      if (error instanceof Cancelled || abort.signal.aborted) {
        sink.line("==> Cancelled");
        await finish(ctx, deployment, { status: "cancelled", error: "The deployment was cancelled." });
        await failOperation(db, operationId, "The deployment was cancelled.");
        jobLog.info("build cancelled");
        return;
      }
      const message = userFacing(error);
      if (message) {
        sink.line(`==> Failed: ${message}`);
        await finish(ctx, deployment, { status: "failed", error: message });
        await failOperation(db, operationId, message);
        jobLog.info({ reason: message.split("\n")[0] }, "build failed");
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
  },
  async onGiveUp({ deploymentId, operationId }, reason, ctx) {
    const deployment = await ctx.db.deployment.findUnique({ where: { id: deploymentId } });
    if (deployment) await finish(ctx, deployment, { status: "failed", error: reason });
    await failOperation(ctx.db, operationId, reason);
  },
});
