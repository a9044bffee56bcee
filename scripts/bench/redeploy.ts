// redeploy_to_live_ms: on a host prepared for real deploys (scripts/host-setup.sh ran, podman works) and with the
// release job in the tree: a deploy of unchanged examples/wsgi-stdlib, so every Containerfile step is cached, to an app
// with no live release, from createDeployment (the enqueue) to the first HTTP 200 through Caddy. Beside it, the floor
// measured in the same run: the same image started by `podman run` with the same runtime and flags (the platform's
// podman adapter, which only builds the argument list) and probed on its published port until the first 200.
//
// Caddy is a private one (own admin socket and port): the host's Caddy serves real apps and is never touched. The
// apps, containers, images and the team network this metric creates are removed at the end. When the host's runtime
// cannot run a build's RUN steps, the build cache is filled with runc instead and the report says so: the release
// path is still measured, and the host's problem is reported rather than hidden behind a skip.
import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Pool } from "undici";
import { tasks } from "@/jobs/tasks";
import { APP_PORT, baseImageFor, renderContainerfile } from "@/lib/build/containerfile";
import { detectPlan, fsSourceTree } from "@/lib/build/plan";
import { deploymentLogPath } from "@/lib/data-paths";
import type { Db } from "@/lib/db";
import { createApp, deleteApp } from "@/lib/domain/apps";
import { createDeployment } from "@/lib/domain/deployments";
import { teamNetworkName } from "@/lib/engine/release";
import { DEFAULT_HOST_CONFIG, defaultPythonVersion, getEnv, readHostConfig } from "@/lib/env";
import { toResourceName } from "@/lib/infra/podman";
import { getInfra, MissingExecutableError, resolveExecutable } from "@/lib/services/infra";
import { findCaddy, startPrivateCaddy } from "@/scripts/bench/caddy";
import { type BenchContext, execFileAsync, sleep, waitFor } from "@/scripts/bench/context";
import {
  DeployTracker,
  EXAMPLE_DIR,
  type SeededTeam,
  seedTeam,
  startBenchWorker,
  uploadExample,
} from "@/scripts/bench/deploy-kit";
import { errorMessage, type Metric, ratio, round, summarize } from "@/scripts/bench/stats";

const RUNS = 5;
const QUICK_RUNS = 2;
const PROBE_INTERVAL_MS = 10;
const LIVE_TIMEOUT_MS = 5 * 60_000;

function skipped(reason: string): Metric {
  return { value: null, unit: "ms", skipped: reason };
}

