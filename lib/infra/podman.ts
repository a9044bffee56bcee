import { isIP } from "node:net";
import { homedir } from "node:os";
import { isAbsolute, normalize } from "node:path";
import { z } from "zod";
import { InfraError } from "./errors";
import { CommandError, type ExecOptions, type ExecResult, type Executor } from "./exec";

// Typed podman commands for the worker. Every value that reaches podman's command line is checked against a strict
// pattern first (docs/security.md: names come from UUIDs, never from display names), so a hostile value fails here with
// no side effect instead of being interpreted by podman as a flag, a path or a second name.

// ---------------------------------------------------------------------------------------------------------------
// Configuration and errors

export type PodmanConfig = {
  // Absolute, so a PATH entry cannot substitute another binary.
  podmanPath: string;
  // OCI runtime for tenant containers: "runsc", or a runtime registered in containers.conf such as "runsc-hostnet"
  // (docs/operations.md), or an absolute path.
  runtime: string;
  // Passed as `--runtime-flag` (without the leading dashes), e.g. ["network=host"].
  runtimeFlags?: readonly string[];
  // Runtime for RUN steps of builds, when podman build needs another spelling of it. Defaults to `runtime`.
  buildRuntime?: string;
  // podman's environment. Defaults to PATH and HOME only: the platform's environment holds its secrets, and podman
  // forwards variables such as HTTP_PROXY from its own environment into containers.
  env?: Readonly<Record<string, string>>;
  // Timeout for short commands (inspect, ps, rm, network ...). Builds take theirs per call.
  commandTimeoutMs?: number;
  // Cap on captured output per stream.
  maxOutputBytes?: number;
  // Size cap of each container's log file (k8s-file driver), so a chatty tenant cannot fill the disk. null: no flag.
  logMaxSizeMiB?: number | null;
};

export type PodmanErrorKind =
  | "invalid_argument"
  | "not_found"
  | "already_exists"
  | "in_use"
  | "unexpected_output"
  | "command_failed";

export type PodmanOperation =
  | "config"
  | "build"
  | "pull"
  | "run"
  | "inspect_container"
  | "inspect_image"
  | "list_containers"
  | "stop"
  | "remove"
  | "logs"
  | "stats"
  | "wait"
  | "image_remove"
  | "image_exists"
  | "network_create"
  | "network_exists"
  | "network_remove"
  | "version"
  | "info";

const USER_MESSAGES: Record<Exclude<PodmanErrorKind, "command_failed">, string> = {
  invalid_argument: "The request contained an invalid value.",
  not_found: "The requested resource does not exist.",
  already_exists: "The resource already exists.",
  in_use: "The resource is still in use.",
  unexpected_output: "The container engine gave an unexpected answer.",
};

function commandUserMessage(operation: PodmanOperation, cause: unknown): string {
  if (cause instanceof CommandError) {
    if (cause.kind === "timeout") return "The operation took too long and was stopped.";
    if (cause.kind === "aborted") return "The operation was cancelled.";
    if (cause.kind === "exit" && operation === "build") return "The build failed. See the build log for details.";
  }
  return "The container engine reported an error.";
}

// `userMessage` is safe to show to a tenant; `message` is for logs (see toUserMessage in ./exec).
export class PodmanError extends InfraError<PodmanErrorKind> {
  readonly operation: PodmanOperation;

  constructor(
    kind: PodmanErrorKind,
    operation: PodmanOperation,
    message: string,
    options: { cause?: unknown; retryable?: boolean } = {},
  ) {
    super(kind, `podman ${operation}: ${message}`, {
      cause: options.cause,
      retryable: options.retryable ?? false,
      userMessage: kind === "command_failed" ? commandUserMessage(operation, options.cause) : USER_MESSAGES[kind],
    });
    this.name = "PodmanError";
    this.operation = operation;
  }

  override toLog(): Record<string, unknown> {
    return {
      kind: this.kind,
      operation: this.operation,
      retryable: this.retryable,
      message: this.message,
      command: this.cause instanceof CommandError ? this.cause.toLog() : undefined,
    };
  }
}

