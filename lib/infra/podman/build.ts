import type { ExecResult } from "../exec";
import {
  BUILD_ARG_KEY,
  BUILD_PIDS_LIMIT,
  CPU_PERIOD_US,
  checkAbsolutePath,
  checkCpus,
  checkImageRef,
  checkInteger,
  checkKeyValue,
  isTenantImageRef,
  labelPairs,
} from "./args";
import type { PodmanContext } from "./context";
import { commandFailed, invalid, PodmanError } from "./errors";
import type { Podman } from "./types";

/** Only a build cgroup the platform made: /tussilago-builds/<uuid> (lib/infra/build-cgroup.ts). */
function cgroupParent(value: string): string {
  if (!/^\/tussilago-builds\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value)) {
    throw invalid("build", "cgroup parent");
  }
  return value;
}

// Image builds of tenant code (RUN steps in the same gVisor sandbox and limits as the app) and pulls of the registry
// images a tenant's Containerfile names.
export function buildCommands(
  ctx: PodmanContext,
  inspectImage: Podman["inspectImage"],
): Pick<Podman, "build" | "pull"> {
  const { podman, buildRuntime, runtimeFlagArgs } = ctx;
  return {
    async build(options) {
      const operation = "build";
      const contextDir = checkAbsolutePath(operation, options.contextDir, "context directory");
      const containerfile = checkAbsolutePath(operation, options.containerfile, "containerfile path");
      if (!isTenantImageRef(options.tag)) throw invalid(operation, "image tag");
      const memory = `${checkInteger(operation, options.memoryMiB, 64, 1024 * 1024, "memory limit")}m`;
      const cpuQuota = Math.round(checkCpus(operation, options.cpus) * CPU_PERIOD_US);
      const nproc = checkInteger(operation, options.pidsLimit ?? BUILD_PIDS_LIMIT, BUILD_PIDS_LIMIT, 1 << 22, "pids");
      // Picked field by field: a deployment label slipped in by a caller must not reach the image (types.ts).
      const labels = labelPairs(operation, { team: options.labels.team, app: options.labels.app });
      const buildArgs = Object.entries(options.buildArgs ?? {})
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, value]) => ({ key, pair: checkKeyValue(operation, key, value, BUILD_ARG_KEY, "build argument") }));
      if (options.network !== undefined && options.network !== "none" && options.network !== "private") {
        throw invalid(operation, "build network");
      }

      const head = [
        "build",
        // RUN steps execute tenant code: the same OCI runtime (gVisor) as the app. --isolation=oci makes podman use
        // that runtime even if BUILDAH_ISOLATION=chroot were set in its environment.
        "--runtime",
        buildRuntime,
        ...runtimeFlagArgs,
        "--isolation=oci",
        "--file",
        containerfile,
        "--tag",
        options.tag,
        ...(options.pull === undefined ? [] : [`--pull=${options.pull}`]),
        ...(options.noCache === true ? ["--no-cache"] : []),
        ...(options.network === undefined ? [] : ["--network", options.network]),
        // podman build has no --cpus; period/quota is the same limit. No --security-opt=no-new-privileges here:
        // the buildah in podman 4.3 rejects it for builds, and gVisor is the boundary for RUN steps.
        "--memory",
        memory,
        "--memory-swap",
        memory,
        "--cpu-period",
        String(CPU_PERIOD_US),
        "--cpu-quota",
        String(cpuQuota),
        // An rlimit per user inside the build sandbox: it does not bind root (a RUN step as root forked 3,000
        // processes under nproc=2048 on a Debian 12 host), so the real bound is the pids cgroup below.
        "--ulimit",
        `nproc=${nproc}:${nproc}`,
        ...(options.cgroupParent === undefined ? [] : ["--cgroup-parent", cgroupParent(options.cgroupParent)]),
        ...labels.flatMap((pair) => ["--label", pair]),
      ];
      const tail = ["--", contextDir];
      const args = [...head, ...buildArgs.flatMap(({ pair }) => ["--build-arg", pair]), ...tail];
      const logArgs = [...head, ...buildArgs.flatMap(({ key }) => ["--build-arg", `${key}=<redacted>`]), ...tail];

      let result: ExecResult;
      try {
        result = await podman(args, {
          timeoutMs: options.timeoutMs,
          signal: options.signal,
          onStdout: options.onStdout,
          onStderr: options.onStderr,
          logArgs,
        });
      } catch (err) {
        throw commandFailed(operation, err);
      }
      // podman build ends its output with the full image ID; when a future version words it differently, ask.
      const lastLine = result.stdout.trimEnd().split("\n").pop()?.trim() ?? "";
      if (/^[0-9a-f]{64}$/.test(lastLine)) return { imageId: lastLine };
      const image = await inspectImage(options.tag, { signal: options.signal });
      if (image === null) throw new PodmanError("unexpected_output", operation, "built image not found");
      return { imageId: image.id };
    },

    async pull(ref, options) {
      // A registry image a tenant's Containerfile names, fetched before the build so its config can be inspected.
      checkImageRef("pull", ref);
      try {
        await podman(["pull", "--quiet", "--", ref], { timeoutMs: options.timeoutMs, signal: options.signal });
      } catch (err) {
        throw commandFailed("pull", err);
      }
    },
  };
}
