// Host readiness probes: what a build or a release needs from this machine (podman, the sandbox runtime, Caddy's
// admin API, a local base image). `manage check` and the admin host page show them all (lib/checks/check.ts); the
// build and release jobs ask for the few they need before doing any work, so a deploy on an unready host fails at
// once with what to do instead of spending its retries (and minutes) on a machine that cannot succeed.

import { type Env, getEnv } from "@/lib/env";
import type { CaddyClient } from "@/lib/infra/caddy";
import { InfraError } from "@/lib/infra/errors";
import { toUserMessage } from "@/lib/infra/exec";
import type { Podman, PodmanInfo } from "@/lib/infra/podman";
import { logger } from "@/lib/logger";
import { getInfra, MissingExecutableError, podmanFailureCount } from "@/lib/services/infra";

export type ProbeStatus = "ok" | "warn" | "error";
/**
 * `message` is for operators (the readiness page, `manage check`, the log) and may name paths and addresses;
 * `tenantMessage`, when set, is what a tenant may read instead (a deployment's or an operation's reason): no host
 * path, no internal address. Without one, `message` names neither.
 */
export type ProbeResult = { name: string; status: ProbeStatus; message: string; tenantMessage?: string };

export const HOST_SETUP_HINT = "run scripts/host-setup.sh (as root) to prepare this host";

export type ReadinessDeps = {
  /** Throws MissingExecutableError when podman is not installed. */
  podman: () => Podman;
  podmanPath: string;
  runtime: string;
  caddy?: () => CaddyClient;
  caddyAdmin?: string;
  timeoutMs?: number;
  /**
   * Remember a ready podman for a while (the worker's jobs: readinessDepsFromEnv), instead of one `podman info`
   * (hundreds of ms) per job. Not for `manage check` and the host page, which show what the host says now.
   */
  cache?: ReadinessCache;
};

export type ReadinessCache = {
  ttlMs: number;
  /** Failed podman calls so far (lib/services/infra.ts): one since the answer was cached makes it stale. */
  failures: () => number;
  now?: () => number;
};

// A worker asks often and the answer rarely changes; a host that breaks shows in a failed podman call first.
export const READINESS_CACHE_MS = 60_000;

// Only a ready podman is remembered: an unready host is asked again by the next job, so it works once fixed.
let podmanReady: { podman: Podman; failures: number; at: number } | null = null;

/** probePodman, or the remembered answer that this podman client was ready (deps.cache). */
async function probePodmanCached(deps: ReadinessDeps): Promise<PodmanProbe> {
  const cache = deps.cache;
  if (!cache) return await probePodman(deps);
  const now = cache.now ?? Date.now;
  if (podmanReady && podmanReady.failures === cache.failures() && now() - podmanReady.at < cache.ttlMs) {
    let podman: Podman | null = null;
    try {
      podman = deps.podman();
    } catch {
      podman = null;
    }
    // Another client (the configuration changed) has not been vouched for.
    if (podman === podmanReady.podman) return { results: [], podman, info: null };
  }
  const failures = cache.failures();
  const probe = await probePodman(deps);
  const ready = probe.podman !== null && !probe.results.some((result) => result.status === "error");
  podmanReady = ready && probe.podman ? { podman: probe.podman, failures, at: now() } : null;
  return probe;
}

// podman 4 answers an unknown --runtime with: `default OCI runtime "runsc" not found: invalid argument`.
const UNKNOWN_RUNTIME = /OCI runtime "?[^"\s]*"? not found|runtime .* not found|could not find a working binary/i;

export type PodmanProbe = { results: ProbeResult[]; podman: Podman | null; info: PodmanInfo | null };