function invalid(operation: PodmanOperation, what: string): PodmanError {
  // The offending value stays out of the message: it is hostile by assumption and may carry control characters.
  return new PodmanError("invalid_argument", operation, `invalid ${what}`);
}

// podman's own transient failures (storage lock contention, EAGAIN) that a later attempt can get past.
const TRANSIENT_STDERR = /database is locked|resource temporarily unavailable|timed out waiting for (?:the )?lock/i;

function commandFailed(operation: PodmanOperation, err: unknown): PodmanError {
  if (err instanceof PodmanError) return err;
  if (err instanceof CommandError) {
    const retryable = err.retryable || (err.kind === "exit" && TRANSIENT_STDERR.test(err.stderr));
    return new PodmanError("command_failed", operation, err.message, { cause: err, retryable });
  }
  return new PodmanError("command_failed", operation, "unexpected failure", { cause: err });
}

function stderrMatches(err: unknown, pattern: RegExp): err is CommandError {
  return err instanceof CommandError && err.kind === "exit" && pattern.test(err.stderr);
}

const NO_SUCH_CONTAINER = /no such container|no container with (?:name or id|id or name)|no such object/i;
const NO_SUCH_IMAGE = /image not known|no such image|no such object/i;
const NO_SUCH_NETWORK = /network not found|unable to find network|no such network/i;
const NAME_IN_USE = /is already in use|name is already in use|already exists/i;
const NOT_RUNNING = /container state improper|is not running|is stopped/i;

// ---------------------------------------------------------------------------------------------------------------
// Validation

// Deterministic names: "tsl-" + a UUID without dashes, then up to three short suffixes (release number, replica ...).
// 63 characters at most, so a name is also a valid DNS label / hostname.
const RESOURCE_NAME = /^tsl-[0-9a-f]{32}(?:-[0-9a-z]{1,12}){0,3}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TAG = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
// Images the platform builds: always under localhost/ with a UUID-derived name, so a build can never overwrite a
// base image or another tenant's image.
const TENANT_IMAGE = new RegExp(`^localhost/tsl-[0-9a-f]{32}(?:-[0-9a-z]{1,12}){0,3}:${TAG}$`);
// Any image reference (docker/distribution grammar, lowercase repository, optional tag and digest) or image ID.
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const DOMAIN = "[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::[0-9]{1,5})?";
const IMAGE_REF = new RegExp(
  `^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::${TAG})?(?:@sha256:[0-9a-f]{64})?$`,
);
const ENV_KEY = /^[A-Z_][A-Z0-9_]{0,127}$/;
const BUILD_ARG_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const PROCESS_TYPE = /^[a-z][a-z0-9_-]{0,29}$/;
const RUNTIME_NAME = /^(?:[A-Za-z0-9][A-Za-z0-9._-]{0,63}|\/[A-Za-z0-9._/-]{1,1023})$/;
const RUNTIME_FLAG = /^[a-z][a-z0-9-]{0,63}(?:=[A-Za-z0-9._:/,=+-]{0,1024})?$/;
const USER_SPEC = /^[0-9]{1,10}(?::[0-9]{1,10})?$/;
// Linux refuses a single argument of 128 KiB or more (MAX_ARG_STRLEN), counting the terminating NUL.
const MAX_ARG_BYTES = 128 * 1024 - 1;
const MAX_NAME_LENGTH = 63;
const MAX_IMAGE_REF_LENGTH = 255;

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;
const DEFAULT_RUN_TIMEOUT_MS = 120_000;
const DEFAULT_JSON_OUTPUT_BYTES = 16 * 1024 * 1024;
// Under runsc the pids limit also counts gVisor's own threads (46 idle; docs/operations.md): small limits crash it.
export const DEFAULT_PIDS_LIMIT = 2048;
const MIN_PIDS_LIMIT = 512;
const BUILD_PIDS_LIMIT = 2048;
const DEFAULT_TMP_SIZE_MIB = 64;
const DEFAULT_STOP_SECONDS = 10;
const DEFAULT_LOG_TAIL = 200;
const CPU_PERIOD_US = 100_000;

