// The adapter's public types: its configuration, what it answers and the options of each command.

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

export type ResourceLabels = { team: string; app: string; deployment: string; process?: string };

export type ImageLabels = { team: string; app: string };

export type ContainerFilter = { team?: string; app?: string; deployment?: string; process?: string };

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

/** One running container's figures from the all-containers `podman stats` (stats.ts); unknown figures are 0. */
export type ResourceStats = {
  name: string;
  /** podman's CPU %: 100 is one host CPU, so a container using two CPUs shows 200. */
  cpuPercent: number;
  memoryUsageBytes: number;
  memoryLimitBytes: number;
  /** Counters since the container started. */
  netInBytes: number;
  netOutBytes: number;
  blockInBytes: number;
  blockOutBytes: number;
  pids: number;
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

/** One row of `podman system df`: how many, how many in use, bytes on disk and bytes a prune could free. */
export type DiskUsageRow = { total: number; active: number; bytes: number; reclaimableBytes: number };
export type PodmanDiskUsage = {
  images: DiskUsageRow | null;
  containers: DiskUsageRow | null;
  volumes: DiskUsageRow | null;
};

export type CallOptions = { signal?: AbortSignal; timeoutMs?: number };

export type PullPolicy = "always" | "missing" | "never" | "newer";

export type BuildOptions = CallOptions & {
  contextDir: string;
  containerfile: string;
  // localhost/tsl-<hex>...:<tag>
  tag: string;
  // Only what is the same for every build of the app: a per-deployment label would change the image's last layer
  // on every build, so no build could reuse another's image (containers get theirs at `podman run`).
  labels: ImageLabels;
  buildArgs?: Readonly<Record<string, string>>;
  memoryMiB: number;
  cpus: number;
  // Processes (threads) of a build step, as RLIMIT_NPROC: podman 4.3 build has no --pids-limit. At least 2048, since
  // under gVisor the sandbox's own threads count too. It does not bind a step running as root: see cgroupParent.
  pidsLimit?: number;
  // A cgroup (lib/infra/build-cgroup.ts) whose pids.max bounds every RUN step's sandbox: the real process bound.
  cgroupParent?: string;
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
  // Starts an existing, exited container again with the configuration it was created with (ports included).
  start(name: string, options?: CallOptions): Promise<void>;
  remove(name: string, options?: CallOptions): Promise<void>;
  logs(name: string, options?: LogsOptions): Promise<{ stdout: string; stderr: string } | null>;
  stats(name: string, options?: CallOptions): Promise<ContainerStats | null>;
  // Every running container at once (any container on the host: callers keep the names they know).
  statsAll(options?: CallOptions): Promise<ResourceStats[]>;
  wait(name: string, options: CallOptions & { timeoutMs: number }): Promise<number>;
  removeImage(ref: string, options?: CallOptions): Promise<void>;
  imageExists(ref: string, options?: CallOptions): Promise<boolean>;
  networkExists(name: string, options?: CallOptions): Promise<boolean>;
  createNetwork(name: string, options?: NetworkOptions): Promise<{ created: boolean }>;
  removeNetwork(name: string, options?: CallOptions): Promise<void>;
  version(options?: CallOptions): Promise<PodmanVersion>;
  info(options?: CallOptions): Promise<PodmanInfo>;
  /** `podman system df`: disk use of images, containers and volumes (the instance admin's usage view). */
  systemDf(options?: CallOptions): Promise<PodmanDiskUsage>;
};
