// deploy_overhead_ms: the control plane's own cost per deploy of examples/wsgi-stdlib: createDeployment (the API's
// domain call, which enqueues the build) to the end of the last job, through the real job code (deployment__build,
// then deployment__release when the build hands over to it) with the fake podman and a fake Caddy that answer at
// once, and "containers" that pass their health check at once. What is left is queueing, SQL, file work, logs and
// Caddy config rendering, plus the fake podman's own run time per call (it is a Node script): that is timed per call
// from outside and taken off, and the figure with it is reported beside.
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import { createServer, type Server } from "node:http";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { freePort } from "@/lib/database/embedded";
import type { Db } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { createDeployment } from "@/lib/domain/deployments";
import type { BenchContext } from "@/scripts/bench/context";
import { DeployTracker, seedTeam, startBenchWorker, uploadExample } from "@/scripts/bench/deploy-kit";
import { type Metric, round, summarize } from "@/scripts/bench/stats";
import { startFakeCaddy } from "@/test/fake-caddy";

const FAKE_PODMAN = fileURLToPath(new URL("../../test/fake-podman/fake-podman.mjs", import.meta.url));
const DEPLOYS = 50;
const QUICK_DEPLOYS = 10;
const WARMUP = 2;
/** A replica of the new release starts while the previous one still serves: two at a time, with room to spare. */
const CONTAINER_PORTS = 4;
const DEPLOY_TIMEOUT_MS = 120_000;

/** A fake podman like test/fake-podman/install.ts makes, whose containers publish the given host ports. */
export async function installBenchFakePodman(dir: string, hostPorts: readonly number[] = []): Promise<string> {
  const wrapper = path.join(dir, "podman");
  const lines = [
    "#!/usr/bin/env node",
    `process.env.FAKE_PODMAN_STATE = ${JSON.stringify(path.join(dir, "state"))};`,
    `process.env.FAKE_PODMAN_HOST_PORTS = ${JSON.stringify(hostPorts.join(","))};`,
    `await import(${JSON.stringify(FAKE_PODMAN)});`,
  ];
  await fs.mkdir(path.join(dir, "state"), { recursive: true });
  await fs.writeFile(wrapper, `${lines.join("\n")}\n`, { mode: 0o755 });
  return wrapper;
}

/**
 * The fake podman behind a shell wrapper that appends each call's start and end (nanoseconds) to `times`: the fake
 * is a Node script, and its start-up per call is the fake's cost, not the control plane's. Measured per call from
 * outside, so it can be taken off each deploy exactly instead of estimated.
 */
async function installTimedFakePodman(
  dir: string,
  hostPorts: readonly number[],
): Promise<{ path: string; times: string }> {
  const inner = await installBenchFakePodman(dir, hostPorts);
  const timed = path.join(dir, "podman-timed");
  const times = path.join(dir, "times.log");
  const quote = (value: string) => `'${value.replaceAll("'", "'\\''")}'`;
  const script = [
    "#!/bin/sh",
    "start=$(date +%s%N)",
    `${quote(process.execPath)} ${quote(inner)} "$@"`,
    "code=$?",
    `echo "$start $(date +%s%N)" >> ${quote(times)}`,
    'exit "$code"',
  ];
  await fs.writeFile(timed, `${script.join("\n")}\n`, { mode: 0o755 });
  return { path: timed, times };
}

/** Calls recorded by the timed wrapper so far: how many, and the milliseconds they took together. */
async function podmanTime(times: string): Promise<{ calls: number; ms: number }> {
  const text = await fs.readFile(times, "utf8").catch(() => "");
  let calls = 0;
  let ns = 0n;
  for (const line of text.split("\n")) {
    const [start, end] = line.trim().split(" ");
    if (!start || !end) continue;
    calls += 1;
    ns += BigInt(end) - BigInt(start);
  }
  return { calls, ms: Number(ns / 1000n) / 1000 };
}