export function isResourceName(value: string): boolean {
  return value.length <= MAX_NAME_LENGTH && RESOURCE_NAME.test(value);
}

export function isImageRef(value: string): boolean {
  return value.length <= MAX_IMAGE_REF_LENGTH && IMAGE_REF.test(value);
}

export function isTenantImageRef(value: string): boolean {
  return value.length <= MAX_IMAGE_REF_LENGTH && TENANT_IMAGE.test(value);
}

// `tsl-<uuid hex>[-suffix...]` from a UUID: the only way names for podman objects should be made.
export function toResourceName(uuid: string, ...suffixes: readonly (string | number)[]): string {
  if (!UUID.test(uuid)) throw invalid("config", "UUID");
  const name = ["tsl", uuid.replaceAll("-", ""), ...suffixes.map(String)].join("-");
  if (!isResourceName(name)) throw invalid("config", "name suffix");
  return name;
}

function checkName(operation: PodmanOperation, value: string, what = "name"): string {
  if (!isResourceName(value)) throw invalid(operation, what);
  return value;
}

function checkImageRef(operation: PodmanOperation, value: string): string {
  if (!isImageRef(value)) throw invalid(operation, "image reference");
  return value;
}

function checkUuid(operation: PodmanOperation, value: string, what: string): string {
  if (!UUID.test(value)) throw invalid(operation, what);
  return value;
}

function checkAbsolutePath(operation: PodmanOperation, value: string, what: string): string {
  // normalize() === value also rules out "..", "." and doubled slashes; control characters never belong in our paths.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point.
  if (!isAbsolute(value) || normalize(value) !== value || /[\u0000-\u001f\u007f]/.test(value)) {
    throw invalid(operation, what);
  }
  return value;
}

function checkInteger(operation: PodmanOperation, value: number, min: number, max: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) throw invalid(operation, what);
  return value;
}

function checkCpus(operation: PodmanOperation, value: number): number {
  if (!Number.isFinite(value) || value < 0.01 || value > 512) throw invalid(operation, "CPU limit");
  return Math.round(value * 1000) / 1000;
}

function checkKeyValue(operation: PodmanOperation, key: string, value: string, keyPattern: RegExp, what: string) {
  if (!keyPattern.test(key)) throw invalid(operation, `${what} name`);
  const pair = `${key}=${value}`;
  if (value.includes("\0") || Buffer.byteLength(pair) > MAX_ARG_BYTES) throw invalid(operation, `${what} value`);
  return pair;
}

// ---------------------------------------------------------------------------------------------------------------
// Labels

export const LABEL_MANAGED = "tussilago.managed";
export const LABEL_TEAM = "tussilago.team";
export const LABEL_APP = "tussilago.app";
export const LABEL_DEPLOYMENT = "tussilago.deployment";
export const LABEL_PROCESS = "tussilago.process";

export type ResourceLabels = { team: string; app: string; deployment: string; process?: string };

export type ContainerFilter = { team?: string; app?: string; deployment?: string; process?: string };

function labelPairs(operation: PodmanOperation, labels: ContainerFilter): string[] {
  const pairs = [`${LABEL_MANAGED}=true`];
  if (labels.team !== undefined) pairs.push(`${LABEL_TEAM}=${checkUuid(operation, labels.team, "team label")}`);
  if (labels.app !== undefined) pairs.push(`${LABEL_APP}=${checkUuid(operation, labels.app, "app label")}`);
  if (labels.deployment !== undefined) {
    pairs.push(`${LABEL_DEPLOYMENT}=${checkUuid(operation, labels.deployment, "deployment label")}`);
  }
  if (labels.process !== undefined) {
    if (!PROCESS_TYPE.test(labels.process)) throw invalid(operation, "process label");
    pairs.push(`${LABEL_PROCESS}=${labels.process}`);
  }
  return pairs;
}

