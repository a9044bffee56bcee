// The readiness page's network checks (#18): the base image's registry (or the image stored locally, as on an
// air-gapped host) and the apps' git hosts, by DNS then TCP. Name resolution is injected (a name that does not
// resolve, as on this machine); connections are real, to a loopback server and to a closed loopback port.
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  defaultReachDeps,
  gitEndpoint,
  probeGitHosts,
  probeRegistry,
  type ReachDeps,
  registryHostOf,
} from "@/lib/checks/reachability";
import { freePort } from "@/test/net";

let server: Server;
let openPort: number;
let closedPort: number;

beforeAll(async () => {
  server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  openPort = (server.address() as { port: number }).port;
  closedPort = await freePort();
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/** Names ending in .reachable resolve to loopback; any other name fails like a host without DNS. */
const deps: ReachDeps = {
  ...defaultReachDeps,
  lookup: async (host) => {
    if (host.endsWith(".reachable")) return "127.0.0.1";
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
  },
  timeoutMs: 2_000,
};

describe("registryHostOf", () => {
  it("finds the registry podman would ask, and none for a local image", () => {
    expect(registryHostOf("docker.io/library/python:3.12-slim")).toBe("registry-1.docker.io");
    expect(registryHostOf("python:3.12-slim")).toBe("registry-1.docker.io");
    expect(registryHostOf("ghcr.io/acme/python:3.12")).toBe("ghcr.io");
    expect(registryHostOf("registry.example:5000/python:3")).toBe("registry.example:5000");
    expect(registryHostOf("localhost/tussilago-python:3.12")).toBeNull();
  });
});

describe("probeRegistry", () => {
  it("is ok when the registry answers", async () => {
    const result = await probeRegistry(deps, `registry.reachable:${openPort}/python:3.12`, async () => false);
    expect(result.status).toBe("ok");
  });

  it("warns when the registry is unreachable but the base image is stored locally (an air-gapped host)", async () => {
    const result = await probeRegistry(deps, "docker.io/library/python:3.12-slim", async () => true);
    expect(result.status).toBe("warn");
    expect(result.message).toMatch(/registry-1\.docker\.io does not resolve \(ENOTFOUND\).*stored locally/);
  });

  it("is an error when the registry is unreachable and the image is not stored: builds would fail", async () => {
    const result = await probeRegistry(deps, `registry.reachable:${closedPort}/python:3.12`, async () => false);
    expect(result.status).toBe("error");
    expect(result.message).toMatch(/does not accept connections on port \d+.*could not fetch the base image/);
  });
});

describe("probeGitHosts", () => {
  it("probes each git host once and names those that cannot be reached, with the step that failed", async () => {
    const result = await probeGitHosts(deps, [
      `https://git.reachable:${openPort}/acme/shop.git`,
      `https://git.reachable:${openPort}/acme/other.git`,
      "https://github.com/acme/shop.git",
      `ssh://git@forge.reachable:${closedPort}/acme/shop.git`,
    ]);
    expect(result.status).toBe("warn");
    expect(result.message).toMatch(/^2 of 3 git host\(s\) unreachable/);
    expect(result.message).toContain("github.com does not resolve (ENOTFOUND)");
    expect(result.message).toContain(`forge.reachable (127.0.0.1) does not accept connections on port ${closedPort}`);
  });

  it("is ok with no git source, or when every host answers", async () => {
    expect((await probeGitHosts(deps, [])).status).toBe("ok");
    expect((await probeGitHosts(deps, [`https://git.reachable:${openPort}/a.git`])).status).toBe("ok");
  });

  it("knows the port of a git URL", () => {
    expect(gitEndpoint("https://github.com/a/b.git")).toEqual({ host: "github.com", port: 443 });
    expect(gitEndpoint("ssh://git@github.com/a/b.git")).toEqual({ host: "github.com", port: 22 });
    expect(gitEndpoint("not a url")).toBeNull();
  });
});