/** Stand-ins for the fake containers' published ports: every health check answers 200 at once. */
async function startContainerStandIns(count: number): Promise<{ ports: number[]; close(): Promise<void> }> {
  const servers: Server[] = [];
  const ports: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const port = await freePort();
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok\n");
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    servers.push(server);
    ports.push(port);
  }
  return {
    ports,
    async close() {
      for (const server of servers) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}

type DeploySample = {
  total: number;
  /** Time inside fake podman calls during this deploy. */
  podman: number;
  calls: number;
  build: number;
  release: number | null;
  released: boolean;
};

async function deployOnce(
  db: Db,
  tracker: DeployTracker,
  ctx: Awaited<ReturnType<typeof seedTeam>>["ctx"],
  target: { appId: string; uploadId: string; times: string },
): Promise<DeploySample> {
  const before = await podmanTime(target.times);
  const enqueuedAt = performance.now();
  const { deployment, operation } = await createDeployment(db, ctx, target.appId, {
    type: "upload",
    uploadId: target.uploadId,
  });
  const outcome = await tracker.waitForOperation(db, operation.id, deployment.id, DEPLOY_TIMEOUT_MS);
  if (outcome.operation !== "succeeded") {
    throw new Error(`deployment #${deployment.number} ${outcome.deployment}: ${outcome.error ?? "no reason given"}`);
  }
  const build = tracker.timing(deployment.id, "deployment__build");
  const release = tracker.timing(deployment.id, "deployment__release");
  if (!build) throw new Error(`deployment #${deployment.number} finished without a build job`);
  const end = Math.max(build.endedAt, release?.endedAt ?? 0);
  const after = await podmanTime(target.times);
  return {
    total: end - enqueuedAt,
    podman: after.ms - before.ms,
    calls: after.calls - before.calls,
    build: build.endedAt - build.startedAt,
    release: release ? release.endedAt - release.startedAt : null,
    released: outcome.deployment === "running",
  };
}

export async function measureDeployOverhead(context: BenchContext): Promise<Metric> {
  const { url, db } = await context.benchDatabase();
  const podmanDir = await context.dir("deploy-podman");
  const standIns = await startContainerStandIns(CONTAINER_PORTS);
  context.defer("container stand-ins", () => standIns.close());
  const podman = await installTimedFakePodman(podmanDir, standIns.ports);
  const caddy = await startFakeCaddy();
  context.defer("fake Caddy", () => caddy.close());
  context.switchEnv({
    DATABASE_URL: url,
    DATABASE_DIRECT_URL: url,
    TUSSILAGO_PODMAN_PATH: podman.path,
    TUSSILAGO_CADDY_ADMIN: caddy.url,
    // The drain is a deliberate wait for requests in flight, not work: with it the figure would be 10 s of sleep.
    TUSSILAGO_DRAIN_SECONDS: "0",
  });

  const tracker = new DeployTracker();
  const runner = await startBenchWorker(context, db, url, tracker);
  try {
    const team = await seedTeam(db, "deploy");
    const app = await createApp(db, team.ctx, { name: `wsgi-${randomBytes(3).toString("hex")}` });
    // One upload for every deploy: the upload is the API's cost, not the deploy's, and builds only read it.
    const target = { appId: app.id, uploadId: await uploadExample(context, db, team.ctx), times: podman.times };
    const count = context.options.quick ? QUICK_DEPLOYS : DEPLOYS;
    context.progress(`deploy_overhead_ms: ${WARMUP} warm-up deploys, then ${count}`);
    for (let i = 0; i < WARMUP; i += 1) await deployOnce(db, tracker, team.ctx, target);
    const samples: DeploySample[] = [];
    for (let i = 0; i < count; i += 1) samples.push(await deployOnce(db, tracker, team.ctx, target));

    const own = summarize(samples.map((sample) => sample.total - sample.podman));
    const total = summarize(samples.map((sample) => sample.total));
    const inPodman = summarize(samples.map((sample) => sample.podman));
    const calls = summarize(samples.map((sample) => sample.calls));
    const build = summarize(samples.map((sample) => sample.build));
    const releases = samples.flatMap((sample) => (sample.release === null ? [] : [sample.release]));
    const release = releases.length > 0 ? summarize(releases) : null;
    const released = samples.every((sample) => sample.released);
    return {
      value: round(own.p50),
      unit: "ms",
      p50: round(own.p50),
      p99: round(own.p99),
      deploys: count,
      with_fake_podman_p50_ms: round(total.p50),
      with_fake_podman_p99_ms: round(total.p99),
      fake_podman_p50_ms: round(inPodman.p50),
      podman_calls_per_deploy: calls.p50,
      build_job_p50_ms: round(build.p50),
      release_job_p50_ms: release ? round(release.p50) : null,
      includes_release: released,
      notes:
        (released
          ? "Build and release: createDeployment → deployment__build → deployment__release → operation succeeded. "
          : "Build only: the build did not hand over to deployment__release in this tree, so the release is not " +
            "measured. ") +
        "value/p50/p99: each deploy's wall time minus the time spent inside fake podman calls (timed per call by a " +
        "shell wrapper; the fake is a Node script whose start-up is not the control plane's); with_fake_podman_*: " +
        "the wall time as is. Job figures include their podman calls. Sequential redeploys of one app (1 replica), " +
        "in-process worker (concurrency 4) on the bench's PostgreSQL, fake Caddy admin API, health checks answered " +
        "at once, TUSSILAGO_DRAIN_SECONDS=0.",
    };
  } finally {
    await runner.stop();
  }
}
