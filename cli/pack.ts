// `tussilago deploy` packs the source directory into a .tar.gz: every file and directory except .git and what the
// directory's .gitignore and .tussilagoignore files exclude (at any depth, gitignore semantics through the `ignore`
// package: negation, anchored and directory patterns, a deeper file refining what a shallower one says). Symlinks
// are stored as links, never followed; one that points outside the directory is left out (the platform would refuse
// it, and following it would upload files from outside). The archive is written by the maintained `tar` package.
import fs from "node:fs/promises";
import path from "node:path";
import ignore, { type Ignore } from "ignore";
import { create } from "tar";
import { CliError, EXIT } from "./errors";

export const IGNORE_FILES = [".gitignore", ".tussilagoignore"] as const;
/** Never uploaded, whatever the ignore files say: the repository's history is not the app's source. */
const ALWAYS_SKIPPED = new Set([".git"]);

type Matcher = { base: string; rules: Ignore };

export type PackList = {
  /** Paths relative to the directory, POSIX separators, directories included (so empty ones are kept). */
  entries: string[];
  /** Symlinks left out because they point outside the directory. */
  skippedLinks: string[];
};

/** Lists what `deploy` uploads from `root`, in a stable order. */
export async function listSource(root: string): Promise<PackList> {
  const top = path.resolve(root);
  const stat = await fs.stat(top).catch(() => null);
  if (!stat?.isDirectory()) throw new CliError("invalid", `${root} is not a directory.`, EXIT.usage);
  const realTop = await fs.realpath(top);
  const entries: string[] = [];
  const skippedLinks: string[] = [];

  async function walk(relDir: string, matchers: Matcher[]): Promise<void> {
    const absDir = path.join(top, relDir);
    const here = await matcherFor(absDir, relDir);
    const active = here ? [...matchers, here] : matchers;
    const children = (await fs.readdir(absDir, { withFileTypes: true })).sort((a, b) => compare(a.name, b.name));
    for (const child of children) {
      if (ALWAYS_SKIPPED.has(child.name)) continue;
      const rel = relDir === "" ? child.name : `${relDir}/${child.name}`;
      const isDir = child.isDirectory();
      if (isIgnored(active, rel, isDir)) continue;
      if (child.isSymbolicLink()) {
        if (await linkStaysInside(path.join(top, rel), top, realTop)) entries.push(rel);
        else skippedLinks.push(rel);
      } else if (isDir) {
        entries.push(rel);
        // Like git: nothing under an excluded directory can be re-included, so an ignored one is never entered.
        await walk(rel, active);
      } else if (child.isFile()) {
        entries.push(rel);
      }
      // Sockets, FIFOs and devices are not source.
    }
  }

  await walk("", []);
  return { entries, skippedLinks };
}

async function matcherFor(absDir: string, relDir: string): Promise<Matcher | null> {
  const texts = await Promise.all(
    IGNORE_FILES.map((name) => fs.readFile(path.join(absDir, name), "utf8").catch(() => "")),
  );
  if (texts.every((text) => text === "")) return null;
  // .tussilagoignore comes second, so it can re-include (!pattern) what .gitignore excludes in the same directory.
  return { base: relDir, rules: ignore().add(texts.join("\n")) };
}

/** The last file (deepest, then .tussilagoignore over .gitignore) that has an opinion on the path decides. */
function isIgnored(matchers: Matcher[], rel: string, isDir: boolean): boolean {
  let ignored = false;
  for (const { base, rules } of matchers) {
    const local = base === "" ? rel : rel.slice(base.length + 1);
    const result = rules.test(isDir ? `${local}/` : local);
    if (result.ignored) ignored = true;
    else if (result.unignored) ignored = false;
  }
  return ignored;
}

async function linkStaysInside(linkPath: string, top: string, realTop: string): Promise<boolean> {
  const target = await fs.readlink(linkPath);
  if (path.isAbsolute(target)) return false;
  // Lexically first (what the platform checks), then where it really lands (a link through another link).
  const lexical = path.resolve(path.dirname(linkPath), target);
  const realParent = await fs.realpath(path.dirname(linkPath));
  const real = path.resolve(realParent, target);
  return isInside(lexical, top) && isInside(real, realTop);
}

function isInside(candidate: string, top: string): boolean {
  const rel = path.relative(top, candidate);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Packs the listed entries of `root` into a gzip'd tarball in memory, refusing to go past `maxBytes` of compressed
 * output (a clear error instead of an upload the platform would refuse with 413 after minutes).
 */
export async function packSource(root: string, list: PackList, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const stream = create(
    { gzip: true, cwd: path.resolve(root), portable: true, follow: false, noDirRecurse: true },
    list.entries,
  );
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += buffer.length;
    if (size > maxBytes) {
      throw new CliError(
        "too_large",
        `The source of ${root} is over ${formatMb(maxBytes)} compressed (the --max-mb limit): leave out build ` +
          "output, data and virtualenvs with .tussilagoignore.",
        EXIT.usage,
      );
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

export function formatMb(bytes: number): string {
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;
}
