// The worker's handles on the host's infrastructure, built from configuration. Requests never use these.
import { accessSync, constants } from "node:fs";
import path from "node:path";
import { getEnv } from "@/lib/env";
import { type CaddyClient, createCaddyClient } from "@/lib/infra/caddy";
import { type Executor, execFileExecutor } from "@/lib/infra/exec";
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

export function getInfra(): Infra {
  cached ??= (() => {
    const env = getEnv();
    let podman: Podman | undefined;
    let caddy: CaddyClient | undefined;
    return {
      exec: execFileExecutor,
      podman: () => {
        podman ??= createPodman(execFileExecutor, {
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
