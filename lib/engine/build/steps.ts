// The steps of a build, in order: fetch the source, plan it, vet a tenant's own Containerfile or render one, and
// `podman build` under the build limits. Each writes to the build log through the run's sink and throws a final
// AppError (lib/engine/failure.ts) for what the user has to fix.
import fs from "node:fs/promises";
import path from "node:path";
import type { BuildLogSink } from "@/lib/build/build-log";
import { baseImageFor, renderContainerfile } from "@/lib/build/containerfile";
import { vetContainerfile } from "@/lib/build/containerfile-policy/vet";
import { type BuildPlan, detectPlan, fsSourceTree, planToJson } from "@/lib/build/plan";
import { fetchGitSource } from "@/lib/build/source-git";
import { extractTarball } from "@/lib/build/source-tarball";
import { probeBaseImage } from "@/lib/checks/readiness";
import { gitCaBundleDir, uploadPath } from "@/lib/data-paths";
import { storedProcessCommands } from "@/lib/domain/app-rules";
import {
  type BuildDeps,
  GIT_FETCH_TIMEOUT_MS,
  LOG_TAIL_LINES,
  MAX_TARBALL_ENTRIES,
  tailOfFile,
} from "@/lib/engine/build/context";
import { gitAccessFor } from "@/lib/engine/build/git-access";
import { userFailure } from "@/lib/engine/failure";
import type { App, Deployment } from "@/lib/generated/prisma/client";
import { PodmanError } from "@/lib/infra/podman";

/** One build attempt's state, shared by its steps. */
export type BuildRun = {
  deps: BuildDeps;
  deployment: Deployment & { app: App };
  sink: BuildLogSink;
  workspace: string;
  sourceDir: string;
  logFile: string;
  signal: AbortSignal;
  /** Throws the cancellation when the user cancelled meanwhile. */
  checkCancelled: () => void;
  /** The host readiness check, run once, just before podman is first needed. */
  ensureReady: () => Promise<void>;
  /** Resolves once everything written to the build log so far is in the file. */
  flushLog: () => Promise<void>;
};

/** The git checkout or the uploaded tarball, into the workspace; the commit when it came from git. */
export async function fetchSource(run: BuildRun): Promise<string | null> {
  const { deps, deployment, sink, sourceDir } = run;
  if (deployment.sourceType === "git" && deployment.gitUrl) {
    // A commit pinned at creation (a push, a redeploy) is fetched exactly, wherever the branch has moved since.
    const pinned = deployment.commitSha;
    const where = pinned ? `commit ${pinned}` : (deployment.gitRef ?? "main");
    sink.line(`==> Fetching ${deployment.gitUrl} (${where})`);
    const fetched = await fetchGitSource(deps.exec, {
      url: deployment.gitUrl,
      ref: pinned ?? deployment.gitRef ?? "main",
      dest: sourceDir,
      gitPath: deps.gitPath(),
      timeoutMs: GIT_FETCH_TIMEOUT_MS,
      maxBytes: deps.config.sourceMaxBytes,
      allowPrivateHosts: deps.config.gitAllowPrivateHosts,
      // The app's deploy key, pinned host keys and read token: opened here, in the worker, only when the URL needs them.
      access: gitAccessFor(deps, deployment.appId),
      caFile: deps.config.gitCaFile,
      caBundleDir: gitCaBundleDir(deps.dataDir),
    });
    sink.line(`    commit ${fetched.commitSha}`);
    // What git says about the checked-out commit replaces what a push payload claimed.
    await deps.db.deployment.update({
      where: { id: deployment.id },
      data: { commitMessage: fetched.commitMessage ?? undefined, commitAuthor: fetched.commitAuthor ?? undefined },
    });
    return fetched.commitSha;
  }
  if (deployment.sourceType === "upload" && deployment.uploadId) {
    sink.line("==> Unpacking the uploaded tarball");
    await extractTarball({ file: uploadPath(deps.dataDir, deployment.uploadId) }, sourceDir, {
      maxCompressedBytes: deps.config.uploadMaxBytes,
      maxExtractedBytes: deps.config.sourceMaxBytes,
      maxEntries: MAX_TARBALL_ENTRIES,
    });
    return null;
  }
  throw userFailure("This deployment has no source (its upload may have expired). Deploy again.");
}

