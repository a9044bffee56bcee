// What the build engine needs (injected, so tests can drive it with fakes) and the helpers its steps share: the
// image tag, the scrubber of host details in the build log, and which failures are the user's to fix.
import fs from "node:fs/promises";
import type { Logger } from "pino";
import { createScrubber, resolversOf } from "@/lib/build/build-log";
import { ContainerfilePolicyError } from "@/lib/build/containerfile-policy/vet";
import { PlanError } from "@/lib/build/plan";
import { SourceError } from "@/lib/build/source-errors";
import { SourcePathError } from "@/lib/build/source-tree";
import { readinessDepsFromEnv, readinessProblem } from "@/lib/checks/readiness";
import type { Db } from "@/lib/db";
import { isFinalFailure } from "@/lib/engine/failure";
import { defaultPythonVersion, type Env, getEnv } from "@/lib/env";
import type { Deployment } from "@/lib/generated/prisma/client";
import { type BuildCgroup, createBuildCgroup } from "@/lib/infra/build-cgroup";
import type { Executor } from "@/lib/infra/exec";
import { type Podman, toResourceName } from "@/lib/infra/podman";
import { getInfra } from "@/lib/services/infra";

export const CANCEL_POLL_MS = 2_000;
export const LOG_TAIL_LINES = 25;
// Checked at upload time with the same bound (lib/domain/uploads.ts).
export { MAX_TARBALL_ENTRIES } from "@/lib/build/source-tarball/check";
// The build log a tenant can make podman write: beyond this, the rest of the output is dropped.
export const MAX_BUILD_LOG_BYTES = 20 * 1024 * 1024;
// Unredacted originals of scrubbed lines logged for the operator, per build.
export const MAX_REDACTED_LOGGED = 200;
export const GIT_FETCH_TIMEOUT_MS = 5 * 60_000;

export type BuildConfig = Pick<
  Env["infra"],
  | "pythonImage"
  | "buildTimeoutMs"
  | "buildMemoryMb"
  | "buildCpus"
  | "buildPids"
  | "cgroupRoot"
  | "sourceMaxBytes"
  | "uploadMaxBytes"
  | "gitAllowPrivateHosts"
  | "gitCaFile"
>;

export type BuildDeps = {
  db: Db;
  log: Logger;
  dataDir: string;
  config: BuildConfig;
  defaultPythonVersion: string;
  /** Asked only when podman is first needed (it throws on a host without podman, after the readiness check). */
  podman: () => Podman;
  exec: Executor;
  gitPath: () => string;
  /** Why this host cannot build now (no podman, no sandbox runtime), or null; asked just before podman is needed. */
  readinessProblem: () => Promise<string | null>;
  cancelPollMs: number;
  /** The pids cgroup a build runs under (lib/infra/build-cgroup.ts), or null where this host has none to give. */
  buildCgroup: (deploymentId: string) => Promise<BuildCgroup | null>;
};

/** The worker's build dependencies from configuration. */
export function buildDepsFromEnv(base: { db: Db; log: Logger }): BuildDeps {
  const env = getEnv();
  const infra = getInfra();
  return {
    db: base.db,
    log: base.log,
    dataDir: env.dataDir,
    config: env.infra,
    defaultPythonVersion: defaultPythonVersion(),
    podman: () => infra.podman(),
    exec: infra.exec,
    gitPath: () => infra.gitPath(),
    readinessProblem: () => readinessProblem(readinessDepsFromEnv(env), { podman: true }),
    cancelPollMs: CANCEL_POLL_MS,
    buildCgroup: async (deploymentId) => {
      const root = env.infra.cgroupRoot;
      // Only root can make cgroups; a worker that is not root builds with the rlimit alone (the build warns in the log).
      if (root === null || process.getuid?.() !== 0) return null;
      return await createBuildCgroup({ name: deploymentId, pidsMax: env.infra.buildPids, root });
    },
  };
}

export function imageTagFor(deployment: Pick<Deployment, "appId" | "number">): string {
  return `localhost/${toResourceName(deployment.appId)}:${deployment.number}`;
}

const USER_PLAN_CODES = new Set(["no_plan", "invalid_python_version", "invalid_override"]);

/** The message of a failure the user caused or can fix (bad source, no plan, refused file, failing step), or null. */
export function userFacing(error: unknown): string | null {
  if (isFinalFailure(error)) return error.message;
  if (
    error instanceof PlanError ||
    error instanceof SourcePathError ||
    error instanceof SourceError ||
    error instanceof ContainerfilePolicyError
  ) {
    return error.message;
  }
  // Plan problems raised by helpers with the plan's codes (overrides, Python versions).
  if (error instanceof Error && "code" in error && USER_PLAN_CODES.has(String(error.code))) return error.message;
  return null;
}

export async function tailOfFile(file: string, lines: number): Promise<string> {
  const text = await fs.readFile(file, "utf8").catch(() => "");
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

export type HostPaths = { context: string; source: string; workspace: string; dataDir: string };

/** What tenants see instead of this host's paths and resolver addresses in their build log. */
export async function hostScrubber(hostPaths: HostPaths): Promise<(line: string) => string> {
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
