import type { ExecResult } from "../exec";
import {
  checkCpus,
  checkImageRef,
  checkInteger,
  checkKeyValue,
  checkName,
  DEFAULT_PIDS_LIMIT,
  DEFAULT_RUN_TIMEOUT_MS,
  DEFAULT_TMP_SIZE_MIB,
  ENV_KEY,
  labelPairs,
  MAX_ARG_BYTES,
  MIN_PIDS_LIMIT,
  USER_SPEC,
} from "./args";
import type { PodmanContext } from "./context";
import {
  commandFailed,
  invalid,
  NAME_IN_USE,
  NO_SUCH_IMAGE,
  NO_SUCH_NETWORK,
  PodmanError,
  stderrMatches,
} from "./errors";
import type { Podman } from "./types";

// `podman run` of a tenant container with the hardened spec (docs/security.md, "Containers").
export function runCommand(ctx: PodmanContext): Pick<Podman, "run"> {
  const { config, podman, runtimeFlagArgs, logMaxSizeMiB } = ctx;
  return {
    async run(options) {
      const operation = "run";
      const name = checkName(operation, options.name, "container name");
      const image = checkImageRef(operation, options.image);
      const network = checkName(operation, options.network, "network name");
      const memory = `${checkInteger(operation, options.memoryMiB, 16, 1024 * 1024, "memory limit")}m`;
      const cpus = checkCpus(operation, options.cpus);
      const pids = checkInteger(operation, options.pidsLimit ?? DEFAULT_PIDS_LIMIT, MIN_PIDS_LIMIT, 1 << 22, "pids");
      const tmpSize = checkInteger(operation, options.tmpSizeMiB ?? DEFAULT_TMP_SIZE_MIB, 1, 64 * 1024, "tmp size");
      const labels = labelPairs(operation, options.labels);
      if (options.port !== undefined) checkInteger(operation, options.port, 1, 65535, "port");
      if (options.user !== undefined && !USER_SPEC.test(options.user)) throw invalid(operation, "user");
      const command = [...(options.command ?? [])];
      if (command.some((arg) => arg.includes("\0") || Buffer.byteLength(arg) > MAX_ARG_BYTES)) {
        throw invalid(operation, "command");
      }
      // Sorted, so the same input always gives the same command line.
      const envPairs = Object.entries(options.env ?? {})
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, value]) => ({ key, pair: checkKeyValue(operation, key, value, ENV_KEY, "environment variable") }));

      const head = [
        // Global flags: the runtime is chosen per command, never left to containers.conf's default (runc).
        "--runtime",
        config.runtime,
        ...runtimeFlagArgs,
        "run",
        "--detach",
        "--name",
        name,
        // Tenant images are built locally; a missing one is a bug, not a reason to reach a registry.
        "--pull=never",
        "--cap-drop=all",
        "--security-opt=no-new-privileges",
        "--read-only",
        // Replaces the default /tmp of --read-only with a bounded, non-executable one. Other default tmpfs mounts
        // (/run, /var/tmp) are memory-backed and count against the sandbox's memory limit.
        "--tmpfs",
        `/tmp:rw,noexec,nosuid,nodev,size=${tmpSize}m`,
        // VOLUME lines of a tenant image would otherwise get writable host-backed anonymous volumes.
        "--image-volume=ignore",
        // Equal to --memory: no swap on top of the limit.
        "--memory",
        memory,
        "--memory-swap",
        memory,
        "--cpus",
        String(cpus),
        "--pids-limit",
        String(pids),
        // A real PID 1 that forwards SIGTERM: Python as PID 1 ignores it and stop would wait for the timeout.
        "--init",
        // Proxy variables of the podman process are not the tenant's business.
        "--http-proxy=false",
        "--network",
        network,
        ...(logMaxSizeMiB === null ? [] : ["--log-opt", `max-size=${logMaxSizeMiB}mb`]),
        ...labels.flatMap((pair) => ["--label", pair]),
        ...(options.user === undefined ? [] : ["--user", options.user]),
      ];
      const tail = [
        ...(options.port === undefined ? [] : ["--publish", `127.0.0.1::${options.port}/tcp`]),
        "--",
        image,
        ...command,
      ];
      // Env values travel as `--env KEY=VALUE` arguments rather than through a file or podman's own environment:
      // - an --env-file cannot hold values with newlines (PEM keys) and would leave secrets on disk if the worker
      //   died between writing and deleting it;
      // - podman's own environment (`--env KEY` without a value) would let tenant-chosen names such as LD_PRELOAD
      //   or CONTAINERS_CONF steer a root process.
      // The cost: for the second or so the podman CLI runs, its argv is readable in /proc by local host users. The
      // host is dedicated, tenant code runs in gVisor with its own /proc, and podman keeps the values in the
      // container's config (podman inspect) for root anyway. Errors and logs get a redacted argument list.
      const args = [...head, ...envPairs.flatMap(({ pair }) => ["--env", pair]), ...tail];
      const logArgs = [...head, ...envPairs.flatMap(({ key }) => ["--env", `${key}=<redacted>`]), ...tail];

      let result: ExecResult;
      try {
        result = await podman(args, {
          timeoutMs: options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS,
          signal: options.signal,
          logArgs,
        });
      } catch (err) {
        if (stderrMatches(err, NAME_IN_USE)) {
          throw new PodmanError("already_exists", operation, "container name in use", {
            cause: err,
            resource: "container",
          });
        }
        if (stderrMatches(err, NO_SUCH_IMAGE)) {
          throw new PodmanError("not_found", operation, "image not found", { cause: err, resource: "image" });
        }
        if (stderrMatches(err, NO_SUCH_NETWORK)) {
          throw new PodmanError("not_found", operation, "network not found", { cause: err, resource: "network" });
        }
        throw commandFailed(operation, err);
      }
      const id = result.stdout.trim();
      if (!/^[0-9a-f]{64}$/.test(id)) throw new PodmanError("unexpected_output", operation, "no container ID");
      return { id };
    },
  };
}
