// Can this host reach what builds fetch from the network? The base image's registry (or, on an air-gapped host, is
// the base image already stored locally), and the git hosts the apps deploy from. A build that cannot reach them
// fails with "the server could not fetch …" (lib/engine/failure.ts); the readiness page says so beforehand, with the
// host and the step (name resolution or connection) that failed. DNS through the system resolver (dns.lookup, as
// podman and git resolve), then a TCP connection: no HTTP, no credentials, nothing sent.
import dns from "node:dns/promises";
import net from "node:net";
import type { CheckResult } from "@/lib/checks/report";

export type ReachDeps = {
  lookup: (host: string) => Promise<string>;
  connect: (address: string, port: number, timeoutMs: number) => Promise<void>;
  timeoutMs: number;
};

export const defaultReachDeps: ReachDeps = {
  lookup: async (host) => (await dns.lookup(host)).address,
  connect: (address, port, timeoutMs) =>
    new Promise<void>((resolve, reject) => {
      const socket = net.connect({ host: address, port, timeout: timeoutMs });
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("timeout", () => {
        socket.destroy();
        reject(new Error(`no answer within ${timeoutMs} ms`));
      });
      socket.once("error", (error) => reject(error));
    }),
  timeoutMs: 5_000,
};

/** Where podman fetches `image` from: its registry's host, null for a local image (localhost/...). */
export function registryHostOf(image: string): string | null {
  const first = image.split("/")[0] ?? "";
  // podman's rule: the first component is a registry when it has a dot or a port, or is localhost.
  const qualified = image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  const host = qualified ? first : "docker.io";
  if (host === "localhost" || host.startsWith("localhost:")) return null;
  // Docker Hub's API answers on another name than its images carry.
  return host === "docker.io" ? "registry-1.docker.io" : host;
}

/** "host:port" or "host" → host and port (the default when none). IPv6 in brackets. */
function splitHostPort(value: string, defaultPort: number): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  if (bracketed) return { host: bracketed[1] ?? "", port: Number(bracketed[2] ?? defaultPort) };
  const [host, port] = value.split(":");
  return { host: host ?? "", port: port ? Number(port) : defaultPort };
}

/** Null when `host` resolves and accepts a connection on `port`, else what failed, in words. */
export async function unreachable(deps: ReachDeps, host: string, port: number): Promise<string | null> {
  let address: string;
  try {
    address = await deps.lookup(host);
  } catch (error) {
    return `${host} does not resolve (${(error as NodeJS.ErrnoException).code ?? "DNS error"})`;
  }
  try {
    await deps.connect(address, port, deps.timeoutMs);
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return `${host} (${address}) does not accept connections on port ${port} (${code ?? (error as Error).message})`;
  }
}

/**
 * The base image's registry. Unreachable with the image stored locally is how an air-gapped host works: a warning
 * (builds of that image work, an image not stored would fail). Unreachable without it: an error, builds fail.
 */
export async function probeRegistry(
  deps: ReachDeps,
  image: string,
  imagePresent: () => Promise<boolean>,
): Promise<CheckResult> {
  const name = "registry";
  const registry = registryHostOf(image);
  if (registry === null) return { name, status: "ok", message: `${image} is a local image: no registry is needed` };
  const { host, port } = splitHostPort(registry, 443);
  const problem = await unreachable(deps, host, port);
  if (problem === null) return { name, status: "ok", message: `the registry of ${image} (${host}) is reachable` };
  const present = await imagePresent().catch(() => false);
  return present
    ? {
        name,
        status: "warn",
        message: `${problem}; ${image} is stored locally, so builds from it work, but no other image can be fetched`,
      }
    : {
        name,
        status: "error",
        message: `${problem}, and ${image} is not stored locally: builds fail with "the server could not fetch the base image". Fix this host's DNS or network, or store the image (podman pull, or podman load from an archive)`,
      };
}

/** The host and port a git URL connects to (https 443, ssh 22, unless the URL says), null when it cannot parse. */
export function gitEndpoint(url: string): { host: string; port: number } | null {
  try {
    const parsed = new URL(url);
    const port = parsed.port ? Number(parsed.port) : parsed.protocol === "ssh:" ? 22 : 443;
    const host = parsed.hostname.replace(/^\[|\]$/g, "");
    return host ? { host, port } : null;
  } catch {
    return null;
  }
}

/** At most this many git hosts are probed (the most recently used first), so the check stays quick. */
export const MAX_GIT_HOSTS = 20;

/** DNS and TCP to each host the apps' git sources name: a host that cannot be reached fails those apps' deploys. */
export async function probeGitHosts(deps: ReachDeps, urls: string[]): Promise<CheckResult> {
  const name = "git hosts";
  const endpoints = new Map<string, { host: string; port: number }>();
  for (const url of urls) {
    const endpoint = gitEndpoint(url);
    if (endpoint && endpoints.size < MAX_GIT_HOSTS) endpoints.set(`${endpoint.host}:${endpoint.port}`, endpoint);
  }
  if (endpoints.size === 0) return { name, status: "ok", message: "no app deploys from git yet: nothing to reach" };
  const problems = (
    await Promise.all([...endpoints.values()].map(({ host, port }) => unreachable(deps, host, port)))
  ).filter((problem): problem is string => problem !== null);
  if (problems.length === 0) {
    return { name, status: "ok", message: `${endpoints.size} git host(s) of the apps' sources reachable` };
  }
  // A warning, not an error: a tenant's own git server may be down, and other apps still deploy.
  return {
    name,
    status: "warn",
    message: `${problems.length} of ${endpoints.size} git host(s) unreachable, deploys from them fail: ${problems.join("; ")}`,
  };
}