/** The build context (the app's subdirectory, which must stay inside the source) and the plan detected in it. */
export async function planSource(
  run: BuildRun,
  commitSha: string | null,
): Promise<{ plan: BuildPlan; context: string }> {
  const { deps, deployment, sourceDir } = run;
  const app = deployment.app;
  const contextDir = app.subdirectory ? path.join(sourceDir, app.subdirectory) : sourceDir;
  const realContext = await fs.realpath(contextDir).catch(() => null);
  const realSource = await fs.realpath(sourceDir);
  if (!realContext || !(realContext === realSource || realContext.startsWith(`${realSource}${path.sep}`))) {
    throw userFailure(`The subdirectory "${app.subdirectory}" does not exist in the source.`);
  }
  const plan: BuildPlan = await detectPlan(fsSourceTree(realContext), {
    defaultPythonVersion: deps.defaultPythonVersion,
    overrides: {
      ...(app.pythonVersion ? { pythonVersion: app.pythonVersion } : {}),
      ...(app.installCommand ? { install: app.installCommand } : {}),
      ...(app.webCommand ? { web: app.webCommand } : {}),
      ...(app.releaseCommand ? { release: app.releaseCommand } : {}),
      ...(app.djangoSetup ? {} : { djangoSetup: false }),
      processes: storedProcessCommands(app.processCommands),
    },
  });
  await deps.db.deployment.update({ where: { id: deployment.id }, data: { plan: planToJson(plan), commitSha } });
  return { plan, context: realContext };
}

/** A tenant's own Containerfile, refused here before anything reaches podman (lib/build/containerfile-policy). */
export async function vetTenantFile(run: BuildRun, context: string, tenantFile: string): Promise<void> {
  const { deps } = run;
  run.sink.line(`==> Checking ${tenantFile}`);
  await vetContainerfile({
    contextDir: context,
    file: path.join(context, tenantFile),
    displayName: tenantFile,
    baseImages: [deps.config.pythonImage],
    podman: deps.podman,
    pullTimeoutMs: deps.config.buildTimeoutMs,
    signal: run.signal,
    beforePull: run.ensureReady,
  });
}

/** The Containerfile to build: the tenant's own (vetted), or one rendered from the plan. */
export async function containerfileFor(
  run: BuildRun,
  plan: BuildPlan,
  context: string,
  tenantFile: string | null,
): Promise<string> {
  if (tenantFile) return path.join(context, tenantFile);
  const { deps } = run;
  const containerfile = path.join(run.workspace, "Containerfile");
  const baseImage = baseImageFor(deps.config.pythonImage, plan.pythonVersion);
  // A local base image (built by host setup, no registry) cannot be pulled: say so before building.
  const missing = baseImage.startsWith("localhost/") ? await probeBaseImage(deps.podman(), baseImage) : null;
  if (missing?.status === "error") throw userFailure(`This host is not ready to build apps: ${missing.message}.`);
  const pyprojectOnly = plan.installCommand?.endsWith(" .") ?? false;
  await fs.writeFile(containerfile, renderContainerfile(plan, { baseImage, pyprojectOnly }), { mode: 0o600 });
  return containerfile;
}

/** `podman build` under the build limits, its output streamed to the build log; a failing step is the user's. */
export async function buildImage(
  run: BuildRun,
  input: { context: string; containerfile: string; tag: string; tenantFile: string | null },
): Promise<void> {
  const { deps, deployment, sink } = run;
  // The real process bound of the build (podman 4.3 build has no --pids-limit, and the rlimit does not bind root).
  const cgroup = await deps.buildCgroup(deployment.id);
  if (!cgroup)
    deps.log.warn(
      { deploymentId: deployment.id },
      "no pids cgroup for this build: the rlimit is its only process bound",
    );
  try {
    // An earlier attempt killed after podman built the image left it under this tag: rebuilding would only untag
    // it, and platform__prune and app deletion find images by their deployment's tag, so it would stay forever.
    if (await deps.podman().imageExists(input.tag)) await deps.podman().removeImage(input.tag);
    await deps.podman().build({
      ...(cgroup ? { cgroupParent: cgroup.parent } : {}),
      contextDir: input.context,
      containerfile: input.containerfile,
      tag: input.tag,
      // Per-deployment labels go on the containers at `podman run` (lib/engine/release/containers.ts).
      labels: { team: deployment.teamId, app: deployment.appId },
      memoryMiB: deps.config.buildMemoryMb,
      cpus: deps.config.buildCpus,
      pidsLimit: deps.config.buildPids,
      // A tenant's file builds from the images vetted above, never from a newer pull.
      ...(input.tenantFile ? { pull: "never" as const } : {}),
      timeoutMs: deps.config.buildTimeoutMs,
      signal: run.signal,
      onStdout: (chunk) => sink.write(chunk),
      onStderr: (chunk) => sink.write(chunk),
    });
  } catch (error) {
    run.checkCancelled();
    if (error instanceof PodmanError && error.kind === "command_failed") {
      sink.flush();
      await run.flushLog();
      const tail = await tailOfFile(run.logFile, LOG_TAIL_LINES);
      throw userFailure(`The image build failed. The end of the build log:\n${tail}`, error);
    }
    throw error;
  } finally {
    // A sandbox still exiting keeps it busy: platform__prune sweeps what is left.
    await cgroup?.remove().catch(() => undefined);
  }
}
