// The instance admin's disk view (lib/domain/instance-usage.ts), measured by the worker (instance__usage): podman's
// own accounting of images, and the sizes of the data directory's builds, logs and backups. Each part is measured on
// its own, so one that fails (podman missing, an unreadable directory, the bucket down) leaves an error line in the
// report instead of losing the others.
import type { Dirent } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { backupsDir } from "@/lib/data-paths";
import type { DirUsage, InstanceUsage } from "@/lib/domain/instance-usage";
import type { BackupStore } from "@/lib/infra/backup-store";
import { type Podman, PodmanError } from "@/lib/infra/podman";

/**
 * At most this many directory entries per walked tree: a directory a tenant's build filled with millions of small
 * files must not keep the worker busy (or its memory growing) for an estimate. The report says when it stopped early.
 */
export const USAGE_WALK_MAX_ENTRIES = 200_000;

/**
 * Sums the sizes of the regular files under `root`, breadth first, counting every entry it reads against
 * `maxEntries`. Symbolic links are counted but never followed nor sized: a build workspace holds tenant files, and a
 * link there could point anywhere on the host (or loop). A missing root is an empty tree (nothing built yet).
 */
export async function walkDirUsage(root: string, maxEntries = USAGE_WALK_MAX_ENTRIES): Promise<DirUsage> {
  const usage: DirUsage = { bytes: 0, files: 0, truncated: false };
  const pending = [root];
  let seen = 0;
  while (pending.length > 0) {
    const dir = pending.shift() as string;
    let entries: AsyncIterable<Dirent>;
    try {
      entries = await fs.opendir(dir, { bufferSize: 256 });
    } catch (error) {
      // Gone since it was listed (a build finished and was cleaned up), or never there: nothing to count.
      if (isCode(error, "ENOENT") || isCode(error, "ENOTDIR")) continue;
      throw error;
    }
    for await (const entry of entries) {
      seen += 1;
      if (seen > maxEntries) {
        usage.truncated = true;
        // Leaving the loop early closes the directory handle (the iterator's return()).
        return usage;
      }
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) pending.push(full);
      else if (entry.isFile()) {
        try {
          const stat = await fs.lstat(full);
          usage.bytes += stat.size;
          usage.files += 1;
        } catch (error) {
          if (!isCode(error, "ENOENT")) throw error;
        }
      }
    }
  }
  return usage;
}

function isCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

export type UsageSources = {
  dataDir: string;
  /** null: podman is not installed on this host (the report says so). */
  podman: Podman | null;
  /** The S3 store when backups go to a bucket; null: backups are files under the data directory. */
  s3Store: BackupStore | null;
  maxEntries?: number;
};

function reason(part: string, error: unknown): string {
  if (error instanceof PodmanError) return `${part}: ${error.userMessage}`;
  const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
  return `${part}: could not be measured${code ? ` (${code})` : ""}.`;
}

export async function measureInstanceUsage(sources: UsageSources): Promise<InstanceUsage> {
  const errors: string[] = [];
  const attempt = async <T>(part: string, measure: () => Promise<T>): Promise<T | null> => {
    try {
      return await measure();
    } catch (error) {
      errors.push(reason(part, error));
      return null;
    }
  };
  const { dataDir, podman, s3Store } = sources;
  if (podman === null) errors.push("Images: podman is not installed on this host.");
  const [df, builds, logs, backups] = await Promise.all([
    podman === null ? null : attempt("Images", () => podman.systemDf({ timeoutMs: 60_000 })),
    attempt("Builds", () => walkDirUsage(path.join(dataDir, "builds"), sources.maxEntries)),
    attempt("Logs", () => walkDirUsage(path.join(dataDir, "logs"), sources.maxEntries)),
    attempt("Backups", async () => {
      if (s3Store === null) return { ...(await walkDirUsage(backupsDir(dataDir), sources.maxEntries)), store: "local" };
      const objects = await s3Store.list("");
      const bytes = objects.reduce((sum, object) => sum + object.bytes, 0);
      return { bytes, files: objects.length, truncated: false, store: "s3" } as const;
    }),
  ]);
  const images = df?.images ?? null;
  return {
    images: images
      ? { bytes: images.bytes, count: images.total, active: images.active, reclaimableBytes: images.reclaimableBytes }
      : null,
    builds,
    logs,
    backups: backups ? { ...backups, store: backups.store === "s3" ? "s3" : "local" } : null,
    errors,
  };
}
