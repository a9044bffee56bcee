import { constants } from "node:fs";
import { chmod, type FileHandle, lstat, mkdir, open, readdir, rm, symlink } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { createGunzip, type Gunzip } from "node:zlib";
import { SourceError } from "./source-errors";

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

const BLOCK = 512;
const MAX_PATH_BYTES = 4096;
const MAX_NAME_BYTES = 255;
// pax extended headers and GNU long names: generous for long paths and macOS extended attributes.
const MAX_META_RECORD_BYTES = 64 * 1024;
// Metadata headers in a row before a real entry (pax x + GNU L + GNU K + a global header would be 4).
const MAX_META_CHAIN = 4;
const DATA_CHUNK = 64 * 1024;

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

type EntryKind = "file" | "directory" | "symlink";

type TarEntry = {
  kind: EntryKind;
  /** Path segments as in the archive (no "", ".", ".."). */
  segments: string[];
  size: number;
  mode: number;
  linkTarget: string;
};

function invalidArchive(message: string): SourceError {
  return new SourceError("invalid_archive", message);
}

function unsafePath(message: string): SourceError {
  return new SourceError("unsafe_path", message);
}

function unsupported(message: string): SourceError {
  return new SourceError("unsupported_entry", message);
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Number((bytes / 1024 ** 2).toFixed(1))} MiB`;
  if (bytes >= 1024) return `${Number((bytes / 1024).toFixed(1))} KiB`;
  return `${bytes} bytes`;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}...` : text);
}

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined;
}

/** A quick check of the first bytes of an upload: gzip magic (1f 8b) and the deflate method (08). */
export function validateTarballUpload(headBytes: Uint8Array): void {
  if (headBytes.length < 3 || headBytes[0] !== 0x1f || headBytes[1] !== 0x8b || headBytes[2] !== 0x08) {
    throw invalidArchive("The upload is not a gzip-compressed tar archive (.tar.gz).");
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Input

type Source = { iterator: AsyncIterator<Buffer>; close(): void };

/**
 * The upload's bytes, read with explicit positions from the already-open handle (so both passes read the same inode,
 * and a FileHandle stream's auto-close cannot get in the way of the second pass), never more than the limit.
 */
async function* readHandle(handle: FileHandle, maxCompressedBytes: number): AsyncGenerator<Buffer> {
  let position = 0;
  for (;;) {
    const buffer = Buffer.alloc(DATA_CHUNK);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    // The size was checked before; a file that grew since is refused all the same.
    if (position > maxCompressedBytes) throw tooLargeCompressed(maxCompressedBytes);
    yield buffer.subarray(0, bytesRead);
  }
}

function openGunzip(input: { buffer: Buffer } | { handle: FileHandle }, maxCompressedBytes: number): Source {
  const gunzip: Gunzip = createGunzip();
  let fileStream: Readable | undefined;
  if ("buffer" in input) {
    gunzip.end(input.buffer);
  } else {
    const stream = Readable.from(readHandle(input.handle, maxCompressedBytes), { objectMode: false });
    stream.on("error", (error) => gunzip.destroy(error));
    stream.pipe(gunzip);
    fileStream = stream;
  }
  const iterator = gunzip[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return {
    iterator,
    close: () => {
      fileStream?.destroy();
      gunzip.destroy();
    },
  };
}

function tooLargeCompressed(max: number): SourceError {
  return new SourceError("too_large", `The upload is larger than the limit of ${formatBytes(max)}.`);
}

function tooLargeExtracted(max: number): SourceError {
  return new SourceError("too_large", `The archive unpacks to more than the limit of ${formatBytes(max)}.`);
}

function truncated(): SourceError {
  return invalidArchive("The archive is truncated.");
}

/** Exact reads over the decompressed stream, counting every byte against a budget (the gzip-bomb cap). */
class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private consumed = 0;

  constructor(
    private readonly iterator: AsyncIterator<Buffer>,
    private readonly budget: number,
    private readonly onBudgetExceeded: () => SourceError,
  ) {}

  private async more(): Promise<boolean> {
    if (this.ended) return false;
    let result: IteratorResult<Buffer>;
    try {
      result = await this.iterator.next();
    } catch (error) {
      if (error instanceof SourceError) throw error;
      // zlib's messages ("incorrect header check", "unexpected end of file") name no paths.
      if (errorCode(error)?.startsWith("Z_")) {
        const detail = error instanceof Error ? error.message : "unknown error";
        throw invalidArchive(`The archive is not valid gzip data or is truncated (${detail}).`);
      }
      throw error;
    }
    if (result.done) {
      this.ended = true;
      return false;
    }
    this.chunks.push(result.value);
    this.buffered += result.value.length;
    return true;
  }

  /** Up to `max` bytes (at least one), or null at the end of the stream. */
  async readSome(max: number): Promise<Buffer | null> {
    if (this.buffered === 0 && !(await this.more())) return null;
    const first = this.chunks[0];
    if (first === undefined) return null;
    let out: Buffer;
    if (first.length <= max) {
      this.chunks.shift();
      out = first;
    } else {
      this.chunks[0] = first.subarray(max);
      out = first.subarray(0, max);
    }
    this.buffered -= out.length;
    this.consumed += out.length;
    if (this.consumed > this.budget) throw this.onBudgetExceeded();
    return out;
  }

  /** Exactly n bytes; null when the stream ends before the first byte; truncated when it ends in between. */
  async readExact(n: number): Promise<Buffer | null> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const chunk = await this.readSome(n - got);
      if (chunk === null) {
        if (got === 0) return null;
        throw truncated();
      }
      parts.push(chunk);
      got += chunk.length;
    }
    return parts.length === 1 && parts[0] !== undefined ? parts[0] : Buffer.concat(parts, n);
  }

  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      const chunk = await this.readSome(Math.min(left, DATA_CHUNK));
      if (chunk === null) throw truncated();
      left -= chunk.length;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Tar format

const utf8 = new TextDecoder("utf-8", { fatal: true });

function decodeName(bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw unsafePath(`The archive contains a ${what} that is not valid UTF-8.`);
  }
}