// ---------------------------------------------------------------------------------------------------------------
// Output schemas. Podman's JSON carries far more; only what the platform reads is declared (zod drops the rest).

const labelsSchema = z.record(z.string(), z.string()).nullish();

const portMappingSchema = z.object({
  host_ip: z.string().optional(),
  container_port: z.number().int(),
  host_port: z.number().int(),
  range: z.number().int().optional(),
  protocol: z.string().optional(),
});

const psSchema = z.array(
  z.object({
    Id: z.string().regex(/^[0-9a-f]{64}$/),
    Names: z.array(z.string()).min(1),
    Image: z.string(),
    ImageID: z.string().optional(),
    State: z.string(),
    Status: z.string().optional(),
    Labels: labelsSchema,
    Created: z.union([z.string(), z.number()]).optional(),
    ExitCode: z.number().int().optional(),
    Ports: z.array(portMappingSchema).nullish(),
  }),
);

const containerInspectSchema = z
  .array(
    z.object({
      Id: z.string().regex(/^[0-9a-f]{64}$/),
      Name: z.string(),
      Created: z.string().optional(),
      Image: z.string(),
      ImageName: z.string().optional(),
      State: z.object({
        Status: z.string(),
        Running: z.boolean(),
        ExitCode: z.number().int(),
        OOMKilled: z.boolean().optional(),
        StartedAt: z.string().optional(),
        FinishedAt: z.string().optional(),
      }),
      Config: z.object({ Labels: labelsSchema }).optional(),
      NetworkSettings: z
        .object({
          Ports: z
            .record(z.string(), z.array(z.object({ HostIp: z.string(), HostPort: z.string() })).nullable())
            .nullish(),
        })
        .optional(),
    }),
  )
  .length(1);

const imageInspectSchema = z
  .array(
    z.object({
      Id: z.string().regex(/^[0-9a-f]{64}$/),
      Digest: z.string().optional(),
      RepoTags: z.array(z.string()).nullish(),
      Created: z.string().optional(),
      Size: z.number().optional(),
      Labels: labelsSchema,
      Config: z
        .object({
          User: z.string().optional(),
          ExposedPorts: z.record(z.string(), z.unknown()).nullish(),
          OnBuild: z.array(z.string()).nullish(),
        })
        .optional(),
    }),
  )
  .length(1);

const statsSchema = z.array(
  z.object({
    id: z.string(),
    name: z.string(),
    cpu_percent: z.string().optional(),
    mem_usage: z.string().optional(),
    mem_percent: z.string().optional(),
    net_io: z.string().optional(),
    block_io: z.string().optional(),
    pids: z.string().optional(),
  }),
);

const versionSchema = z.object({
  Client: z.object({ Version: z.string(), APIVersion: z.string().optional(), OsArch: z.string().optional() }),
  Server: z.object({ Version: z.string() }).optional(),
});

const infoSchema = z.object({
  host: z.object({
    arch: z.string(),
    os: z.string().optional(),
    kernel: z.string().optional(),
    cgroupVersion: z.string().optional(),
    cgroupManager: z.string().optional(),
    ociRuntime: z.object({ name: z.string(), path: z.string().optional(), version: z.string().optional() }).optional(),
    security: z.object({ rootless: z.boolean() }).optional(),
  }),
  store: z.object({ graphDriverName: z.string().optional() }).optional(),
  version: z.object({ Version: z.string() }).optional(),
});

function parseJson<T>(operation: PodmanOperation, schema: z.ZodType<T>, stdout: string): T {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    throw new PodmanError("unexpected_output", operation, "output is not JSON");
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    // Paths of the failing fields only: values may be tenant data (labels, log lines).
    const fields = parsed.error.issues.map((issue) => issue.path.join(".") || "(root)").slice(0, 5);
    throw new PodmanError("unexpected_output", operation, `unexpected JSON shape at ${fields.join(", ")}`);
  }
  return parsed.data;
}

// ---------------------------------------------------------------------------------------------------------------
// Public types

export type PortBinding = { containerPort: number; protocol: string; hostIp: string; hostPort: number };

