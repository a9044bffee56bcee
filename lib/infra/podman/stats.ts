import type { ExecResult } from "../exec";
import { callOptions, type PodmanContext } from "./context";
import { commandFailed } from "./errors";
import { parseJson, parsePercent, parseSize, statsSchema } from "./parse";
import type { Podman, ResourceStats } from "./types";

// One `podman stats` for every running container (the metrics sampler, lib/engine/metrics): one process per sample
// whatever the number of containers, instead of one per container. podman's JSON (cmd/podman/containers/stats.go,
// outputJSON) renders every figure as a human-readable string: "0.50%", "56.3MB / 2.147GB" (decimal units from
// go-units' HumanSize, 4 significant digits), "1.2kB / 3.4kB" for net and block IO, "--" when unknown. The numbers
// are parsed back, so they are approximate to those 4 digits; a figure podman cannot give is 0, never a guess.
export function statsCommands(ctx: PodmanContext): Pick<Podman, "statsAll"> {
  const { json } = ctx;
  return {
    async statsAll(options) {
      const operation = "stats";
      let result: ExecResult;
      try {
        // No name: every running container. --no-reset: no terminal clearing in the captured output.
        result = await json(["stats", "--no-stream", "--no-reset", "--format", "json"], callOptions(options));
      } catch (err) {
        throw commandFailed(operation, err);
      }
      // podman prints nothing at all (or "null") when no container runs.
      const stdout = result.stdout.trim();
      if (stdout === "" || stdout === "null") return [];
      return parseJson(operation, statsSchema, stdout).map((entry) => {
        const [memoryUsage, memoryLimit] = pair(entry.mem_usage);
        const [netIn, netOut] = pair(entry.net_io);
        const [blockIn, blockOut] = pair(entry.block_io);
        return {
          name: entry.name,
          cpuPercent: parsePercent(entry.cpu_percent) ?? 0,
          memoryUsageBytes: memoryUsage,
          memoryLimitBytes: memoryLimit,
          netInBytes: netIn,
          netOutBytes: netOut,
          blockInBytes: blockIn,
          blockOutBytes: blockOut,
          pids: entry.pids !== undefined && /^\s*[0-9]{1,9}\s*$/.test(entry.pids) ? Number(entry.pids) : 0,
        } satisfies ResourceStats;
      });
    },
  };
}

/** "56.3MB / 2.147GB" → [56300000, 2147000000]; an unknown side ("--") is 0. */
function pair(text: string | undefined): [number, number] {
  const [left, right] = (text ?? "").split("/");
  return [parseSize(left) ?? 0, parseSize(right) ?? 0];
}
