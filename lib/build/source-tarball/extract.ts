import { constants } from "node:fs";
import { chmod, lstat, mkdir, open, symlink } from "node:fs/promises";
import path from "node:path";
import { errorCode, invalidArchive, truncated } from "./errors";
import type { EntryData, TreeNode } from "./policy";

// Pass 2: writing the tree pass 1 accepted into dest, never through a link, and putting dest back as it was found
// when anything fails.

export class TreeWriter {
  private readonly links: { segments: string[]; target: string }[] = [];

  constructor(
    private readonly root: string,
    private readonly tree: TreeNode,
  ) {}

  private abs(segments: readonly string[]): string {
    return path.join(this.root, ...segments);
  }

  /**
   * Creates the missing directories along `segments`, one level at a time (never `recursive`, which would follow an
   * existing link) with an explicit 0o755, walking the pass-1 tree so nothing is checked twice.
   */
  async ensureDir(segments: readonly string[]): Promise<void> {
    let node = this.tree;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i];
      const child = segment === undefined ? undefined : node.children.get(segment);
      // Pass 1 built the tree from these very entries; a miss means the archive changed under us.
      if (child === undefined || (child.entry !== undefined && child.entry.kind !== "directory")) {
        throw invalidArchive("The archive changed while it was being unpacked.");
      }
      if (!child.created) {
        const dir = this.abs(segments.slice(0, i + 1));
        try {
          await mkdir(dir, { mode: 0o755 });
        } catch (error) {
          if (errorCode(error) !== "EEXIST" || !(await lstat(dir)).isDirectory()) throw error;
        }
        await chmod(dir, 0o755);
        child.created = true;
      }
      node = child;
    }
  }

  async writeFile(segments: readonly string[], mode: number, size: number, data: EntryData): Promise<void> {
    await this.ensureDir(segments.slice(0, -1));
    // O_EXCL refuses an existing name, even a dangling link; O_NOFOLLOW is the second line of defence.
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const handle = await open(this.abs(segments), flags, 0o600);
    let written = 0;
    try {
      for await (const chunk of data.chunks()) {
        let offset = 0;
        while (offset < chunk.length) {
          const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
          offset += bytesWritten;
        }
        written += chunk.length;
      }
      await handle.chmod(mode & 0o100 ? 0o755 : 0o644);
    } finally {
      await handle.close();
    }
    if (written !== size) throw truncated();
  }

  deferLink(segments: readonly string[], target: string): void {
    this.links.push({ segments: [...segments], target });
  }

  /** Links last: no file or directory is ever created through one. */
  async createLinks(): Promise<void> {
    for (const link of this.links) {
      await this.ensureDir(link.segments.slice(0, -1));
      await symlink(link.target, this.abs(link.segments));
    }
  }
}
