// The pre-build step for a tenant's own Containerfile (the I/O around the pure policy in ./index.ts): read it (size
// capped), refuse it by the policy, then pull each registry image it builds from and refuse images whose config
// carries ONBUILD triggers (a tenant can publish such an image, and the triggers would run unchecked in the build).
// The build then runs with --pull=never, so it uses exactly the images inspected here.
import fs from "node:fs/promises";
import type { Podman } from "@/lib/infra/podman";
import { checkContainerfile, describeViolations } from "./index";

const MAX_CONTAINERFILE_BYTES = 1024 * 1024;

/** A refusal the tenant can fix: its message is user-facing. */
export class ContainerfilePolicyError extends Error {
  override name = "ContainerfilePolicyError";
}

export type VetOptions = {
  /** The build context (a real path): the file must resolve inside it. */
  contextDir: string;
  /** Absolute path of the file, inside the build context. */
  file: string;
  /** The name the tenant knows it by (e.g. "Containerfile"). */
  displayName: string;
  baseImages: readonly string[];
  podman: () => Podman;
  pullTimeoutMs: number;
  signal?: AbortSignal;
  /** Runs once before the first pull (the caller's host readiness check). */
  beforePull?: () => Promise<void>;
};

/** Throws ContainerfilePolicyError when the file or an image it builds from is refused. */
export async function vetContainerfile(options: VetOptions): Promise<void> {
  // A symlink out of the context would make podman read a host file as the Containerfile (and print it).
  const real = await fs.realpath(options.file).catch(() => null);
  if (real === null || !real.startsWith(`${options.contextDir}/`)) {
    throw new ContainerfilePolicyError(`${options.displayName} must be a file in your source, not a link out of it.`);
  }
  const stat = await fs.stat(real);
  if (stat.size > MAX_CONTAINERFILE_BYTES) {
    throw new ContainerfilePolicyError(`${options.displayName} is larger than 1 MiB.`);
  }
  const text = await fs.readFile(real, "utf8");
  const { violations, externalImages } = checkContainerfile(text, { baseImages: options.baseImages });
  if (violations.length > 0) throw new ContainerfilePolicyError(describeViolations(options.displayName, violations));
  if (externalImages.length === 0) return;
  await options.beforePull?.();
  const podman = options.podman();
  for (const image of externalImages) {
    try {
      await podman.pull(image, { timeoutMs: options.pullTimeoutMs, signal: options.signal });
    } catch (error) {
      // A registry that is down is retried by the job; a name that does not pull is the tenant's to fix.
      const permanent =
        error instanceof Error &&
        "kind" in error &&
        error.kind === "command_failed" &&
        !("retryable" in error && error.retryable);
      if (permanent && !options.signal?.aborted) {
        throw new ContainerfilePolicyError(
          `The image ${image} named in ${options.displayName} could not be pulled. Check its name and that it is public.`,
        );
      }
      throw error;
    }
    const details = await podman.inspectImage(image, { signal: options.signal });
    if (details !== null && details.onBuild.length > 0) {
      throw new ContainerfilePolicyError(
        `The image ${image} named in ${options.displayName} has ONBUILD triggers, which this platform does not run: ` +
          "build from an image without them.",
      );
    }
  }
}
