import type { Executor } from "../exec";
import { buildCommands } from "./build";
import { containerCommands } from "./containers";
import { createContext } from "./context";
import { imageCommands } from "./images";
import { networkCommands } from "./network";
import { runCommand } from "./run";
import { statsCommands } from "./stats";
import { systemCommands } from "./system";
import type { Podman, PodmanConfig } from "./types";

// Typed podman commands for the worker. Every value that reaches podman's command line is checked against a strict
// pattern first (docs/security.md: names come from UUIDs, never from display names), so a hostile value fails here with
// no side effect instead of being interpreted by podman as a flag, a path or a second name.
//
// The adapter's public face: importers use "@/lib/infra/podman" and never the files behind it. By concern:
// args.ts (validation of every value, names, labels), errors.ts (PodmanError), parse.ts (podman's JSON), types.ts,
// context.ts (running podman), build.ts, run.ts, containers.ts, stats.ts, images.ts, network.ts, system.ts.

export {
  DEFAULT_PIDS_LIMIT,
  isImageRef,
  isResourceName,
  isTenantImageRef,
  LABEL_APP,
  LABEL_DEPLOYMENT,
  LABEL_MANAGED,
  LABEL_PROCESS,
  LABEL_TEAM,
  toResourceName,
} from "./args";
export { PodmanError, type PodmanErrorKind, type PodmanOperation, type PodmanResource } from "./errors";
export type {
  BuildOptions,
  ContainerDetails,
  ContainerFilter,
  ContainerStats,
  ContainerSummary,
  ImageDetails,
  LogsOptions,
  NetworkOptions,
  Podman,
  PodmanConfig,
  PodmanInfo,
  PodmanVersion,
  PortBinding,
  PullPolicy,
  ResourceLabels,
  ResourceStats,
  RunOptions,
  StopOptions,
} from "./types";

export function createPodman(exec: Executor, config: PodmanConfig): Podman {
  const ctx = createContext(exec, config);
  const images = imageCommands(ctx);
  return {
    ...buildCommands(ctx, images.inspectImage),
    ...runCommand(ctx),
    ...containerCommands(ctx),
    ...statsCommands(ctx),
    ...images,
    ...networkCommands(ctx),
    ...systemCommands(ctx),
  };
}