export type ContainerSummary = {
  id: string;
  name: string;
  image: string;
  imageId: string | null;
  state: string;
  status: string | null;
  labels: Record<string, string>;
  created: string | null;
  exitCode: number | null;
  ports: PortBinding[];
};

export type ContainerDetails = {
  id: string;
  name: string;
  imageId: string;
  imageName: string | null;
  status: string;
  running: boolean;
  exitCode: number;
  oomKilled: boolean;
  startedAt: string | null;
  finishedAt: string | null;
  labels: Record<string, string>;
  ports: PortBinding[];
};

export type ImageDetails = {
  id: string;
  digest: string | null;
  tags: string[];
  created: string | null;
  sizeBytes: number | null;
  labels: Record<string, string>;
  user: string | null;
  exposedPorts: string[];
  // ONBUILD triggers in the image's config: instructions a build FROM this image would run.
  onBuild: string[];
};

export type ContainerStats = {
  id: string;
  name: string;
  // podman renders these as human-readable strings ("56.3MB / 536.9MB"); the numbers are parsed back, approximate.
  cpuPercent: number | null;
  memoryUsageBytes: number | null;
  memoryLimitBytes: number | null;
  memoryPercent: number | null;
  pids: number | null;
  netIO: string | null;
  blockIO: string | null;
};

export type PodmanVersion = { client: string; apiVersion: string | null; osArch: string | null; server: string | null };

export type PodmanInfo = {
  version: string | null;
  arch: string;
  os: string | null;
  kernel: string | null;
  cgroupVersion: string | null;
  cgroupManager: string | null;
  ociRuntime: { name: string; path: string | null; version: string | null } | null;
  rootless: boolean | null;
  storageDriver: string | null;
};

type CallOptions = { signal?: AbortSignal; timeoutMs?: number };

export type PullPolicy = "always" | "missing" | "never" | "newer";

export type BuildOptions = CallOptions & {
  contextDir: string;
  containerfile: string;
  // localhost/tsl-<hex>...:<tag>
  tag: string;
  labels: ResourceLabels;
  buildArgs?: Readonly<Record<string, string>>;
  memoryMiB: number;
  cpus: number;
  // Processes (threads) of a build step, as RLIMIT_NPROC: podman 4.3 build has no --pids-limit. At least 2048, since
  // under gVisor the sandbox's own threads count too.
  pidsLimit?: number;
  timeoutMs: number;
  pull?: PullPolicy;
  noCache?: boolean;
  // Network of RUN steps; never "host".
  network?: "none" | "private";
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
};

export type RunOptions = CallOptions & {
  name: string;
  image: string;
  network: string;
  labels: ResourceLabels;
  env?: Readonly<Record<string, string>>;
  // Container port published on 127.0.0.1 with a host port podman picks; Caddy proxies to it.
  port?: number;
  memoryMiB: number;
  cpus: number;
  pidsLimit?: number;
  tmpSizeMiB?: number;
  // uid[:gid]; the image's USER otherwise.
  user?: string;
  // Arguments after the image (e.g. a release command). Passed as argv to the container, never through a shell.
  command?: readonly string[];
};

export type StopOptions = CallOptions & { timeoutSeconds?: number };
export type LogsOptions = CallOptions & { tail?: number; since?: Date; timestamps?: boolean };
export type NetworkOptions = CallOptions & { internal?: boolean; subnet?: string; team?: string };

