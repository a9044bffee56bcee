import type {
  BuildOptions,
  ContainerDetails,
  ContainerFilter,
  ContainerStats,
  ContainerSummary,
  ImageDetails,
  LogsOptions,
  NetworkOptions,
  Podman,
  PodmanErrorKind,
  ResourceStats,
  RunOptions,
  StopOptions,
} from "./podman";

// The seam for more than one host (docs/scaling.md): what the engine needs from "a place that runs containers".
// Today the only implementation is the podman on this host (podmanHost below); a Kubernetes implementation would
// map the same calls onto Deployments/Pods, Services and NetworkPolicies.
//
// The method shapes are the ones the engine calls on Podman today (lib/engine/release, reconcile.ts, app-logs.ts),
// so switching a dependency from `Podman` to `ContainerHost` changes no call site. Names are `tsl-<hex>` resource
// names (toResourceName) and labels carry team, app and deployment UUIDs on every implementation.
//
// Failures are InfraErrors (lib/infra/errors.ts) whose `kind` is one of ContainerHostErrorKind: the engine branches
// on "already_exists" (a replica a retry already started), "not_found" (an image gone from the host) and "in_use"
// (an image a container still uses), never on an implementation's class or wording.
//
// Builds are not part of the host: building runs tenant code under its own limits and produces an image that any
// host must then be able to get (a local image store today, a registry with several hosts). That is ImageBuilder.

type CallOptions = { signal?: AbortSignal; timeoutMs?: number };

export type ContainerHostErrorKind = PodmanErrorKind;

/** The hardened spec of one replica (docs/security.md, "Containers"); the implementation adds the sandbox. */
export type ReplicaSpec = RunOptions;

export type ContainerHost = {
  // Networks: one per team, the boundary between teams' containers. `created` false when it already existed.
  createNetwork(name: string, options?: NetworkOptions): Promise<{ created: boolean }>;
  networkExists(name: string, options?: CallOptions): Promise<boolean>;
  // "in_use" while containers are still attached; a missing network counts as removed.
  removeNetwork(name: string, options?: CallOptions): Promise<void>;

  // Replicas. `run` throws "already_exists" when the name is taken and "not_found" when the image or network is
  // missing (PodmanError.resource says which); stop and remove treat a missing container as done (retried jobs,
  // reconcile).
  run(spec: ReplicaSpec): Promise<{ id: string }>;
  stop(name: string, options?: StopOptions): Promise<void>;
  // The same container again after it exited (crash handling): same name, config and published ports.
  start(name: string, options?: CallOptions): Promise<void>;
  remove(name: string, options?: CallOptions): Promise<void>;
  // Every platform container (label tussilago.managed) matching the filter, whatever its state. `ports` are the
  // addresses the router dials: 127.0.0.1 and a host port here.
  listContainers(filter?: ContainerFilter, options?: CallOptions): Promise<ContainerSummary[]>;
  // null when there is no such container.
  inspectContainer(name: string, options?: CallOptions): Promise<ContainerDetails | null>;
  // The exit code of a container that runs to completion (the release command).
  wait(name: string, options: CallOptions & { timeoutMs: number }): Promise<number>;

  // Observation: null when the container is gone (stats also when it is not running).
  stats(name: string, options?: CallOptions): Promise<ContainerStats | null>;
  // Every running container in one call (the metrics sampler): never one call per container.
  statsAll(options?: CallOptions): Promise<ResourceStats[]>;
  logs(name: string, options?: LogsOptions): Promise<{ stdout: string; stderr: string } | null>;

  // Images as the host holds them: whether a release's image can still start here, and pruning old ones ("in_use"
  // while a container uses it).
  imageExists(ref: string, options?: CallOptions): Promise<boolean>;
  removeImage(ref: string, options?: CallOptions): Promise<void>;
};

/** Builds tenant images and vets their base images (lib/build). Separate from the host: see the header. */
export type ImageBuilder = {
  build(options: BuildOptions): Promise<{ imageId: string }>;
  pull(ref: string, options: CallOptions & { timeoutMs: number }): Promise<void>;
  inspectImage(ref: string, options?: CallOptions): Promise<ImageDetails | null>;
};

/** This host's podman as a ContainerHost: the same functions, nothing else reachable through it. */
export function podmanHost(podman: Podman): ContainerHost {
  return {
    createNetwork: podman.createNetwork,
    networkExists: podman.networkExists,
    removeNetwork: podman.removeNetwork,
    run: podman.run,
    stop: podman.stop,
    start: podman.start,
    remove: podman.remove,
    listContainers: podman.listContainers,
    inspectContainer: podman.inspectContainer,
    wait: podman.wait,
    stats: podman.stats,
    statsAll: podman.statsAll,
    logs: podman.logs,
    imageExists: podman.imageExists,
    removeImage: podman.removeImage,
  };
}

/** This host's podman as the builder: builds land in the same local image store the host runs from. */
export function podmanBuilder(podman: Podman): ImageBuilder {
  return { build: podman.build, pull: podman.pull, inspectImage: podman.inspectImage };
}

// Type-level proof that Podman is a drop-in for both: code typed against ContainerHost or ImageBuilder accepts the
// Podman the engine holds today, so the rewiring is a change of types only.
type Satisfies<T extends U, U> = T;
export type PodmanIsContainerHost = Satisfies<Podman, ContainerHost>;
export type PodmanIsImageBuilder = Satisfies<Podman, ImageBuilder>;