/** A NUL-terminated header field. */
function cString(block: Buffer, offset: number, length: number): Buffer {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return end >= 0 ? field.subarray(0, end) : field;
}

/** Octal ASCII (NUL- or space-terminated), or GNU base-256 for big values. */
function parseNumeric(block: Buffer, offset: number, length: number, what: string): number {
  const field = block.subarray(offset, offset + length);
  const first = field.readUInt8(0);
  if (first & 0x80) {
    if (first & 0x40) throw invalidArchive(`The archive has a negative ${what}.`);
    let value = first & 0x3f;
    for (let i = 1; i < field.length; i++) {
      value = value * 256 + field.readUInt8(i);
      if (value > Number.MAX_SAFE_INTEGER) throw invalidArchive(`The archive has an impossible ${what}.`);
    }
    return value;
  }
  const text = cString(block, offset, length).toString("latin1").trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw invalidArchive(`The archive has a malformed ${what} field.`);
  return Number.parseInt(text, 8);
}

function isZeroBlock(block: Buffer): boolean {
  for (const byte of block) if (byte !== 0) return false;
  return true;
}

/** The checksum counts the checksum field as spaces; some old writers summed signed bytes, accepted like GNU tar. */
function checksumMatches(block: Buffer): boolean {
  let stored: number;
  try {
    stored = parseNumeric(block, 148, 8, "checksum");
  } catch {
    return false;
  }
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block.readUInt8(i);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed;
}

/** pax records: "<length> <key>=<value>\n", length in decimal bytes including itself. Values stay raw bytes. */
function parsePax(data: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    const lengthText = space < 0 ? "" : data.subarray(pos, space).toString("latin1");
    if (!/^[1-9][0-9]{0,8}$/.test(lengthText)) throw invalidArchive("The archive has a malformed pax header.");
    const end = pos + Number(lengthText);
    if (end > data.length || end <= space + 1 || data.readUInt8(end - 1) !== 0x0a) {
      throw invalidArchive("The archive has a malformed pax header.");
    }
    const record = data.subarray(space + 1, end - 1);
    const equals = record.indexOf(0x3d);
    if (equals <= 0) throw invalidArchive("The archive has a malformed pax header.");
    records.set(record.subarray(0, equals).toString("utf8"), record.subarray(equals + 1));
    pos = end;
  }
  return records;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters in names is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Splits an entry path into segments, refusing anything that could leave the tree or confuse a reader. */
function entrySegments(raw: string): string[] {
  if (raw.includes("\0")) throw unsafePath("The archive contains a path with a NUL byte.");
  if (raw.includes("\\")) throw unsafePath(`The archive contains a path with a backslash: ${quote(raw)}.`);
  if (CONTROL.test(raw)) throw unsafePath(`The archive contains a path with control characters: ${quote(raw)}.`);
  if (raw.startsWith("/")) throw unsafePath(`The archive contains an absolute path: ${quote(raw)}.`);
  if (Buffer.byteLength(raw) > MAX_PATH_BYTES) throw unsafePath("The archive contains a path that is too long.");
  const segments = raw.split("/").filter((segment) => segment !== "" && segment !== ".");
  if (segments.includes("..")) throw unsafePath(`The archive contains a path with "..": ${quote(raw)}.`);
  if (segments.some((segment) => Buffer.byteLength(segment) > MAX_NAME_BYTES)) {
    throw unsafePath("The archive contains a file name longer than 255 bytes.");
  }
  return segments;
}

