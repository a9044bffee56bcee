import { constants } from "node:fs";
import { chmod, type FileHandle, mkdir, open } from "node:fs/promises";
import path from "node:path";
import { destState, restoreDest } from "../source-dest";
import { invalidArchive, tooLargeCompressed, tooLargeExtracted } from "./errors";
import { TreeWriter } from "./extract";
import { buildTree, type EntryData, finalSegments, type Limits, shouldStrip, type TarEntry } from "./policy";
import { ByteReader, openGunzip } from "./read";
import { BLOCK, MAX_META_CHAIN, walkTar } from "./tar-format";

// Deploy pipeline step 1 for uploads: a gzip-compressed tar archive, unpacked by a hand-written reader (ustar, pax
// and GNU long names) because every header field is hostile input (docs/security.md: absolute paths, "..", links out of
// the tree, size limits).
//
// Two passes over the archive. The first reads every header and skips the data, and decides everything: limits,
// paths, types, duplicates, links, which top-level directory to strip. Only when the whole archive is acceptable
// does the second pass write, so a refused archive never touches the disk. The second pass re-checks that it reads
// the same entries; if writing fails anyway, everything written is removed.
//
// Choices:
// - Regular files and directories, and symbolic links whose target resolves inside the tree (relative target,
//   resolved through the archive's own links, loops refused). Links are legitimate in source trees and the git
//   path allows them too; they are created last, after every file, so nothing is ever written through one, and no
//   entry may have a link as a parent directory. Hard links, devices, FIFOs and other types are refused.
// - Modes follow git: 0o755 when the owner-executable bit is set, else 0o644. Never more than 0o755 (no setuid,
//   setgid or sticky bit, no group/world write), and every file stays readable by the build, exactly as for git
//   sources (a 0o600 file would be unreadable to the non-root build user). Directories are 0o755. Owners, times and
//   extended attributes are ignored.
// - Work is linear in the archive's size: paths, duplicates, parents and link targets are checked on a tree of
//   the entries (implicit parent directories count against maxEntries), link resolution has a step budget.
// - A single common top-level directory is stripped: GitHub's and GitLab's archive downloads (and `tar czf app.tgz
//   app/`) wrap the project in one directory (`repo-abc123/`), but the build expects the project at the root.
// - Any path appearing twice is refused, except a directory repeated: overwriting is never needed by an upload.
//
// The rooms: read.ts (gunzip and the byte budget), tar-format.ts (the tar headers; its header says why no
// maintained parser replaces it), policy.ts (paths, links and the tree plan), extract.ts (pass 2, writing),
// errors.ts (the refusals).

export type TarballInput = { file: string } | { buffer: Buffer };

export type ExtractTarballOptions = {
  /** Size of the .tar.gz itself. */
  maxCompressedBytes: number;
  /** Sum of the sizes of the files in the archive. Also bounds decompression (gzip bombs). */
  maxExtractedBytes: number;
  /** Files, directories and links, counting parent directories the archive only implies. */
  maxEntries: number;
};

export type ExtractTarballResult = { files: number; bytes: number };

