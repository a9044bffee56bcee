import { lstat, readdir, readlink, realpath } from "node:fs/promises";
import path from "node:path";
import { SourceError } from "../source-errors";
import { errorCode } from "./errno";

// The clone's destination and its limits: dest is put back as it was found on any failure, its size is watched
// while git writes, and the checked-out tree is measured and its links judged afterwards.

// While git runs, .git (the pack) and the work tree both sit in dest; a shallow pack is at most about the size of the
// tree it holds. The precise limit (work tree only) is applied after the clone.
export const TRANSFER_SLACK_BYTES = 8 * 1024 * 1024;
const SIZE_POLL_MS = 1_000;

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 * 1024) return `${Number((bytes / 1024 ** 3).toFixed(1))} GiB`;
  if (bytes >= 1024 * 1024) return `${Number((bytes / 1024 ** 2).toFixed(1))} MiB`;
  if (bytes >= 1024) return `${Number((bytes / 1024).toFixed(1))} KiB`;
  return `${bytes} bytes`;
}

export function quoteRel(rel: string): string {
  return JSON.stringify(rel.length > 120 ? `${rel.slice(0, 120)}...` : rel);
}

function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(path.sep) ? root : `${root}${path.sep}`);
}

/** Bytes of regular files under dir, never following links; files vanishing mid-walk (git's temp files) are skipped. */
async function diskUsage(dir: string): Promise<number> {
  let total = 0;
  const pending = [dir];
  for (let current = pending.pop(); current !== undefined; current = pending.pop()) {
    const entries = await readdir(current, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) pending.push(full);
      else if (entry.isFile())
        total += await lstat(full).then(
          (stats) => stats.size,
          () => 0,
        );
    }
  }
  return total;
}

type SizeGuard = { readonly signal: AbortSignal; tripped(): boolean; stop(): void };

/**
 * Polls the size of dest while git writes to it and aborts git once it is clearly over the limit: git has no limit
 * of its own on what a fetch downloads, and the timeout alone would let a fast server fill the disk.
 */
export function startSizeGuard(dir: string, limitBytes: number): SizeGuard {
  const controller = new AbortController();
  let tripped = false;
  let running = false;
  let stopped = false;
  const timer = setInterval(() => {
    if (running || stopped) return;
    running = true;
    diskUsage(dir)
      .then((bytes) => {
        if (!stopped && bytes > limitBytes) {
          tripped = true;
          controller.abort();
        }
      })
      .catch(() => {
        // A failed measurement is retried on the next tick; the post-clone check is authoritative.
      })
      .finally(() => {
        running = false;
      });
  }, SIZE_POLL_MS);
  timer.unref();
  return {
    signal: controller.signal,
    tripped: () => tripped,
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}

export function tooLarge(maxBytes: number): SourceError {
  return new SourceError("too_large", `The repository is larger than the limit of ${formatBytes(maxBytes)}.`);
}

/**
 * Walks the checked-out tree (without .git) without following links: sums file sizes against the limit, and refuses
 * any symbolic link that leads out of the tree. A link is judged by where the kernel resolves it (realpath); a
 * dangling link by its text (absolute or climbing above the root is refused). Residual: a dangling link whose text
 * stays inside but which would climb out through another link does not resolve to anything, and every later reader
 * (fsSourceTree, the build) resolves links again.
 */
export async function inspectTree(root: string, maxBytes: number): Promise<void> {
  const realRoot = await realpath(root);
  let total = 0;
  const pending = [realRoot];
  for (let current = pending.pop(); current !== undefined; current = pending.pop()) {
    const entries = await readdir(current, { withFileTypes: true });
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      const rel = path.relative(realRoot, full);
      if (entry.isDirectory()) {
        pending.push(full);
      } else if (entry.isFile()) {
        total += (await lstat(full)).size;
        if (total > maxBytes) throw tooLarge(maxBytes);
      } else if (entry.isSymbolicLink()) {
        const target = await readlink(full);
        const outside = new SourceError(
          "unsafe_path",
          `The repository contains a symbolic link ${quoteRel(rel)} that points outside the repository or loops.`,
        );
        if (path.isAbsolute(target) || !isInside(realRoot, path.resolve(path.dirname(full), target))) throw outside;
        let resolved: string | null;
        try {
          resolved = await realpath(full);
        } catch (error) {
          const code = errorCode(error);
          // Dangling (judged by its text above); a loop (ELOOP) or anything else is refused.
          if (code !== "ENOENT" && code !== "ENOTDIR") throw outside;
          resolved = null;
        }
        if (resolved !== null && !isInside(realRoot, resolved)) throw outside;
      }
    }
  }
}