function checkLinkTarget(target: string, where: string): void {
  const refuse = (why: string) =>
    unsafePath(`The archive contains a symbolic link ${quote(where)} ${why}; links must stay inside the archive.`);
  if (target === "") throw refuse("with an empty target");
  if (target.includes("\0") || target.includes("\\") || CONTROL.test(target)) throw refuse("with an invalid target");
  if (target.startsWith("/")) throw refuse(`to the absolute path ${quote(target)}`);
  if (Buffer.byteLength(target) > MAX_PATH_BYTES) throw refuse("with a target that is too long");
}

type Limits = { maxExtractedBytes: number; maxEntries: number };

type EntryData = { chunks(): AsyncGenerator<Buffer> };

type Pending = { paxPath?: string; paxLinkpath?: string; paxSize?: number; longName?: string; longLink?: string };

/**
 * Reads the archive's headers in order and calls `visit` for every real entry with its data (files only); data the
 * visitor does not read is skipped. Refuses, at the header that breaks it, anything over the limits or not allowed.
 */
async function walkTar(
  reader: ByteReader,
  limits: Limits,
  visit: (entry: TarEntry, data: EntryData) => Promise<void>,
): Promise<void> {
  let entries = 0;
  let fileBytes = 0;
  let chain = 0;
  let pending: Pending = {};
  for (;;) {
    const header = await reader.readExact(BLOCK);
    if (header === null) throw invalidArchive("The archive ends without an end-of-archive marker; it is truncated.");
    if (isZeroBlock(header)) {
      // End of archive: two zero blocks; one followed by the end of the stream is accepted like GNU tar does.
      const second = await reader.readExact(BLOCK);
      if (second !== null && !isZeroBlock(second)) throw invalidArchive("The archive has data after its end marker.");
      if (chain > 0) throw invalidArchive("The archive ends in the middle of an entry.");
      return;
    }
    if (!checksumMatches(header)) {
      throw invalidArchive("A tar header has a wrong checksum: the archive is corrupt or not a tar archive.");
    }
    if (header.subarray(257, 262).toString("latin1") !== "ustar") {
      throw invalidArchive("The archive is not in ustar, pax or GNU tar format.");
    }
    const gnu = header.subarray(257, 265).toString("latin1") === "ustar  \0";
    const flag = String.fromCharCode(header.readUInt8(156));
    const headerSize = parseNumeric(header, 124, 12, "size");

    if (flag === "x" || flag === "g" || flag === "L" || flag === "K") {
      chain += 1;
      if (chain > MAX_META_CHAIN) throw invalidArchive("The archive has too many extended headers in a row.");
      if (headerSize > MAX_META_RECORD_BYTES) throw invalidArchive("The archive has an oversized extended header.");
      const data = headerSize === 0 ? Buffer.alloc(0) : await reader.readExact(headerSize);
      if (data === null) throw truncated();
      await reader.skip(padding(headerSize));
      if (flag === "x") applyPax(parsePax(data), pending);
      else if (flag === "g")
        parsePax(data); // validated, not applied: no global key matters here
      else if (flag === "L") pending.longName = decodeName(cString(data, 0, data.length), "file name");
      else pending.longLink = decodeName(cString(data, 0, data.length), "link target");
      continue;
    }

    chain = 0;
    entries += 1;
    if (entries > limits.maxEntries) {
      throw new SourceError("too_large", `The archive has more than ${limits.maxEntries} entries.`);
    }
    let kind: EntryKind;
    switch (flag) {
      case "0":
      case "\0":
      case "7": // contiguous file: a regular file everywhere but on one historic system
        kind = "file";
        break;
      case "5":
        kind = "directory";
        break;
      case "2":
        kind = "symlink";
        break;
      case "1":
        throw unsupported("The archive contains a hard link; only files, directories and symbolic links are allowed.");
      case "3":
      case "4":
        throw unsupported(
          "The archive contains a device file; only files, directories and symbolic links are allowed.",
        );
      case "6":
        throw unsupported("The archive contains a FIFO; only files, directories and symbolic links are allowed.");
      default:
        throw unsupported(
          `The archive contains an entry of unsupported type ${quote(flag)}; only files, directories and symbolic ` +
            "links are allowed.",
        );
    }

    let rawPath = pending.paxPath ?? pending.longName;
    if (rawPath === undefined) {
      const name = decodeName(cString(header, 0, 100), "file name");
      const prefix = gnu ? "" : decodeName(cString(header, 345, 155), "file name");
      rawPath = prefix === "" ? name : `${prefix}/${name}`;
    }
    if (rawPath === "") throw invalidArchive("The archive contains an entry without a name.");
    const segments = entrySegments(rawPath);
    if (segments.length === 0 && kind !== "directory") {
      throw unsafePath(`The archive contains a ${kind} at the root path ${quote(rawPath)}.`);
    }
    const size = pending.paxSize ?? headerSize;
    const linkTarget =
      kind === "symlink"
        ? (pending.paxLinkpath ?? pending.longLink ?? decodeName(cString(header, 157, 100), "link target"))
        : "";
    pending = {};
    if (kind === "symlink") checkLinkTarget(linkTarget, rawPath);
    if (kind !== "file" && size !== 0) throw invalidArchive(`The ${kind} ${quote(rawPath)} has a non-zero size.`);
    if (kind === "file") {
      fileBytes += size;
      if (fileBytes > limits.maxExtractedBytes) throw tooLargeExtracted(limits.maxExtractedBytes);
    }
    const mode = parseNumeric(header, 100, 8, "mode") & 0o7777;

    let remaining = size;
    const data: EntryData = {
      async *chunks() {
        while (remaining > 0) {
          const chunk = await reader.readSome(Math.min(remaining, DATA_CHUNK));
          if (chunk === null) throw truncated();
          remaining -= chunk.length;
          yield chunk;
        }
      },
    };
    await visit({ kind, segments, size, mode, linkTarget }, data);
    await reader.skip(remaining);
    await reader.skip(padding(size));
  }
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function applyPax(records: Map<string, Buffer>, pending: Pending): void {
  for (const key of records.keys()) {
    // Sparse files would be written wrong (holes as data, or a map as content).
    if (key.startsWith("GNU.sparse.")) throw unsupported("The archive contains a sparse file, which is not supported.");
  }
  const pathValue = records.get("path");
  if (pathValue !== undefined && pathValue.length > 0) {
    if (pathValue.includes(0)) throw unsafePath("The archive contains a path with a NUL byte.");
    pending.paxPath = decodeName(pathValue, "file name");
  }
  const linkValue = records.get("linkpath");
  if (linkValue !== undefined && linkValue.length > 0) {
    if (linkValue.includes(0)) throw unsafePath("The archive contains a link target with a NUL byte.");
    pending.paxLinkpath = decodeName(linkValue, "link target");
  }
  const sizeValue = records.get("size");
  if (sizeValue !== undefined && sizeValue.length > 0) {
    const text = sizeValue.toString("latin1");
    if (!/^[0-9]{1,16}$/.test(text) || Number(text) > Number.MAX_SAFE_INTEGER) {
      throw invalidArchive("The archive has a malformed pax size.");
    }
    pending.paxSize = Number(text);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The plan (pass 1 result)

/**
 * Strip the top-level directory when every entry lives under the same one (and something is inside it): the
 * GitHub/GitLab archive layout. A lone top-level file, or several top-level names, are left as they are.
 */
function shouldStrip(entries: readonly TarEntry[]): boolean {
  const named = entries.filter((entry) => entry.segments.length > 0);
  const top = named[0]?.segments[0];
  if (top === undefined) return false;
  return (
    named.every((entry) => entry.segments[0] === top && (entry.segments.length > 1 || entry.kind === "directory")) &&
    named.some((entry) => entry.segments.length > 1)
  );
}

function finalSegments(entry: TarEntry, strip: boolean): string[] {
  return strip ? entry.segments.slice(1) : entry.segments;
}

/**
 * The tree as it will be on disk (after stripping), one node per file, directory or link, including directories
 * that only exist implicitly as parents. Every check walks it segment by segment, so the work stays linear in the
 * size of the archive whatever depths and link chains a hostile one contains.
 */
type TreeNode = {
  entry: TarEntry | undefined;
  /** Final path, for messages; "" for the root and directories without an entry of their own. */
  path: string;
  children: Map<string, TreeNode>;
  /** Pass 2: the directory exists on disk. */
  created: boolean;
};

function newNode(path: string): TreeNode {
  return { entry: undefined, path, children: new Map(), created: false };
}

// Budget for walking link targets (segments visited, all links together); far above any real source tree.
const MAX_LINK_STEPS = 4_000_000;
// Like the kernel's limit on links followed while resolving one path (ELOOP).
const MAX_LINK_HOPS = 40;

/**
 * Builds the tree and refuses: more files and directories than allowed (implicit parent directories count, or one
 * deep path could create thousands of them), a path twice (except a directory repeated), anything inside a file or
 * a link (writing through a link is how an archive escapes), and links that resolve outside the tree.
 */
function buildTree(entries: readonly TarEntry[], strip: boolean, maxEntries: number): TreeNode {
  const root = newNode("");
  let nodes = 0;
  for (const entry of entries) {
    const segments = finalSegments(entry, strip);
    if (segments.length === 0) continue; // the root itself (".", or the stripped top directory)
    let node = root;
    for (const segment of segments) {
      let child = node.children.get(segment);
      if (child === undefined) {
        nodes += 1;
        if (nodes > maxEntries) {
          throw new SourceError("too_large", `The archive has more than ${maxEntries} files and directories.`);
        }
        child = newNode("");
        node.children.set(segment, child);
      }
      node = child;
    }
    const key = segments.join("/");
    if (node.entry !== undefined && !(node.entry.kind === "directory" && entry.kind === "directory")) {
      throw unsafePath(`The archive contains ${quote(key)} more than once.`);
    }
    node.entry = entry;
    node.path = key;
  }

  const budget = { steps: 0 };
  const ancestors: (TreeNode | undefined)[] = [];
  const visit = (node: TreeNode): void => {
    const kind = node.entry?.kind ?? "directory";
    if (kind !== "directory" && node.children.size > 0) {
      throw unsafePath(
        kind === "symlink"
          ? `The archive writes inside the symbolic link ${quote(node.path)}; that is not allowed.`
          : `The archive puts entries inside the file ${quote(node.path)}.`,
      );
    }
    if (node.entry?.kind === "symlink" && !linkStaysInside(ancestors, node.entry.linkTarget, root, budget)) {
      throw unsafePath(
        `The archive contains a symbolic link ${quote(node.path)} that points outside the archive or loops.`,
      );
    }
    ancestors.push(node);
    for (const child of node.children.values()) visit(child);
    ancestors.pop();
  };
  for (const child of root.children.values()) visit(child);
  return root;
}

/**
 * Resolves a link target the way the kernel will once the tree exists, following the archive's own links (so
 * `a -> b/../..` with `b -> ../..` is seen for what it is). `base` is the link's directory as the chain of nodes
 * from the root. Names that are not in the archive are treated as plain directories, which can only keep a path
 * inside more often than the kernel would let it exist at all. False when the target climbs above the root or the
 * links loop.
 */
function linkStaysInside(
  base: readonly (TreeNode | undefined)[],
  target: string,
  root: TreeNode,
  budget: { steps: number },
): boolean {
  let hops = 0;
  const walk = (from: readonly (TreeNode | undefined)[], text: string): (TreeNode | undefined)[] | null => {
    const stack = [...from];
    budget.steps += from.length;
    for (const part of text.split("/")) {
      budget.steps += 1;
      if (budget.steps > MAX_LINK_STEPS) throw unsafePath("The archive's symbolic links are too many or too deep.");
      if (part === "" || part === ".") continue;
      if (part === "..") {
        if (stack.length === 0) return null;
        stack.pop();
        continue;
      }
      const parent = stack.length === 0 ? root : stack[stack.length - 1];
      const child = parent?.children.get(part);
      if (child?.entry?.kind === "symlink") {
        hops += 1;
        if (hops > MAX_LINK_HOPS) return null;
        const resolved = walk(stack, child.entry.linkTarget);
        if (resolved === null) return null;
        stack.length = 0;
        for (const node of resolved) stack.push(node);
      } else {
        stack.push(child);
      }
    }
    return stack;
  };
  return walk(base, target) !== null;
}

// ---------------------------------------------------------------------------------------------------------------
// Writing (pass 2)

type DestState = "absent" | "empty";

async function destState(dest: string): Promise<DestState> {
  try {
    const stats = await lstat(dest);
    if (!stats.isDirectory()) throw new Error("the extraction destination exists and is not a directory");
    if ((await readdir(dest)).length > 0) throw new Error("the extraction destination directory is not empty");
    return "empty";
  } catch (error) {
    if (errorCode(error) === "ENOENT") return "absent";
    throw error;
  }
}

async function restoreDest(dest: string, state: DestState): Promise<void> {
  if (state === "absent") {
    await rm(dest, { recursive: true, force: true });
    return;
  }
  const entries = await readdir(dest).catch(() => []);
  await Promise.all(entries.map((name) => rm(path.join(dest, name), { recursive: true, force: true })));
}

class TreeWriter {
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
    const state = await destState(root);
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
