import { SourceError } from "../source-errors";
import { quote, unsafePath } from "./errors";

// What an archive may contain, whatever reads it: entry paths and link targets (checked per header, as they are
// read), then the whole tree (pass 1's plan): the top directory to strip, duplicates, entries inside files or links,
// and links that resolve outside the tree. Knows nothing of the tar format itself (tar-format.ts).

const MAX_PATH_BYTES = 4096;
const MAX_NAME_BYTES = 255;

export type EntryKind = "file" | "directory" | "symlink";

export type TarEntry = {
  kind: EntryKind;
  /** Path segments as in the archive (no "", ".", ".."). */
  segments: string[];
  size: number;
  mode: number;
  linkTarget: string;
};

export type Limits = { maxExtractedBytes: number; maxEntries: number };

export type EntryData = { chunks(): AsyncGenerator<Buffer> };

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters in names is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Splits an entry path into segments, refusing anything that could leave the tree or confuse a reader. */
export function entrySegments(raw: string): string[] {
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

export function checkLinkTarget(target: string, where: string): void {
  const refuse = (why: string) =>
    unsafePath(`The archive contains a symbolic link ${quote(where)} ${why}; links must stay inside the archive.`);
  if (target === "") throw refuse("with an empty target");
  if (target.includes("\0") || target.includes("\\") || CONTROL.test(target)) throw refuse("with an invalid target");
  if (target.startsWith("/")) throw refuse(`to the absolute path ${quote(target)}`);
  if (Buffer.byteLength(target) > MAX_PATH_BYTES) throw refuse("with a target that is too long");
}

// ---------------------------------------------------------------------------------------------------------------
// The plan (pass 1 result)

/**
 * Strip the top-level directory when every entry lives under the same one (and something is inside it): the
 * GitHub/GitLab archive layout. A lone top-level file, or several top-level names, are left as they are.
 */
export function shouldStrip(entries: readonly TarEntry[]): boolean {
  const named = entries.filter((entry) => entry.segments.length > 0);
  const top = named[0]?.segments[0];
  if (top === undefined) return false;
  return (
    named.every((entry) => entry.segments[0] === top && (entry.segments.length > 1 || entry.kind === "directory")) &&
    named.some((entry) => entry.segments.length > 1)
  );
}

export function finalSegments(entry: TarEntry, strip: boolean): string[] {
  return strip ? entry.segments.slice(1) : entry.segments;
}

/**
 * The tree as it will be on disk (after stripping), one node per file, directory or link, including directories
 * that only exist implicitly as parents. Every check walks it segment by segment, so the work stays linear in the
 * size of the archive whatever depths and link chains a hostile one contains.
 */
export type TreeNode = {
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
export function buildTree(entries: readonly TarEntry[], strip: boolean, maxEntries: number): TreeNode {
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
