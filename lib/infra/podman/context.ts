import { homedir } from "node:os";
import type { ExecOptions, ExecResult, Executor } from "../exec";
import {
  checkAbsolutePath,
  checkInteger,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_JSON_OUTPUT_BYTES,
  DEFAULT_PATH,
  RUNTIME_FLAG,
  RUNTIME_NAME,
} from "./args";
import { commandFailed, invalid, type PodmanOperation } from "./errors";
import type { CallOptions, PodmanConfig } from "./types";

// What every command module shares: the checked configuration and the one way to run podman (the Executor, podman's
// own environment, the default timeout).
export type PodmanContext = {
  config: PodmanConfig;
  buildRuntime: string;
  runtimeFlagArgs: string[];
  logMaxSizeMiB: number | null;
  podman(args: readonly string[], options: Partial<ExecOptions> & CallOptions): Promise<ExecResult>;
  // For machine-readable answers a truncated document is worthless: fail instead of keeping a tail.
  json(args: readonly string[], options?: CallOptions & Partial<ExecOptions>): Promise<ExecResult>;
  // `podman ... exists` answers with its exit code: 0 yes, 1 no.
  exists(operation: PodmanOperation, args: readonly string[], options?: CallOptions): Promise<boolean>;
};

export const callOptions = (options: CallOptions | undefined): CallOptions => ({
  signal: options?.signal,
  timeoutMs: options?.timeoutMs,
});

export function createContext(exec: Executor, config: PodmanConfig): PodmanContext {
  const podmanPath = checkAbsolutePath("config", config.podmanPath, "podman path");
  if (!RUNTIME_NAME.test(config.runtime)) throw invalid("config", "runtime");
  const buildRuntime = config.buildRuntime ?? config.runtime;
  if (!RUNTIME_NAME.test(buildRuntime)) throw invalid("config", "build runtime");
  const runtimeFlags = [...(config.runtimeFlags ?? [])];
  for (const flag of runtimeFlags) if (!RUNTIME_FLAG.test(flag)) throw invalid("config", "runtime flag");
  const runtimeFlagArgs = runtimeFlags.flatMap((flag) => ["--runtime-flag", flag]);
  const env: Record<string, string> = { ...(config.env ?? { PATH: DEFAULT_PATH, HOME: homedir() }) };
  const commandTimeoutMs = config.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const jsonOutputBytes = config.maxOutputBytes ?? DEFAULT_JSON_OUTPUT_BYTES;
  const logMaxSizeMiB = config.logMaxSizeMiB === undefined ? 10 : config.logMaxSizeMiB;
  if (logMaxSizeMiB !== null) checkInteger("config", logMaxSizeMiB, 1, 1024 * 1024, "log size");

  const podman = (args: readonly string[], options: Partial<ExecOptions> & CallOptions): Promise<ExecResult> =>
    exec(podmanPath, args, { ...options, env, timeoutMs: options.timeoutMs ?? commandTimeoutMs });

  const json = (args: readonly string[], options: CallOptions & Partial<ExecOptions> = {}) =>
    podman(args, { maxOutputBytes: jsonOutputBytes, onOutputLimit: "fail", ...options });

  async function exists(operation: PodmanOperation, args: readonly string[], options?: CallOptions) {
    let result: ExecResult;
    try {
      result = await podman(args, { ...callOptions(options), okExitCodes: [0, 1] });
    } catch (err) {
      throw commandFailed(operation, err);
    }
    return result.exitCode === 0;
  }

  return { config, buildRuntime, runtimeFlagArgs, logMaxSizeMiB, podman, json, exists };
}