/** performance.now() at the first 200 from `origin` (with `host` as the Host header), probing every 10 ms. */
async function firstOk(
  origin: string,
  host: string | undefined,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<number> {
  const pool = new Pool(origin, { connections: 1 });
  const deadline = performance.now() + timeoutMs;
  try {
    while (performance.now() < deadline) {
      if (signal?.aborted) throw new Error("probing stopped: the deployment failed");
      try {
        const response = await pool.request({
          path: "/",
          method: "GET",
          headers: host ? { host } : {},
          headersTimeout: 2_000,
          bodyTimeout: 2_000,
        });
        await response.body.dump();
        if (response.statusCode === 200) return performance.now();
      } catch {
        // Not listening yet, or the connection was reset while the container started.
      }
      await sleep(PROBE_INTERVAL_MS);
    }
    throw new Error(`no HTTP 200 from ${origin} within ${timeoutMs / 1000} s`);
  } finally {
    await pool.close();
  }
}

async function hostProblem(): Promise<string | null> {
  try {
    await fs.access(DEFAULT_HOST_CONFIG);
  } catch {
    return `${DEFAULT_HOST_CONFIG} does not exist: the host is not prepared for real deploys (scripts/host-setup.sh)`;
  }
  if (!("deployment__release" in tasks)) return "the release job (jobs/tasks/deployment__release.ts) does not exist";
  const hostConfig = readHostConfig({ TUSSILAGO_HOST_CONFIG: DEFAULT_HOST_CONFIG });
  let podman: string;
  try {
    podman = resolveExecutable(hostConfig.TUSSILAGO_PODMAN_PATH ?? "podman");
  } catch (error) {
    if (error instanceof MissingExecutableError) return "podman is not installed";
    throw error;
  }
  try {
    await execFileAsync(podman, ["info", "--format", "{{.Host.OCIRuntime.Name}}"], { timeout: 60_000 });
  } catch (error) {
    return `podman does not work: ${errorMessage(error).split("\n")[0]}`;
  }
  if (!findCaddy()) return "no caddy on PATH for a private router (the host's own Caddy is never used)";
  return null;
}

type Run = { live: number; build: number | null; release: number | null; cache: string };

/**
 * Which build steps came from the cache, from the build log: the Containerfile's own steps (FROM aside) and the
 * LABEL steps podman adds for `--label` (per deployment, so never all cached).
 */
function cacheHits(log: string): string {
  const steps = log.split(/^(?=STEP [0-9]+\/[0-9]+: )/m).filter((part) => part.startsWith("STEP "));
  let own = 0;
  let ownCached = 0;
  let labels = 0;
  let labelsCached = 0;
  for (const step of steps) {
    const instruction = /^STEP [0-9]+\/[0-9]+: ([A-Z]+)/.exec(step)?.[1] ?? "";
    if (instruction === "FROM") continue;
    const cached = /^--> Using cache/m.test(step);
    if (instruction === "LABEL") {
      labels += 1;
      if (cached) labelsCached += 1;
    } else {
      own += 1;
      if (cached) ownCached += 1;
    }
  }
  return `${ownCached} of ${own} Containerfile steps, ${labelsCached} of ${labels} label steps`;
}

/** Deletes the apps the way users do (app__delete: route, containers, images, rows), while the worker runs. */
async function deleteApps(context: BenchContext, db: Db, team: SeededTeam, appIds: string[]): Promise<void> {
  for (const appId of appIds) {
    try {
      const { operation } = await deleteApp(db, team.ctx, appId);
      await waitFor(
        `the deletion of app ${appId}`,
        async () => {
          const row = await db.operation.findUnique({ where: { id: operation.id } });
          return row && (row.status === "succeeded" || row.status === "failed") ? row : null;
        },
        120_000,
        200,
      );
    } catch (error) {
      context.progress(`redeploy_to_live_ms: deleting app ${appId} failed: ${errorMessage(error)}`);
    }
  }
}

/**
 * Whatever carries the team's label after that (a failed deletion, the floor's containers, untagged images of a
 * failed build, the cache seed) and the team's network, with plain podman commands: this also runs from the
 * clean-up stack when the bench is interrupted, without the worker or the platform's configuration.
 */
async function removeLeftovers(podmanPath: string, teamId: string): Promise<void> {
  const label = `label=tussilago.team=${teamId}`;
  const ids = async (args: string[]) => {
    const { stdout } = await execFileAsync(podmanPath, args, { timeout: 60_000 });
    return [...new Set(stdout.split("\n").filter(Boolean))];
  };
  for (const id of await ids(["ps", "--all", "--quiet", "--filter", label])) {
    await execFileAsync(podmanPath, ["rm", "--force", "--", id], { timeout: 60_000 }).catch(() => undefined);
  }
  await execFileAsync(podmanPath, ["network", "rm", "--", teamNetworkName(teamId)], { timeout: 60_000 }).catch(
    () => undefined,
  );
  for (const id of await ids(["images", "--all", "--quiet", "--filter", label])) {
    await execFileAsync(podmanPath, ["rmi", "--force", "--", id], { timeout: 60_000 }).catch(() => undefined);
  }
}

/**
 * Builds the Containerfile the build job generates for the example (same plan, same base image) with runc, labelled
 * with the team so the clean-up finds it. Only used when RUN steps fail under the host's runtime: the deploys that
 * follow then find every RUN step in the cache, as a redeploy of unchanged source does, and run none.
 */
async function seedBuildCache(context: BenchContext, teamId: string): Promise<void> {
  const env = getEnv();
  const plan = await detectPlan(fsSourceTree(EXAMPLE_DIR), { defaultPythonVersion: defaultPythonVersion() });
  const containerfile = path.join(await context.dir("build-seed"), "Containerfile");
  const baseImage = baseImageFor(env.infra.pythonImage, plan.pythonVersion);
  const pyprojectOnly = plan.installCommand?.endsWith(" .") ?? false;
  await fs.writeFile(containerfile, renderContainerfile(plan, { baseImage, pyprojectOnly }));
  const tag = `localhost/tsl-bench-seed-${randomBytes(4).toString("hex")}:1`;
  await execFileAsync(
    resolveExecutable(env.infra.podmanPath),
    [
      "build",
      "--runtime",
      "runc",
      "--isolation=oci",
      "--file",
      containerfile,
      "--label",
      `tussilago.team=${teamId}`,
      "--tag",
      tag,
      "--",
      EXAMPLE_DIR,
    ],
    { timeout: 15 * 60_000 },
  );
}

export async function measureRedeployToLive(context: BenchContext): Promise<Metric> {
  const problem = await hostProblem();
  if (problem) return skipped(problem);
  const caddyPath = findCaddy();
  if (!caddyPath) return skipped("no caddy on PATH");

  const { url, db } = await context.benchDatabase();
  const caddy = await startPrivateCaddy(context, caddyPath, "caddy-redeploy");
  context.switchEnv({
    DATABASE_URL: url,
    DATABASE_DIRECT_URL: url,
    // The host's runtime, podman, base image and Python version; the router is the private Caddy.
    TUSSILAGO_HOST_CONFIG: DEFAULT_HOST_CONFIG,
    TUSSILAGO_PODMAN_PATH: undefined,
    TUSSILAGO_CADDY_ADMIN: caddy.adminEndpoint,
    TUSSILAGO_CADDY_LISTEN: caddy.listen,
    TUSSILAGO_DRAIN_SECONDS: "0",
  });
  const env = getEnv();
  const tracker = new DeployTracker();
  const runner = await startBenchWorker(context, db, url, tracker);
  const team = await seedTeam(db, "redeploy");
  const podmanPath = resolveExecutable(env.infra.podmanPath);
  context.defer("redeploy containers and images", () => removeLeftovers(podmanPath, team.teamId));
  const appIds: string[] = [];
  try {
    const uploadId = await uploadExample(context, db, team.ctx);
    const deployOnce = async (index: number): Promise<Run & { imageRef: string; appId: string }> => {
      const app = await createApp(db, team.ctx, { name: `live-${index}-${randomUUID().slice(0, 6)}` });
      appIds.push(app.id);
      const host = new URL(app.url ?? "http://invalid").hostname;
      const enqueuedAt = performance.now();
      const { deployment, operation } = await createDeployment(db, team.ctx, app.id, { type: "upload", uploadId });
      const stopProbing = new AbortController();
      const liveAt = firstOk(`http://${caddy.listen}`, host, LIVE_TIMEOUT_MS, stopProbing.signal);
      // Handled below; without this a failed deployment would surface the probe's rejection as unhandled.
      liveAt.catch(() => undefined);
      const outcome = await tracker
        .waitForOperation(db, operation.id, deployment.id, LIVE_TIMEOUT_MS)
        .catch((error: unknown) => {
          stopProbing.abort();
          throw error;
        });
      if (outcome.operation !== "succeeded" || outcome.deployment !== "running") {
        stopProbing.abort();
        throw new Error(
          outcome.deployment === "built"
            ? "the build did not hand over to the release job"
            : `deployment ${outcome.deployment}: ${outcome.error ?? "no reason given"}`,
        );
      }
      const live = (await liveAt) - enqueuedAt;
      const build = tracker.timing(deployment.id, "deployment__build");
      const release = tracker.timing(deployment.id, "deployment__release");
      const row = await db.deployment.findUniqueOrThrow({ where: { id: deployment.id } });
      if (!row.imageRef) throw new Error("the released deployment has no image");
      // The build log says which steps came from the cache: a redeploy of unchanged source should run none.
      const log = await fs.readFile(deploymentLogPath(env.dataDir, deployment.id), "utf8").catch(() => "");
      return {
        cache: cacheHits(log),
        live,
        build: build ? build.endedAt - build.startedAt : null,
        release: release ? release.endedAt - release.startedAt : null,
        imageRef: row.imageRef,
        appId: app.id,
      };
    };

    context.progress("redeploy_to_live_ms: a first deploy fills the build cache");
    let first: Awaited<ReturnType<typeof deployOnce>>;
    let hostBuildError: string | null = null;
    try {
      first = await deployOnce(0);
    } catch (error) {
      const message = errorMessage(error);
      if (message.includes("did not hand over")) return skipped(message);
      if (!message.includes("image build failed")) throw error;
      // The platform's build cannot run RUN steps on this host; what the release costs can still be measured.
      const full = error instanceof Error ? error.message : message;
      hostBuildError = full.split("\n").find((line) => line.startsWith("Error:")) ?? message.split("\n")[0] ?? "";
      context.progress(
        `redeploy_to_live_ms: the build failed under ${env.infra.ociRuntime} (${hostBuildError}); ` +
          "filling the build cache with a runc build of the same Containerfile and trying again",
      );
      await seedBuildCache(context, team.teamId);
      first = await deployOnce(0);
    }
    const runs = context.options.quick ? QUICK_RUNS : RUNS;
    const samples: Run[] = [];
    let last = first;
    for (let i = 1; i <= runs; i += 1) {
      context.progress(`redeploy_to_live_ms: deploy ${i} of ${runs}`);
      last = await deployOnce(i);
      samples.push(last);
    }

    // The floor: the same image, runtime and flags, started by hand, probed directly.
    const podman = getInfra().podman();
    const floorOnce = async (): Promise<number> => {
      const name = toResourceName(randomUUID(), "floor");
      const started = performance.now();
      try {
        await podman.run({
          name,
          image: last.imageRef,
          network: teamNetworkName(team.teamId),
          labels: { team: team.teamId, app: last.appId, deployment: randomUUID(), process: "web" },
          env: { PORT: String(APP_PORT) },
          port: APP_PORT,
          memoryMiB: 512,
          cpus: 1,
        });
        const container = await podman.inspectContainer(name);
        const hostPort = container?.ports.find((port) => port.containerPort === APP_PORT)?.hostPort;
        if (hostPort === undefined) throw new Error("the floor container has no published port");
        return (await firstOk(`http://127.0.0.1:${hostPort}`, undefined, LIVE_TIMEOUT_MS)) - started;
      } finally {
        await podman.remove(name).catch(() => undefined);
      }
    };
    context.progress(`redeploy_to_live_ms: the floor, podman run of the same image (1 warm-up, ${runs} measured)`);
    await floorOnce();
    const floors: number[] = [];
    for (let i = 0; i < runs; i += 1) floors.push(await floorOnce());

    const live = summarize(samples.map((sample) => sample.live));
    const floor = summarize(floors);
    const builds = samples.flatMap((sample) => (sample.build === null ? [] : [sample.build]));
    const releases = samples.flatMap((sample) => (sample.release === null ? [] : [sample.release]));
    return {
      value: round(live.p50),
      unit: "ms",
      p50: round(live.p50),
      p99: round(live.p99),
      runs,
      build_p50_ms: builds.length > 0 ? round(summarize(builds).p50) : null,
      release_p50_ms: releases.length > 0 ? round(summarize(releases).p50) : null,
      first_deploy_ms: round(first.live),
      build_cache: last.cache,
      baseline: round(floor.p50),
      baseline_p99: round(floor.p99),
      baseline_unit: "ms (podman run of the same image, same runtime and flags, probed to the first 200)",
      ratio: ratio(live.p50, floor.p50),
      runtime: env.infra.ociRuntime,
      ...(hostBuildError === null
        ? {}
        : {
            build_cache_seeded_with: "runc",
            host_build_error: `podman build under ${env.infra.ociRuntime} failed: ${hostBuildError}`,
          }),
      notes:
        `Each run deploys unchanged examples/wsgi-stdlib to a new app (no live release, so the first 200 is the new ` +
        `one) on this host's podman with runtime ${env.infra.ociRuntime}, every Containerfile step cached by the ` +
        "first deploy (build_cache: the LABEL steps podman adds for the per-deployment --label values cannot be); " +
        `createDeployment → first 200 through a private Caddy ${caddy.version}, probed every ` +
        `${PROBE_INTERVAL_MS} ms. In-process worker on the bench's PostgreSQL, TUSSILAGO_DRAIN_SECONDS=0 (nothing ` +
        "to drain). The floor probes the container's published port directly, also every 10 ms; the platform's own " +
        "health check backs off from 250 ms." +
        (hostBuildError === null
          ? ""
          : ` On this host podman build's RUN steps fail under ${env.infra.ociRuntime} (host_build_error), so real ` +
            "deploys of new code do not work here; the build cache was filled by a runc build of the same generated " +
            "Containerfile, and the measured deploys' builds, under the host's runtime, ran no RUN step."),
    };
  } finally {
    try {
      await deleteApps(context, db, team, appIds);
      await removeLeftovers(podmanPath, team.teamId);
    } finally {
      await runner.stop();
      context.switchEnv({ TUSSILAGO_HOST_CONFIG: "none" });
    }
  }
}
