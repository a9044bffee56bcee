import { constants, type Stats } from "node:fs";
import { type FileHandle, lstat, open, readdir, realpath } from "node:fs/promises";
import path from "node:path";

/**
 * A read-only view of an app's source directory. Build planning only ever sees the tenant's code through this
 * interface, so the planner stays pure (tests use `memorySourceTree`) and every path goes through one validator.
 *
 * Paths are POSIX-style and relative to the tree root; "" and "." mean the root itself.
 * - `readFile` answers the file's UTF-8 text, or null when it does not exist, is not a regular file, is larger
 *   than the read limit, or is a symbolic link leading out of the tree.
 * - `exists` answers whether a file or directory is there (same rules for links).
 * - `list` answers the sorted entry names (not paths) of a directory, or [] when it is not one.
 * A path that is absolute or contains ".." is a caller bug or hostile input: it throws `SourcePathError`.
 */
export type SourceTree = {
  readFile(relPath: string): Promise<string | null>;
  exists(relPath: string): Promise<boolean>;
  list(relDir: string): Promise<string[]>;
};

export class SourcePathError extends Error {
  readonly code = "unsafe_path";
  constructor(message: string) {
    super(message);
    this.name = "SourcePathError";
  }
}

/** Files the planner reads are small manifests and Python modules; anything bigger is not worth parsing. */
export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;

function quotePath(relPath: string): string {
  return JSON.stringify(relPath.length > 80 ? `${relPath.slice(0, 80)}...` : relPath);
}

/**
 * Splits a relative path into segments, refusing anything that could address a file outside the tree.
 * Backslashes are refused too: they are legal in POSIX names but almost always an attempt to smuggle a
 * Windows-style separator past a naive check.
 */
export function splitRelPath(relPath: string): string[] {
  if (typeof relPath !== "string") throw new SourcePathError("path must be a string");
  if (relPath.includes("\0")) throw new SourcePathError("path contains a NUL byte");
  if (relPath.includes("\\")) throw new SourcePathError(`path ${quotePath(relPath)} contains a backslash`);
  if (relPath.startsWith("/") || path.isAbsolute(relPath)) {
    throw new SourcePathError(`path ${quotePath(relPath)} is absolute; only paths inside the source tree are allowed`);
  }
  const segments = relPath.split("/").filter((segment) => segment !== "" && segment !== ".");
  if (segments.includes("..")) {
    throw new SourcePathError(
      `path ${quotePath(relPath)} contains ".."; only paths inside the source tree are allowed`,
    );
  }
  return segments;
}

function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(path.sep) ? root : `${root}${path.sep}`);
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP";
}

export type FsSourceTreeOptions = { maxFileBytes?: number };

/**
 * The real file-system tree. Every component is checked with lstat: a symbolic link is only followed when its
 * fully resolved target is still inside the (resolved) root, so a link to /etc/passwd or to "../.." reads as absent.
 * The final open uses O_NOFOLLOW as a second line of defence against a link swapped in after the check.
 */
export function fsSourceTree(rootDir: string, options: FsSourceTreeOptions = {}): SourceTree {
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  let rootPromise: Promise<string> | undefined;
  const realRoot = (): Promise<string> => {
    rootPromise ??= realpath(path.resolve(rootDir));
    return rootPromise;
  };

  /** Resolves the segments to an absolute path inside the root, or null when absent or escaping. */
  async function resolveInside(segments: string[]): Promise<string | null> {
    const root = await realRoot();
    let current = root;
    for (const segment of segments) {
      const candidate = path.join(current, segment);
      let stats: Stats;
      try {
        stats = await lstat(candidate);
      } catch (error) {
        if (isMissing(error)) return null;
        throw error;
      }
      if (!stats.isSymbolicLink()) {
        current = candidate;
        continue;
      }
      let target: string;
      try {
        target = await realpath(candidate);
      } catch (error) {
        if (isMissing(error)) return null;
        throw error;
      }
      if (!isInside(root, target)) return null;
      current = target;
    }
    return current;
  }

  return {
    async readFile(relPath) {
      const absolute = await resolveInside(splitRelPath(relPath));
      if (absolute === null) return null;
      let handle: FileHandle;
      try {
        handle = await open(absolute, constants.O_RDONLY | constants.O_NOFOLLOW);
      } catch (error) {
        if (isMissing(error) || (error as { code?: unknown }).code === "EISDIR") return null;
        throw error;
      }
      try {
        const stats = await handle.stat();
        if (!stats.isFile() || stats.size > maxFileBytes) return null;
        return await handle.readFile({ encoding: "utf8" });
      } finally {
        await handle.close();
      }
    },
    async exists(relPath) {
      return (await resolveInside(splitRelPath(relPath))) !== null;
    },
    async list(relDir) {
      const segments = splitRelPath(relDir);
      const absolute = await resolveInside(segments);
      if (absolute === null) return [];
      let names: string[];
      try {
        names = await readdir(absolute);
      } catch (error) {
        if (isMissing(error)) return [];
        throw error;
      }
      // Drop entries that are links leading out of the tree so callers never see a name they cannot read.
      const visible: string[] = [];
      for (const name of names.sort()) {
        if ((await resolveInside([...segments, name])) !== null) visible.push(name);
      }
      return visible;
    },
  };
}

/** An in-memory tree for tests: keys are relative file paths, directories are implied by them. */
export function memorySourceTree(files: Record<string, string>): SourceTree {
  const contents = new Map<string, string>();
  for (const [key, value] of Object.entries(files)) contents.set(splitRelPath(key).join("/"), value);

  const childNames = (segments: string[]): Set<string> => {
    const prefix = segments.length === 0 ? "" : `${segments.join("/")}/`;
    const names = new Set<string>();
    for (const key of contents.keys()) {
      if (!key.startsWith(prefix)) continue;
      const first = key.slice(prefix.length).split("/")[0];
      if (first) names.add(first);
    }
    return names;
  };

  return {
    async readFile(relPath) {
      return contents.get(splitRelPath(relPath).join("/")) ?? null;
    },
    async exists(relPath) {
      const segments = splitRelPath(relPath);
      return segments.length === 0 || contents.has(segments.join("/")) || childNames(segments).size > 0;
    },
    async list(relDir) {
      const segments = splitRelPath(relDir);
      if (contents.has(segments.join("/")) && segments.length > 0) return [];
      return [...childNames(segments)].sort();
    },
  };
}

/**
 * A view of a subdirectory (an app living in `backend/` of a monorepo). The subdirectory goes through the same
 * validator, so "../other-app" is refused rather than silently resolved.
 */
export function scopedSourceTree(tree: SourceTree, subdirectory: string): SourceTree {
  const base = splitRelPath(subdirectory);
  if (base.length === 0) return tree;
  const join = (relPath: string): string => [...base, ...splitRelPath(relPath)].join("/");
  return {
    // async so a refused path surfaces as a rejected promise, like the other trees.
    readFile: async (relPath) => tree.readFile(join(relPath)),
    exists: async (relPath) => tree.exists(join(relPath)),
    list: async (relDir) => tree.list(join(relDir)),
  };
}
