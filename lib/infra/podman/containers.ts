import type { ExecResult } from "../exec";
import { checkInteger, checkName, DEFAULT_LOG_TAIL, DEFAULT_STOP_SECONDS, labelPairs } from "./args";
import { callOptions, type PodmanContext } from "./context";
import { commandFailed, invalid, NO_SUCH_CONTAINER, NOT_RUNNING, PodmanError, stderrMatches } from "./errors";
import {
  containerInspectSchema,
  parseCount,
  parseJson,
  parsePercent,
  parseSize,
  portsFromInspect,
  portsFromPs,
  psSchema,
  statsSchema,
} from "./parse";
import type { Podman } from "./types";

// The life of a container after `run`: inspect, list by labels, stop, remove, logs, stats, wait.
export function containerCommands(
  ctx: PodmanContext,
): Pick<Podman, "inspectContainer" | "listContainers" | "stop" | "start" | "remove" | "logs" | "stats" | "wait"> {
  const { config, podman, json } = ctx;
  return {
    async inspectContainer(name, options) {
      const operation = "inspect_container";
      checkName(operation, name, "container name");
      let result: ExecResult;
      try {
        result = await json(["container", "inspect", "--", name], callOptions(options));
      } catch (err) {
        if (stderrMatches(err, NO_SUCH_CONTAINER)) return null;
        throw commandFailed(operation, err);
      }
      const [container] = parseJson(operation, containerInspectSchema, result.stdout);
      if (container === undefined) throw new PodmanError("unexpected_output", operation, "empty answer");
      return {
        id: container.Id,
        name: container.Name,
        imageId: container.Image,
        imageName: container.ImageName ?? null,
        status: container.State.Status,
        running: container.State.Running,
        exitCode: container.State.ExitCode,
        oomKilled: container.State.OOMKilled ?? false,
        startedAt: container.State.StartedAt ?? null,
        finishedAt: container.State.FinishedAt ?? null,
        labels: container.Config?.Labels ?? {},
        ports: portsFromInspect(container.NetworkSettings?.Ports),
      };
    },

    async listContainers(filter = {}, options) {
      const operation = "list_containers";
      // Always scoped to the platform's own containers, whatever else runs on the host.
      const filters = labelPairs(operation, filter).flatMap((pair) => ["--filter", `label=${pair}`]);
      let result: ExecResult;
      try {
        result = await json(["ps", "--all", "--format", "json", ...filters], callOptions(options));
      } catch (err) {
        throw commandFailed(operation, err);
      }
      // Older podman prints nothing at all when no container matches.
      const stdout = result.stdout.trim() === "" ? "[]" : result.stdout;
      return parseJson(operation, psSchema, stdout).map((c) => ({
        id: c.Id,
        name: c.Names[0] ?? "",
        image: c.Image,
        imageId: c.ImageID ?? null,
        state: c.State,
        status: c.Status ?? null,
        labels: c.Labels ?? {},
        created: c.Created === undefined ? null : String(c.Created),
        exitCode: c.ExitCode ?? null,
        ports: portsFromPs(c.Ports),
      }));
    },

    async stop(name, options = {}) {
      const operation = "stop";
      checkName(operation, name, "container name");
      const seconds = checkInteger(operation, options.timeoutSeconds ?? DEFAULT_STOP_SECONDS, 0, 3600, "stop timeout");
      try {
        // --ignore: a container that is already gone counts as stopped (retried jobs, reconcile).
        await podman(["stop", "--ignore", "--time", String(seconds), "--", name], {
          signal: options.signal,
          timeoutMs: options.timeoutMs ?? (seconds + 30) * 1000,
        });
      } catch (err) {
        if (stderrMatches(err, NO_SUCH_CONTAINER)) return;
        throw commandFailed(operation, err);
      }
    },

    async start(name, options) {
      const operation = "start";
      checkName(operation, name, "container name");
      try {
        await podman(["start", "--", name], callOptions(options));
      } catch (err) {
        throw commandFailed(operation, err);
      }
    },

    async remove(name, options) {
      const operation = "remove";
      checkName(operation, name, "container name");
      try {
        await podman(["rm", "--force", "--ignore", "--", name], callOptions(options));
      } catch (err) {
        if (stderrMatches(err, NO_SUCH_CONTAINER)) return;
        throw commandFailed(operation, err);
      }
    },

    async logs(name, options = {}) {
      const operation = "logs";
      checkName(operation, name, "container name");
      const tail = checkInteger(operation, options.tail ?? DEFAULT_LOG_TAIL, 0, 1_000_000, "tail");
      const args = ["logs", "--tail", String(tail)];
      if (options.since !== undefined) {
        if (Number.isNaN(options.since.getTime())) throw invalid(operation, "since");
        args.push("--since", options.since.toISOString());
      }
      if (options.timestamps === true) args.push("--timestamps");
      args.push("--", name);
      try {
        // Log lines are tenant output: keep the most recent ones if there are too many.
        const result = await podman(args, { ...callOptions(options), maxOutputBytes: config.maxOutputBytes });
        return { stdout: result.stdout, stderr: result.stderr };
      } catch (err) {
        if (stderrMatches(err, NO_SUCH_CONTAINER)) return null;
        throw commandFailed(operation, err);
      }
    },

    async stats(name, options) {
      const operation = "stats";
      checkName(operation, name, "container name");
      let result: ExecResult;
      try {
        result = await json(["stats", "--no-stream", "--format", "json", "--", name], callOptions(options));
      } catch (err) {
        if (stderrMatches(err, NO_SUCH_CONTAINER) || stderrMatches(err, NOT_RUNNING)) return null;
        throw commandFailed(operation, err);
      }
      const [entry] = parseJson(operation, statsSchema, result.stdout);
      if (entry === undefined) return null;
      const [usage, limit] = (entry.mem_usage ?? "").split("/");
      return {
        id: entry.id,
        name: entry.name,
        cpuPercent: parsePercent(entry.cpu_percent),
        memoryUsageBytes: parseSize(usage),
        memoryLimitBytes: parseSize(limit),
        memoryPercent: parsePercent(entry.mem_percent),
        pids: parseCount(entry.pids),
        netIO: entry.net_io ?? null,
        blockIO: entry.block_io ?? null,
      };
    },

    async wait(name, options) {
      const operation = "wait";
      checkName(operation, name, "container name");
      let result: ExecResult;
      try {
        result = await podman(["wait", "--", name], callOptions(options));
      } catch (err) {
        if (stderrMatches(err, NO_SUCH_CONTAINER)) {
          throw new PodmanError("not_found", operation, "no such container", { cause: err, resource: "container" });
        }
        throw commandFailed(operation, err);
      }
      const code = result.stdout.trim();
      if (!/^-?[0-9]{1,10}$/.test(code)) throw new PodmanError("unexpected_output", operation, "no exit code");
      return Number(code);
    },
  };
}
