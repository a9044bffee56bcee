// The worker's handles on the host's infrastructure, built from configuration. Requests never use these.
import { accessSync, constants } from "node:fs";
import path from "node:path";
import { getEnv } from "@/lib/env";
import { type CaddyClient, createCaddyClient } from "@/lib/infra/caddy";
import { CommandError, type Executor, execFileExecutor } from "@/lib/infra/exec";
import { createPodman, type Podman } from "@/lib/infra/podman";

export class MissingExecutableError extends Error {
  override name = "MissingExecutableError";
}

/** An absolute path for a command name, looked up on PATH once, so later calls cannot be redirected. */
export function resolveExecutable(name: string, searchPath: string = process.env.PATH ?? ""): string {
  if (path.isAbsolute(name)) {
    try {
      accessSync(name, constants.X_OK);
    } catch {
      throw new MissingExecutableError(`${name} does not exist or is not executable`);
    }
    return name;
  }
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir || !path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new MissingExecutableError(`${name} was not found on PATH`);
}

export type Infra = {
  exec: Executor;
  podman: () => Podman;
  gitPath: () => string;
  /** Caddy's admin API (TUSSILAGO_CADDY_ADMIN); one client, so its connection pool is shared by every sync. */
  caddy: () => CaddyClient;
};

let cached: Infra | undefined;

// Normal answers of podman that arrive as a failed command (an image or container that is not there): not a sign
// that the host broke.
const NOT_THERE = /no such (image|container|object|network|pod|volume)|image not known/i;
let podmanFailures = 0;

/**
 * How many podman calls of this process failed so far (a cancel or a "no such ..." answer aside). The readiness
 * answer a worker caches (lib/checks/readiness.ts) is stale once this moved: the next job asks podman again.
 */
export function podmanFailureCount(): number {
  return podmanFailures;
}

const podmanExecutor: Executor = async (file, args, options) => {
  try {
    return await execFileExecutor(file, args, options);
  } catch (error) {
    const answer = error instanceof CommandError && (error.kind === "aborted" || NOT_THERE.test(error.stderr));
    if (!answer) podmanFailures += 1;
    throw error;
  }
};

export function getInfra(): Infra {
  cached ??= (() => {
    const env = getEnv();
    let podman: Podman | undefined;
    let caddy: CaddyClient | undefined;
    return {
      exec: execFileExecutor,
      podman: () => {
        podman ??= createPodman(podmanExecutor, {
          podmanPath: resolveExecutable(env.infra.podmanPath),
          runtime: env.infra.ociRuntime,
          runtimeFlags: env.infra.ociRuntimeFlags,
          buildRuntime: env.infra.buildRuntime,
        });
        return podman;
      },
      gitPath: () => resolveExecutable(env.infra.gitPath),
      caddy: () => {
        caddy ??= createCaddyClient({ adminEndpoint: env.release.caddyAdmin });
        return caddy;
      },
    };
  })();
  return cached;
}

/** Only for tests. */
export function resetInfraForTests(): void {
  cached = undefined;
}
