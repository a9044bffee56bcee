import type { ExecResult } from "../exec";
import { checkName, isSubnet, labelPairs } from "./args";
import { callOptions, type PodmanContext } from "./context";
import { commandFailed, invalid, isExit, NO_SUCH_NETWORK, PodmanError, stderrMatches } from "./errors";
import type { Podman } from "./types";

// Per-team networks: the boundary between teams' containers (docs/security.md).
export function networkCommands(ctx: PodmanContext): Pick<Podman, "networkExists" | "createNetwork" | "removeNetwork"> {
  const { podman, exists } = ctx;
  return {
    async networkExists(name, options) {
      checkName("network_exists", name, "network name");
      return exists("network_exists", ["network", "exists", "--", name], options);
    },

    async createNetwork(name, options = {}) {
      const operation = "network_create";
      checkName(operation, name, "network name");
      if (options.subnet !== undefined && !isSubnet(options.subnet)) throw invalid(operation, "subnet");
      const labels = labelPairs(operation, { team: options.team });
      // Look first: "already exists" is the normal case for every deploy after a team's first one.
      if (await exists("network_create", ["network", "exists", "--", name], options)) return { created: false };
      const args = [
        "network",
        "create",
        ...(options.internal === true ? ["--internal"] : []),
        ...(options.subnet === undefined ? [] : ["--subnet", options.subnet]),
        ...labels.flatMap((pair) => ["--label", pair]),
        "--",
        name,
      ];
      let result: ExecResult;
      try {
        result = await podman(args, callOptions(options));
      } catch (err) {
        // Lost a race with a concurrent job creating the same network.
        if (stderrMatches(err, /already exists|already used/i)) return { created: false };
        throw commandFailed(operation, err);
      }
      if (result.stdout.trim() !== name) throw new PodmanError("unexpected_output", operation, "unexpected answer");
      return { created: true };
    },

    async removeNetwork(name, options) {
      const operation = "network_remove";
      checkName(operation, name, "network name");
      try {
        // No --force: it would remove the containers attached to the network.
        await podman(["network", "rm", "--", name], callOptions(options));
      } catch (err) {
        if (stderrMatches(err, NO_SUCH_NETWORK)) return;
        if (stderrMatches(err, /being used|associated containers/i) || isExit(err, 2)) {
          throw new PodmanError("in_use", operation, "network in use", { cause: err, resource: "network" });
        }
        throw commandFailed(operation, err);
      }
    },
  };
}
