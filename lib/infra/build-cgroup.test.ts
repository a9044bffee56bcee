// The build's pids cgroup on fake cgroup trees (v1 with one hierarchy per controller, v2 unified, none). On a real
// cgroupfs the control files vanish with their directory; here the test removes the fake pids.max itself first.
import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BUILD_CGROUP_DIR, createBuildCgroup, sweepBuildCgroups } from "@/lib/infra/build-cgroup";

const scratch: string[] = [];

afterEach(async () => {
  for (const dir of scratch.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

async function fakeRoot(kind: "v1" | "v2" | "none"): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "cgroup-"));
  scratch.push(root);
  if (kind === "v1") for (const name of ["pids", "memory", "cpu"]) await fs.mkdir(path.join(root, name));
  if (kind === "v2") await fs.writeFile(path.join(root, "cgroup.controllers"), "cpuset cpu io memory pids\n");
  return root;
}

describe("createBuildCgroup", () => {
  it("on cgroup v1 limits the build's tree in the pids hierarchy and removes its path from every hierarchy", async () => {
    const root = await fakeRoot("v1");
    const name = randomUUID();
    const cgroup = await createBuildCgroup({ name, pidsMax: 4096, root });
    expect(cgroup?.parent).toBe(`/${BUILD_CGROUP_DIR}/${name}`);
    const pidsDir = path.join(root, "pids", BUILD_CGROUP_DIR, name);
    expect(await fs.readFile(path.join(pidsDir, "pids.max"), "utf8")).toBe("4096");
    // podman creates the same parent in the other hierarchies and leaves it there.
    await fs.mkdir(path.join(root, "memory", BUILD_CGROUP_DIR, name), { recursive: true });
    await fs.rm(path.join(pidsDir, "pids.max"));
    await cgroup?.remove();
    for (const hierarchy of ["pids", "memory", "cpu"]) {
      await expect(fs.access(path.join(root, hierarchy, BUILD_CGROUP_DIR, name))).rejects.toThrow();
    }
  });

  it("on cgroup v2 delegates the pids controller and limits the build's cgroup", async () => {
    const root = await fakeRoot("v2");
    const name = randomUUID();
    const cgroup = await createBuildCgroup({ name, pidsMax: 2048, root });
    expect(cgroup?.parent).toBe(`/${BUILD_CGROUP_DIR}/${name}`);
    expect(await fs.readFile(path.join(root, BUILD_CGROUP_DIR, "cgroup.subtree_control"), "utf8")).toBe("+pids");
    expect(await fs.readFile(path.join(root, BUILD_CGROUP_DIR, name, "pids.max"), "utf8")).toBe("2048");
  });

  it("answers null where there is no pids controller, creating nothing", async () => {
    const root = await fakeRoot("none");
    expect(await createBuildCgroup({ name: randomUUID(), pidsMax: 4096, root })).toBeNull();
    expect(await fs.readdir(root)).toEqual([]);
    const v2NoPids = await fakeRoot("none");
    await fs.writeFile(path.join(v2NoPids, "cgroup.controllers"), "cpu memory\n");
    expect(await createBuildCgroup({ name: randomUUID(), pidsMax: 4096, root: v2NoPids })).toBeNull();
  });

  it("refuses names that are not UUIDs (no path of a caller's choosing under the cgroup tree)", async () => {
    const root = await fakeRoot("v1");
    await expect(createBuildCgroup({ name: "../../escape", pidsMax: 10, root })).rejects.toThrow(/invalid/);
    expect(await fs.readdir(path.join(root, "pids"))).toEqual([]);
  });
});

describe("sweepBuildCgroups", () => {
  it("removes the cgroups of builds that no longer run and keeps the running ones", async () => {
    const root = await fakeRoot("v1");
    const running = randomUUID();
    const stale = randomUUID();
    for (const name of [running, stale])
      await fs.mkdir(path.join(root, "pids", BUILD_CGROUP_DIR, name), { recursive: true });
    await fs.mkdir(path.join(root, "memory", BUILD_CGROUP_DIR, stale), { recursive: true });
    expect(await sweepBuildCgroups({ keep: new Set([running]), root })).toBe(2);
    expect(await fs.readdir(path.join(root, "pids", BUILD_CGROUP_DIR))).toEqual([running]);
    expect(await fs.readdir(path.join(root, "memory", BUILD_CGROUP_DIR))).toEqual([]);
  });
});