export type Podman = {
  build(options: BuildOptions): Promise<{ imageId: string }>;
  pull(ref: string, options: CallOptions & { timeoutMs: number }): Promise<void>;
  run(options: RunOptions): Promise<{ id: string }>;
  inspectContainer(name: string, options?: CallOptions): Promise<ContainerDetails | null>;
  inspectImage(ref: string, options?: CallOptions): Promise<ImageDetails | null>;
  listContainers(filter?: ContainerFilter, options?: CallOptions): Promise<ContainerSummary[]>;
  stop(name: string, options?: StopOptions): Promise<void>;
  remove(name: string, options?: CallOptions): Promise<void>;
  logs(name: string, options?: LogsOptions): Promise<{ stdout: string; stderr: string } | null>;
  stats(name: string, options?: CallOptions): Promise<ContainerStats | null>;
  wait(name: string, options: CallOptions & { timeoutMs: number }): Promise<number>;
  removeImage(ref: string, options?: CallOptions): Promise<void>;
  imageExists(ref: string, options?: CallOptions): Promise<boolean>;
  networkExists(name: string, options?: CallOptions): Promise<boolean>;
  createNetwork(name: string, options?: NetworkOptions): Promise<{ created: boolean }>;
  removeNetwork(name: string, options?: CallOptions): Promise<void>;
  version(options?: CallOptions): Promise<PodmanVersion>;
  info(options?: CallOptions): Promise<PodmanInfo>;
};

// ---------------------------------------------------------------------------------------------------------------
// Output helpers

function portsFromInspect(ports: Record<string, { HostIp: string; HostPort: string }[] | null> | null | undefined) {
  const result: PortBinding[] = [];
  for (const [key, bindings] of Object.entries(ports ?? {})) {
    const match = /^(\d{1,5})\/([a-z]+)$/.exec(key);
    if (match === null || bindings === null) continue;
    for (const binding of bindings) {
      const hostPort = Number(binding.HostPort);
      if (!Number.isInteger(hostPort) || hostPort <= 0) continue;
      result.push({ containerPort: Number(match[1]), protocol: match[2] ?? "tcp", hostIp: binding.HostIp, hostPort });
    }
  }
  return result;
}

function portsFromPs(ports: z.infer<typeof portMappingSchema>[] | null | undefined): PortBinding[] {
  const result: PortBinding[] = [];
  for (const port of ports ?? []) {
    // A mapping may cover a range of ports; expand it so callers see one entry per port.
    const range = Math.max(1, port.range ?? 1);
    for (let i = 0; i < range; i += 1) {
      result.push({
        containerPort: port.container_port + i,
        protocol: port.protocol ?? "tcp",
        hostIp: port.host_ip ?? "",
        hostPort: port.host_port + i,
      });
    }
  }
  return result;
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

function parseSize(text: string | undefined): number | null {
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]+)\s*$/.exec(text ?? "");
  if (match === null) return null;
  const unit = SIZE_UNITS[(match[2] ?? "").toLowerCase()];
  return unit === undefined ? null : Math.round(Number(match[1]) * unit);
}

function parsePercent(text: string | undefined): number | null {
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*%\s*$/.exec(text ?? "");
  return match === null ? null : Number(match[1]);
}

function parseCount(text: string | undefined): number | null {
  return text !== undefined && /^\s*[0-9]+\s*$/.test(text) ? Number(text) : null;
}

// ---------------------------------------------------------------------------------------------------------------
// The adapter

