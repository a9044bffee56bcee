// The worker's readiness answer is remembered (#19): a ready podman is not asked `podman info` again for every job
// within the cache time, unless a podman call failed since or the client changed; an unready host is asked again.
import { describe, expect, it } from "vitest";
import { type ReadinessDeps, readinessProblem } from "@/lib/checks/readiness";
import type { Podman, PodmanInfo } from "@/lib/infra/podman";
import { getInfra, podmanFailureCount } from "@/lib/services/infra";
import { installFakePodman } from "@/test/fake-podman/install";

const INFO: PodmanInfo = {
  version: "4.3.1",
  arch: "amd64",
  os: "linux",
  kernel: null,
  cgroupVersion: "v2",
  cgroupManager: "systemd",
  ociRuntime: { name: "runsc", path: "/usr/bin/runsc", version: "runsc" },
  rootless: false,
  storageDriver: "overlay",
};

/** A podman whose `info` is counted and answers with the runtime given (or fails). */
function countingPodman(answer: () => PodmanInfo) {
  const counter = { info: 0 };
  const podman = {
    info: async () => {
      counter.info += 1;
      return answer();
    },
  } as Pick<Podman, "info"> as Podman;
  return { podman, counter };
}

function depsFor(podman: Podman, clock: { now: number; failures: number }): ReadinessDeps {
  return {
    podman: () => podman,
    podmanPath: "/usr/bin/podman",
    runtime: "runsc",
    cache: { ttlMs: 60_000, failures: () => clock.failures, now: () => clock.now },
  };
}

describe("readinessProblem with the worker's cache", () => {
  it("asks podman once within the cache time, and again after it, after a failed call, or for another client", async () => {
    const clock = { now: 1_000_000, failures: 0 };
    const { podman, counter } = countingPodman(() => INFO);
    const deps = depsFor(podman, clock);
    expect(await readinessProblem(deps, { podman: true })).toBeNull();
    clock.now += 59_000;
    expect(await readinessProblem(deps, { podman: true })).toBeNull();
    expect(counter.info).toBe(1);

    clock.now += 2_000;
    expect(await readinessProblem(deps, { podman: true })).toBeNull();
    expect(counter.info).toBe(2);

    clock.failures += 1;
    expect(await readinessProblem(deps, { podman: true })).toBeNull();
    expect(counter.info).toBe(3);

    const other = countingPodman(() => INFO);
    expect(await readinessProblem(depsFor(other.podman, clock), { podman: true })).toBeNull();
    expect(other.counter.info).toBe(1);
  });

  it("does not remember an unready host: the next job asks again and sees it fixed", async () => {
    const clock = { now: 2_000_000, failures: 0 };
    let runtime = "runc";
    const { podman, counter } = countingPodman(() => ({
      ...INFO,
      ociRuntime: { name: runtime, path: null, version: null },
    }));
    const deps = depsFor(podman, clock);
    expect(await readinessProblem(deps, { podman: true })).toMatch(/not ready/);
    runtime = "runsc";
    expect(await readinessProblem(deps, { podman: true })).toBeNull();
    expect(counter.info).toBe(2);
  });

  it("asks every time without a cache (manage check, the host page)", async () => {
    const { podman, counter } = countingPodman(() => INFO);
    const deps: ReadinessDeps = { podman: () => podman, podmanPath: "/usr/bin/podman", runtime: "runsc" };
    await readinessProblem(deps, { podman: true });
    await readinessProblem(deps, { podman: true });
    expect(counter.info).toBe(2);
  });

  it("counts a failed podman call of the worker (what makes the cached answer stale), not a 'no such' answer", async () => {
    const fake = await installFakePodman();
    try {
      await fake.configure({ FAIL_PS: "125" });
      const before = podmanFailureCount();
      expect(await getInfra().podman().inspectImage("localhost/tsl-nothing:1")).toBeNull();
      expect(podmanFailureCount()).toBe(before);
      await expect(getInfra().podman().listContainers()).rejects.toThrow();
      expect(podmanFailureCount()).toBe(before + 1);
    } finally {
      await fake.cleanup();
    }
  });
});