/** podman and the sandbox runtime: one `podman info` (the adapter passes --runtime, so info reports it). */
export async function probePodman(deps: ReadinessDeps): Promise<PodmanProbe> {
  let podman: Podman;
  try {
    podman = deps.podman();
  } catch (error) {
    const missing = error instanceof MissingExecutableError;
    const message = missing
      ? `podman (${deps.podmanPath}) is not installed: ${HOST_SETUP_HINT}`
      : `podman is misconfigured: ${(error as Error).message}`;
    const tenantMessage = missing
      ? `podman is not installed: ${HOST_SETUP_HINT}`
      : "podman is misconfigured: an operator needs to check this host";
    return { results: [{ name: "podman", status: "error", message, tenantMessage }], podman: null, info: null };
  }
  let info: PodmanInfo;
  try {
    info = await podman.info({ timeoutMs: deps.timeoutMs ?? 20_000 });
  } catch (error) {
    const text = toUserMessage(error);
    const stderr = (error as { cause?: { stderr?: unknown } }).cause?.stderr;
    if (UNKNOWN_RUNTIME.test(`${error instanceof Error ? error.message : ""} ${String(stderr ?? "")}`)) {
      return {
        results: [
          { name: "podman", status: "ok", message: "podman answers" },
          {
            name: "sandbox runtime",
            status: "error",
            message: `the sandbox runtime ${deps.runtime} is not installed or not registered with podman: ${HOST_SETUP_HINT}`,
          },
        ],
        podman,
        info: null,
      };
    }
    return {
      results: [{ name: "podman", status: "error", message: `podman does not answer: ${text}` }],
      podman,
      info: null,
    };
  }
  const results: ProbeResult[] = [
    {
      name: "podman",
      status: "ok",
      message: `podman ${info.version ?? "?"} (${info.cgroupVersion ?? "?"} cgroups)`,
    },
    info.ociRuntime?.name === deps.runtime
      ? {
          name: "sandbox runtime",
          status: "ok",
          message: `${info.ociRuntime.name} ${info.ociRuntime.version?.split("\n")[0] ?? ""}`.trim(),
        }
      : {
          name: "sandbox runtime",
          status: "error",
          message: `the sandbox runtime ${deps.runtime} is not installed or not registered with podman: ${HOST_SETUP_HINT}`,
        },
  ];
  return { results, podman, info };
}

/** A base image: present, or pullable (a registry image), or an error for a local image nobody built. */
export async function probeBaseImage(podman: Podman, image: string): Promise<ProbeResult> {
  try {
    const present = await podman.imageExists(image);
    if (present) return { name: "base image", status: "ok", message: `${image} present` };
    if (!image.startsWith("localhost/")) {
      return { name: "base image", status: "warn", message: `${image} will be pulled at the first build` };
    }
    return {
      name: "base image",
      status: "error",
      message: `the base image ${image} is missing: run scripts/host-setup.sh to build it`,
    };
  } catch (error) {
    return { name: "base image", status: "warn", message: `could not check ${image}: ${toUserMessage(error)}` };
  }
}

/** Caddy's admin API answers (a GET of its config). */
export async function probeCaddy(deps: ReadinessDeps): Promise<ProbeResult> {
  if (!deps.caddy) return { name: "caddy admin", status: "warn", message: "not checked" };
  try {
    await deps.caddy().ping();
    return { name: "caddy admin", status: "ok", message: `Caddy's admin API answers at ${deps.caddyAdmin ?? "?"}` };
  } catch (error) {
    const detail = error instanceof InfraError ? error.userMessage : toUserMessage(error);
    return {
      name: "caddy admin",
      status: "error",
      message: `Caddy's admin API at ${deps.caddyAdmin ?? "?"} does not answer (${detail}): start Caddy, or ${HOST_SETUP_HINT}`,
      tenantMessage: `Caddy's admin API does not answer (${detail}): an operator needs to start Caddy`,
    };
  }
}

export type Need = { podman: true; caddy?: boolean; baseImage?: string | null };

/**
 * The first problem that would make a build or release fail, as a sentence for the user, or null when the host is
 * ready. Cheap: one `podman info` (a ready answer is remembered for a while with deps.cache), at most one `podman image exists` and one GET of Caddy's config. Caddy is asked
 * twice a second apart, so a Caddy in the middle of a restart does not fail a deploy.
 */
export async function readinessProblem(
  deps: ReadinessDeps,
  need: Need,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<string | null> {
  // The answer becomes a deployment's or an operation's reason: the tenant's sentence; the operator's, with paths
  // and addresses, goes to the log (and is on the readiness page).
  const problem = (what: string, result: ProbeResult): string => {
    logger().warn({ probe: result.name, detail: result.message }, "host not ready");
    return `This host is not ready to ${what}: ${result.tenantMessage ?? result.message}.`;
  };
  const probe = await probePodmanCached(deps);
  const broken = probe.results.find((result) => result.status === "error");
  if (broken) return problem("run apps", broken);
  if (need.baseImage && probe.podman) {
    const image = await probeBaseImage(probe.podman, need.baseImage);
    if (image.status === "error") return problem("build apps", image);
  }
  if (need.caddy) {
    let caddy = await probeCaddy(deps);
    if (caddy.status === "error") {
      await sleep(1_000);
      caddy = await probeCaddy(deps);
    }
    if (caddy.status === "error") return problem("serve apps", caddy);
  }
  return null;
}

/** The probes' dependencies from configuration (the worker's podman and Caddy clients). */
export function readinessDepsFromEnv(env: Env = getEnv()): ReadinessDeps {
  return {
    podman: () => getInfra().podman(),
    podmanPath: env.infra.podmanPath,
    runtime: env.infra.ociRuntime,
    caddy: () => getInfra().caddy(),
    caddyAdmin: env.release.caddyAdmin,
    cache: { ttlMs: READINESS_CACHE_MS, failures: podmanFailureCount },
  };
}
