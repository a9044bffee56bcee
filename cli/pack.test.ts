// What `tussilago deploy` uploads: gitignore semantics from .gitignore and .tussilagoignore at any depth, .git never,
// symlinks kept only inside the directory, the archive's real contents, and the size limit.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { list as listTar } from "tar";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CliError, EXIT } from "./errors";
import { listSource, packSource } from "./pack";

let root: string;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-cli-pack-"));
});

afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function write(files: Record<string, string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await fs.writeFile(path.join(root, name), content);
  }
}

async function files(): Promise<string[]> {
  const { entries } = await listSource(root);
  const isFile = await Promise.all(entries.map(async (e) => !(await fs.lstat(path.join(root, e))).isDirectory()));
  return entries.filter((_, index) => isFile[index]);
}

describe("listSource", () => {
  it("honours .gitignore patterns and negation, and never uploads .git", async () => {
    await write({
      ".gitignore": "*.log\n!keep.log\nbuild/\n/secret.txt\n",
      "app.py": "",
      "debug.log": "",
      "keep.log": "",
      "build/out.bin": "",
      "secret.txt": "",
      "docs/secret.txt": "",
      ".git/config": "",
      ".git/objects/ab": "",
    });
    expect(await files()).toEqual([".gitignore", "app.py", "docs/secret.txt", "keep.log"]);
  });

  it("applies a nested .gitignore to its own directory, and lets it re-include what a parent excluded", async () => {
    await write({
      ".gitignore": "*.csv\n",
      "top.csv": "",
      "data/.gitignore": "!wanted.csv\n/local.txt\n",
      "data/wanted.csv": "",
      "data/other.csv": "",
      "data/local.txt": "",
      "local.txt": "",
      "data/deeper/local.txt": "",
    });
    expect(await files()).toEqual([
      ".gitignore",
      "data/.gitignore",
      "data/deeper/local.txt",
      "data/wanted.csv",
      "local.txt",
    ]);
  });

  it("reads .tussilagoignore like .gitignore, after it, so it can exclude or re-include", async () => {
    await write({
      ".gitignore": ".env\n",
      ".tussilagoignore": "tests/\n*.sqlite3\n!.env\n",
      ".env": "",
      "app.py": "",
      "db.sqlite3": "",
      "tests/test_app.py": "",
    });
    expect(await files()).toEqual([".env", ".gitignore", ".tussilagoignore", "app.py"]);
  });

  it("keeps no file of an excluded directory, as git does, even one a pattern re-includes", async () => {
    await write({ ".gitignore": "node_modules/\n!node_modules/keep.js\n", "node_modules/keep.js": "", "a.py": "" });
    expect(await files()).toEqual([".gitignore", "a.py"]);
  });

  it("keeps symlinks that stay inside as links and leaves out those pointing outside, never following them", async () => {
    await write({ "app.py": "", "conf/base.py": "" });
    await fs.symlink("../app.py", path.join(root, "conf", "inside.py"));
    await fs.symlink("/etc/passwd", path.join(root, "absolute"));
    await fs.symlink("../../outside", path.join(root, "conf", "escape"));
    const outside = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-cli-outside-"));
    await fs.writeFile(path.join(outside, "private.key"), "secret");
    await fs.symlink(outside, path.join(root, "linked-dir"));
    try {
      const { entries, skippedLinks } = await listSource(root);
      expect(entries).toEqual(["app.py", "conf", "conf/base.py", "conf/inside.py"]);
      expect(skippedLinks.sort()).toEqual(["absolute", "conf/escape", "linked-dir"]);
    } finally {
      await fs.rm(outside, { recursive: true, force: true });
    }
  });

  it("refuses a path that is not a directory", async () => {
    const error = await listSource(path.join(root, "missing")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(EXIT.usage);
  });
});

describe("packSource", () => {
  async function tarEntries(tarball: Buffer): Promise<Map<string, { type: string; linkpath?: string; size: number }>> {
    const file = path.join(os.tmpdir(), `tussilago-cli-pack-${process.pid}-${Date.now()}.tar.gz`);
    await fs.writeFile(file, tarball);
    const seen = new Map<string, { type: string; linkpath?: string; size: number }>();
    try {
      await listTar({
        file,
        onReadEntry: (entry) => seen.set(entry.path, { type: entry.type, linkpath: entry.linkpath, size: entry.size }),
      });
    } finally {
      await fs.rm(file, { force: true });
    }
    return seen;
  }

  it("writes a gzip'd tarball of exactly the listed entries, links as links", async () => {
    await write({ ".gitignore": "*.pyc\n", "app.py": "print('hi')\n", "pkg/mod.pyc": "x", "pkg/__init__.py": "" });
    await fs.symlink("app.py", path.join(root, "main.py"));
    const tarball = await packSource(root, await listSource(root), 10 * 1024 * 1024);
    expect(tarball.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const entries = await tarEntries(tarball);
    expect([...entries.keys()].sort()).toEqual([".gitignore", "app.py", "main.py", "pkg/", "pkg/__init__.py"]);
    expect(entries.get("app.py")).toMatchObject({ type: "File", size: "print('hi')\n".length });
    expect(entries.get("main.py")).toMatchObject({ type: "SymbolicLink", linkpath: "app.py" });
  });

  it("refuses a source over the size limit with a clear error", async () => {
    const { randomBytes } = await import("node:crypto");
    await fs.writeFile(path.join(root, "blob.bin"), randomBytes(256 * 1024));
    const error = await packSource(root, await listSource(root), 64 * 1024).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).code).toBe("too_large");
    expect((error as CliError).message).toMatch(/over 0\.1 MB compressed.*\.tussilagoignore/);
  });
});
