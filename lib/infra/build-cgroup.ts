// A pids cgroup around one image build. podman 4.3's `build` has no --pids-limit, and `--ulimit nproc` does not bind
// a RUN step running as root: on a Debian 12 host, a RUN step under runsc-build started 3,000 processes with
// nproc=2048. The kernel's pids controller does bind it: `podman build --cgroup-parent=<this cgroup>` puts every RUN
// step's sandbox below a cgroup whose pids.max we set first, and pids.max is hierarchical, so the whole tree (gVisor's
// own threads included, about 46 when idle: keep the limit in the thousands) stays under it. Measured on the same
// host: with pids.max=400 the step failed instead of forking on.
//
// cgroup v1 (one hierarchy per controller, as on these hosts): the limit is written under <root>/pids; podman creates
// the same parent path in the other hierarchies and leaves it behind, so removal walks all of them. cgroup v2: the
// parent gets pids.max directly, once the pids controller is enabled for its children.
// Only the worker calls this, as root; without a pids controller (a container, no cgroupfs) it returns null and the
// build keeps its rlimit only, and the worker log says so at each build.
import fs from "node:fs/promises";
import path from "node:path";

export const BUILD_CGROUP_DIR = "tussilago-builds";

export type BuildCgroup = {
  /** The value for `podman build --cgroup-parent`. */
  parent: string;
  /** Removes the cgroup (in every v1 hierarchy); what cannot be removed yet is left for the next sweep. */
  remove(): Promise<void>;
};

type Layout = { kind: "v1"; pidsRoot: string; hierarchies: string[] } | { kind: "v2"; root: string };

async function exists(file: string): Promise<boolean> {
  return await fs.access(file).then(
    () => true,
    () => false,
  );
}

async function layoutOf(root: string): Promise<Layout | null> {
  const controllers = await fs.readFile(path.join(root, "cgroup.controllers"), "utf8").catch(() => null);
  if (controllers !== null) return controllers.split(/\s+/).includes("pids") ? { kind: "v2", root } : null;
  if (!(await exists(path.join(root, "pids")))) return null;
  const entries = await fs.readdir(root, { withFileTypes: true });
  const hierarchies = entries.filter((entry) => entry.isDirectory()).map((entry) => path.join(root, entry.name));
  return { kind: "v1", pidsRoot: path.join(root, "pids"), hierarchies };
}

async function removeEmpty(dir: string): Promise<boolean> {
  try {
    await fs.rmdir(dir);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Gone already is fine; busy or not empty (a sandbox still exiting) is left for the next sweep.
    return code === "ENOENT";
  }
}

/** A build's name inside the cgroup tree: the caller passes a UUID; anything else is refused. */
function checkName(name: string): void {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(name)) {
    throw new Error(`invalid build cgroup name ${JSON.stringify(name)}`);
  }
}

/**
 * Creates `<root>/…/tussilago-builds/<name>` with `pids.max = pidsMax`, or returns null when this host has no pids
 * controller to use. Idempotent: a retried build reuses (and re-limits) its cgroup.
 */
export async function createBuildCgroup(options: {
  name: string;
  pidsMax: number;
  root?: string;
}): Promise<BuildCgroup | null> {
  checkName(options.name);
  if (!Number.isInteger(options.pidsMax) || options.pidsMax < 1) throw new Error("pidsMax must be a positive integer");
  const root = options.root ?? "/sys/fs/cgroup";
  const layout = await layoutOf(root);
  if (!layout) return null;
  const relative = path.posix.join(BUILD_CGROUP_DIR, options.name);
  if (layout.kind === "v2") {
    const parentDir = path.join(root, BUILD_CGROUP_DIR);
    await fs.mkdir(parentDir, { recursive: true });
    // Children of tussilago-builds/ get a pids.max file only when the controller is delegated to them.
    await fs.writeFile(path.join(parentDir, "cgroup.subtree_control"), "+pids").catch(() => undefined);
    const dir = path.join(root, relative);
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, "pids.max"), String(options.pidsMax));
    return { parent: `/${relative}`, remove: async () => void (await removeEmpty(dir)) };
  }
  const dir = path.join(layout.pidsRoot, relative);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, "pids.max"), String(options.pidsMax));
  return {
    parent: `/${relative}`,
    remove: async () => {
      for (const hierarchy of layout.hierarchies) await removeEmpty(path.join(hierarchy, relative));
    },
  };
}

/** Removes build cgroups no build uses any more (left by a crash, or busy at their build's end). */
export async function sweepBuildCgroups(options: { keep: ReadonlySet<string>; root?: string }): Promise<number> {
  const root = options.root ?? "/sys/fs/cgroup";
  const layout = await layoutOf(root);
  if (!layout) return 0;
  const parents = layout.kind === "v2" ? [root] : layout.hierarchies;
  let removed = 0;
  for (const parent of parents) {
    const base = path.join(parent, BUILD_CGROUP_DIR);
    const entries = await fs.readdir(base, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isDirectory() || options.keep.has(entry.name)) continue;
      if (await removeEmpty(path.join(base, entry.name))) removed += 1;
    }
  }
  return removed;
}