/** A quick check of the first bytes of an upload: gzip magic (1f 8b) and the deflate method (08). */
export function validateTarballUpload(headBytes: Uint8Array): void {
  if (headBytes.length < 3 || headBytes[0] !== 0x1f || headBytes[1] !== 0x8b || headBytes[2] !== 0x08) {
    throw invalidArchive("The upload is not a gzip-compressed tar archive (.tar.gz).");
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Entry point

function positiveLimit(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer`);
  return value;
}

/**
 * Unpacks a .tar.gz into dest (absolute; must not exist or be an empty directory). Throws SourceError with code
 * invalid_archive, unsafe_path, too_large or unsupported_entry, and then leaves dest as it was found.
 */
export async function extractTarball(
  input: TarballInput,
  dest: string,
  options: ExtractTarballOptions,
): Promise<ExtractTarballResult> {
  const maxCompressedBytes = positiveLimit(options.maxCompressedBytes, "maxCompressedBytes");
  const limits: Limits = {
    maxExtractedBytes: positiveLimit(options.maxExtractedBytes, "maxExtractedBytes"),
    maxEntries: positiveLimit(options.maxEntries, "maxEntries"),
  };
  if (!path.isAbsolute(dest)) throw new Error("the extraction destination must be an absolute path");
  const root = path.normalize(dest);
  // Everything the tar stream may legitimately hold besides file data: a header, up to MAX_META_CHAIN extended
  // headers of bounded size and padding per entry, and the end marker. Decompressing beyond that is a bomb.
  const streamBudget =
    limits.maxExtractedBytes +
    (limits.maxEntries + 1) * (MAX_META_CHAIN + 1) * 2 * BLOCK +
    Math.min(limits.maxEntries * 8 * 1024, 256 * 1024 * 1024) +
    4 * BLOCK;

  let handle: FileHandle | undefined;
  try {
    let source: { buffer: Buffer } | { handle: FileHandle };
    if ("buffer" in input) {
      if (input.buffer.length > maxCompressedBytes) throw tooLargeCompressed(maxCompressedBytes);
      validateTarballUpload(input.buffer.subarray(0, 3));
      source = { buffer: input.buffer };
    } else {
      handle = await open(input.file, constants.O_RDONLY | constants.O_NOFOLLOW);
      const stats = await handle.stat();
      if (!stats.isFile()) throw invalidArchive("The upload is not a regular file.");
      if (stats.size > maxCompressedBytes) throw tooLargeCompressed(maxCompressedBytes);
      const head = Buffer.alloc(3);
      const { bytesRead } = await handle.read(head, 0, 3, 0);
      validateTarballUpload(head.subarray(0, bytesRead));
      source = { handle };
    }

    const read = async (visit: (entry: TarEntry, data: EntryData) => Promise<void>): Promise<void> => {
      const stream = openGunzip(source, maxCompressedBytes);
      try {
        const reader = new ByteReader(stream.iterator, streamBudget, () => tooLargeExtracted(limits.maxExtractedBytes));
        await walkTar(reader, limits, visit);
      } finally {
        stream.close();
      }
    };

    // Pass 1: decide everything, write nothing.
    const entries: TarEntry[] = [];
    await read(async (entry) => {
      entries.push(entry);
    });
    const strip = shouldStrip(entries);
    const tree = buildTree(entries, strip, limits.maxEntries);
    const files = entries.filter((entry) => entry.kind === "file");
    const result = { files: files.length, bytes: files.reduce((sum, entry) => sum + entry.size, 0) };

    // Pass 2: write what pass 1 accepted.
    const state = await destState(root, "extraction");
    try {
      if (state === "absent") await mkdir(root, { mode: 0o755 });
      await chmod(root, 0o755);
      const writer = new TreeWriter(root, tree);
      let index = 0;
      await read(async (entry, data) => {
        const expected = entries[index];
        index += 1;
        if (
          expected === undefined ||
          expected.kind !== entry.kind ||
          expected.size !== entry.size ||
          expected.linkTarget !== entry.linkTarget ||
          expected.segments.join("/") !== entry.segments.join("/")
        ) {
          throw invalidArchive("The archive changed while it was being unpacked.");
        }
        const segments = finalSegments(entry, strip);
        if (segments.length === 0) return;
        if (entry.kind === "directory") await writer.ensureDir(segments);
        else if (entry.kind === "file") await writer.writeFile(segments, entry.mode, entry.size, data);
        else writer.deferLink(segments, entry.linkTarget);
      });
      if (index !== entries.length) throw invalidArchive("The archive changed while it was being unpacked.");
      await writer.createLinks();
    } catch (error) {
      await restoreDest(root, state);
      throw error;
    }
    return result;
  } finally {
    await handle?.close();
  }
}
