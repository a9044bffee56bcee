import type { ExecResult } from "../exec";
import { callOptions, type PodmanContext } from "./context";
import { commandFailed } from "./errors";
import { infoSchema, parseJson, systemDfSchema, versionSchema } from "./parse";
import type { DiskUsageRow, Podman } from "./types";

// What podman says about itself and the host: for host readiness (`manage check`) and the instance usage view.
export function systemCommands(ctx: PodmanContext): Pick<Podman, "version" | "info" | "systemDf"> {
  const { config, json } = ctx;
  return {
    async version(options) {
      const operation = "version";
      let result: ExecResult;
      try {
        result = await json(["version", "--format", "json"], callOptions(options));
      } catch (err) {
        throw commandFailed(operation, err);
      }
      const data = parseJson(operation, versionSchema, result.stdout);
      return {
        client: data.Client.Version,
        apiVersion: data.Client.APIVersion ?? null,
        osArch: data.Client.OsArch ?? null,
        server: data.Server?.Version ?? null,
      };
    },

    async info(options) {
      const operation = "info";
      let result: ExecResult;
      try {
        // With the configured runtime, so the answer proves podman can resolve it (host readiness).
        result = await json(["--runtime", config.runtime, "info", "--format", "json"], callOptions(options));
      } catch (err) {
        throw commandFailed(operation, err);
      }
      const data = parseJson(operation, infoSchema, result.stdout);
      const runtime = data.host.ociRuntime;
      return {
        version: data.version?.Version ?? null,
        arch: data.host.arch,
        os: data.host.os ?? null,
        kernel: data.host.kernel ?? null,
        cgroupVersion: data.host.cgroupVersion ?? null,
        cgroupManager: data.host.cgroupManager ?? null,
        ociRuntime:
          runtime === undefined
            ? null
            : { name: runtime.name, path: runtime.path ?? null, version: runtime.version ?? null },
        rootless: data.host.security?.rootless ?? null,
        storageDriver: data.store?.graphDriverName ?? null,
      };
    },

    async systemDf(options) {
      const operation = "system_df";
      let result: ExecResult;
      try {
        result = await json(["system", "df", "--format", "json"], callOptions(options));
      } catch (err) {
        throw commandFailed(operation, err);
      }
      const rows = parseJson(operation, systemDfSchema, result.stdout);
      const row = (type: string): DiskUsageRow | null => {
        const found = rows.find((candidate) => candidate.Type === type);
        return found
          ? { total: found.Total, active: found.Active, bytes: found.RawSize, reclaimableBytes: found.RawReclaimable }
          : null;
      };
      return { images: row("Images"), containers: row("Containers"), volumes: row("Local Volumes") };
    },
  };
}