export function createPodman(exec: Executor, config: PodmanConfig): Podman {
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

  // For machine-readable answers a truncated document is worthless: fail instead of keeping a tail.
  const json = (args: readonly string[], options: CallOptions & Partial<ExecOptions> = {}) =>
    podman(args, { maxOutputBytes: jsonOutputBytes, onOutputLimit: "fail", ...options });

  const callOptions = (options: CallOptions | undefined): CallOptions => ({
    signal: options?.signal,
    timeoutMs: options?.timeoutMs,
  });

  async function inspectImage(ref: string, options?: CallOptions): Promise<ImageDetails | null> {
    checkImageRef("inspect_image", ref);
    let result: ExecResult;
    try {
      result = await json(["image", "inspect", "--", ref], callOptions(options));
    } catch (err) {
      if (stderrMatches(err, NO_SUCH_IMAGE)) return null;
      throw commandFailed("inspect_image", err);
    }
    const [image] = parseJson("inspect_image", imageInspectSchema, result.stdout);
    if (image === undefined) throw new PodmanError("unexpected_output", "inspect_image", "empty answer");
    return {
      id: image.Id,
      digest: image.Digest ?? null,
      tags: image.RepoTags ?? [],
      created: image.Created ?? null,
      sizeBytes: image.Size ?? null,
      labels: image.Labels ?? {},
      user: image.Config?.User || null,
      exposedPorts: Object.keys(image.Config?.ExposedPorts ?? {}).sort(),
      onBuild: image.Config?.OnBuild ?? [],
    };
  }

  async function exists(operation: PodmanOperation, args: readonly string[], options?: CallOptions) {
    let result: ExecResult;
    try {
      result = await podman(args, { ...callOptions(options), okExitCodes: [0, 1] });
    } catch (err) {
      throw commandFailed(operation, err);
    }
    return result.exitCode === 0;
  }

  return {
    async build(options) {
      const operation = "build";
      const contextDir = checkAbsolutePath(operation, options.contextDir, "context directory");
      const containerfile = checkAbsolutePath(operation, options.containerfile, "containerfile path");
      if (!isTenantImageRef(options.tag)) throw invalid(operation, "image tag");
      const memory = `${checkInteger(operation, options.memoryMiB, 64, 1024 * 1024, "memory limit")}m`;
      const cpuQuota = Math.round(checkCpus(operation, options.cpus) * CPU_PERIOD_US);
      const nproc = checkInteger(operation, options.pidsLimit ?? BUILD_PIDS_LIMIT, BUILD_PIDS_LIMIT, 1 << 22, "pids");
      const labels = labelPairs(operation, options.labels);
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
        // The only process bound podman 4.3 build takes: an rlimit per user inside the build sandbox (gVisor enforces
        // RLIMIT_NPROC), not a cgroup over the whole build.
        "--ulimit",
        `nproc=${nproc}:${nproc}`,
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
          throw new PodmanError("already_exists", operation, "container name in use", { cause: err });
        }
        if (stderrMatches(err, NO_SUCH_IMAGE)) {
          throw new PodmanError("not_found", operation, "image not found", { cause: err });
        }
        if (stderrMatches(err, NO_SUCH_NETWORK)) {
          throw new PodmanError("not_found", operation, "network not found", { cause: err });
        }
        throw commandFailed(operation, err);
      }
      const id = result.stdout.trim();
      if (!/^[0-9a-f]{64}$/.test(id)) throw new PodmanError("unexpected_output", operation, "no container ID");
      return { id };
    },

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

    inspectImage,

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
          throw new PodmanError("not_found", operation, "no such container", { cause: err });
        }
        throw commandFailed(operation, err);
      }
      const code = result.stdout.trim();
      if (!/^-?[0-9]{1,10}$/.test(code)) throw new PodmanError("unexpected_output", operation, "no exit code");
      return Number(code);
    },

    async removeImage(ref, options) {
      const operation = "image_remove";
      checkImageRef(operation, ref);
      try {
        // No --force: it would also remove the containers using the image, e.g. the release still serving.
        await podman(["image", "rm", "--", ref], callOptions(options));
      } catch (err) {
        if (stderrMatches(err, NO_SUCH_IMAGE)) return;
        if (stderrMatches(err, /image is in use|image used by|being used/i) || isExit(err, 2)) {
          throw new PodmanError("in_use", operation, "image in use", { cause: err });
        }
        throw commandFailed(operation, err);
      }
    },

    async imageExists(ref, options) {
      return exists("image_exists", ["image", "exists", "--", checkImageRef("image_exists", ref)], options);
    },

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
          throw new PodmanError("in_use", operation, "network in use", { cause: err });
        }
        throw commandFailed(operation, err);
      }
    },

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
  };
}

function isExit(err: unknown, code: number): boolean {
  return err instanceof CommandError && err.kind === "exit" && err.exitCode === code;
}

function isSubnet(value: string): boolean {
  const match = /^([0-9a-fA-F:.]+)\/([0-9]{1,3})$/.exec(value);
  if (match === null) return false;
  const family = isIP(match[1] ?? "");
  const bits = Number(match[2]);
  return (family === 4 && bits <= 32) || (family === 6 && bits <= 128);
}
