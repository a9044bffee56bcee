import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SourceError, type SourceErrorCode } from "./source-errors";
import { extractTarball, validateTarballUpload } from "./source-tarball";

// A small tar writer, so tests can craft exactly the (hostile) headers they need.

type Spec = {
  name: string | Buffer;
  /** typeflag: "0" file (default), "5" directory, "2" symlink, "1" hard link, "3"/"4" devices, "6" FIFO, ... */
  type?: string;
  data?: Buffer | string;
  /** Declared size, when it should differ from the data written. */
  size?: number;
  mode?: number;
  linkname?: string;
  prefix?: string;
  gnu?: boolean;
  badChecksum?: boolean;
  /** A pre-POSIX (v7) header: no "ustar" magic. */
  noMagic?: boolean;
};

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(`${value.toString(8).padStart(length - 1, "0")}\0`, offset, length, "latin1");
}

function header(spec: Spec, dataLength: number): Buffer {
  const block = Buffer.alloc(512);
  (typeof spec.name === "string" ? Buffer.from(spec.name, "utf8") : spec.name).copy(block, 0, 0, 100);
  const type = spec.type ?? "0";
  writeOctal(block, 100, 8, spec.mode ?? (type === "5" ? 0o755 : 0o644));
  writeOctal(block, 108, 8, 1000);
  writeOctal(block, 116, 8, 1000);
  writeOctal(block, 124, 12, spec.size ?? dataLength);
  writeOctal(block, 136, 12, 1_700_000_000);
  block.fill(0x20, 148, 156);
  block.write(type, 156, 1, "latin1");
  block.write(spec.linkname ?? "", 157, 100, "utf8");
  if (!spec.noMagic) block.write(spec.gnu ? "ustar  \0" : "ustar\x0000", 257, 8, "latin1");
  block.write("user", 265, 32, "latin1");
  block.write("group", 297, 32, "latin1");
  if (spec.prefix !== undefined) block.write(spec.prefix, 345, 155, "utf8");
  let sum = 0;
  for (const byte of block) sum += byte;
  writeOctal(block, 148, 7, spec.badChecksum ? sum + 1 : sum);
  return block;
}

function entry(spec: Spec): Buffer {
  const data = typeof spec.data === "string" ? Buffer.from(spec.data) : (spec.data ?? Buffer.alloc(0));
  const padding = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([header(spec, data.length), data, padding]);
}

function tar(specs: Spec[], options: { end?: boolean } = {}): Buffer {
  return Buffer.concat([...specs.map(entry), Buffer.alloc(options.end === false ? 0 : 1024)]);
}

function tgz(specs: Spec[], options: { end?: boolean } = {}): Buffer {
  return gzipSync(tar(specs, options));
}

function paxData(records: Record<string, string>): Buffer {
  return Buffer.concat(
    Object.entries(records).map(([key, value]) => {
      const body = ` ${key}=${value}\n`;
      let length = Buffer.byteLength(body) + 1;
      while (String(length).length + Buffer.byteLength(body) !== length) length += 1;
      return Buffer.from(`${length}${body}`);
    }),
  );
}

function pax(records: Record<string, string>, type = "x"): Spec {
  return { name: "PaxHeader/entry", type, data: paxData(records) };
}

function longLink(name: string, type = "L"): Spec {
  return { name: "././@LongLink", type, data: `${name}\0`, gnu: true };
}

const file = (
  name: string | Buffer,
  data: string | Buffer = `content of ${name}\n`,
  extra: Partial<Spec> = {},
): Spec => ({
  name,
  data,
  ...extra,
});
const dir = (name: string, extra: Partial<Spec> = {}): Spec => ({ name, type: "5", ...extra });
const link = (name: string, target: string): Spec => ({ name, type: "2", linkname: target });

const LIMITS = { maxCompressedBytes: 1024 * 1024, maxExtractedBytes: 1024 * 1024, maxEntries: 100 };

let scratch: string;
let dest: string;

beforeEach(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), "tsl-source-tarball-"));
  dest = path.join(scratch, "src");
});

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function exists(target: string): Promise<boolean> {
  return lstat(target).then(
    () => true,
    () => false,
  );
}

async function refusal(run: () => Promise<unknown>): Promise<SourceError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof SourceError) return error;
    throw error;
  }
  throw new Error("expected a SourceError");
}

async function listTree(root: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(path.join(root, prefix), { withFileTypes: true })).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(`${rel}/`, ...(await listTree(root, rel)));
    else if (entry.isSymbolicLink()) out.push(`${rel} -> ${await readlink(path.join(root, rel))}`);
    else out.push(rel);
  }
  return out;
}

describe("extractTarball: accepted archives", () => {
  it("unpacks a normal project with normalized modes and inside links", async () => {
    const archive = tgz([
      file("app.py", "print('hi')\n"),
      dir("pkg/"),
      file("pkg/__init__.py", ""),
      file("run.sh", "#!/bin/sh\n", { mode: 0o4777 }),
      file("secret.txt", "x", { mode: 0o600 }),
      dir("data/", { mode: 0o777 }),
      dir("data/", { mode: 0o700 }),
      file("README.md", "# hi\n"),
      link("README.link", "README.md"),
      link("pkg/readme", "../README.md"),
      link("here", "."),
      link("chain", "README.link"),
    ]);
    const result = await extractTarball({ buffer: archive }, dest, LIMITS);
    expect(result).toEqual({ files: 5, bytes: 12 + 0 + 10 + 1 + 5 });
    expect(await listTree(dest)).toEqual([
      "app.py",
      "chain -> README.link",
      "data/",
      "here -> .",
      "pkg/",
      "pkg/__init__.py",
      "pkg/readme -> ../README.md",
      "README.link -> README.md",
      "README.md",
      "run.sh",
      "secret.txt",
    ]);
    expect(await readFile(path.join(dest, "app.py"), "utf8")).toBe("print('hi')\n");
    expect((await stat(path.join(dest, "run.sh"))).mode & 0o7777).toBe(0o755);
    expect((await stat(path.join(dest, "secret.txt"))).mode & 0o7777).toBe(0o644);
    expect((await stat(path.join(dest, "app.py"))).mode & 0o7777).toBe(0o644);
    expect((await stat(path.join(dest, "data"))).mode & 0o7777).toBe(0o755);
    expect((await stat(dest)).mode & 0o7777).toBe(0o755);
  });

  it("reads from a file", async () => {
    const upload = path.join(scratch, "upload.tar.gz");
    await writeFile(upload, tgz([file("app.py"), file("requirements.txt", "flask\n")]));
    expect(await extractTarball({ file: upload }, dest, LIMITS)).toEqual({ files: 2, bytes: 24 });
    expect(await listTree(dest)).toEqual(["app.py", "requirements.txt"]);
  });

  it("fills a pre-existing empty directory", async () => {
    await mkdir(dest);
    await extractTarball({ buffer: tgz([file("app.py")]) }, dest, LIMITS);
    expect(await listTree(dest)).toEqual(["app.py"]);
  });

  it("strips a GitHub-style single top-level directory (with its pax global header)", async () => {
    const archive = tgz([
      { ...pax({ comment: "3f786850e387550fdab836ed7e6dc881de23001b" }, "g"), name: "pax_global_header" },
      dir("octo-repo-3f78685/"),
      file("octo-repo-3f78685/app.py"),
      dir("octo-repo-3f78685/src/"),
      file("octo-repo-3f78685/src/main.py"),
      link("octo-repo-3f78685/main.py", "src/main.py"),
    ]);
    await extractTarball({ buffer: archive }, dest, LIMITS);
    expect(await listTree(dest)).toEqual(["app.py", "main.py -> src/main.py", "src/", "src/main.py"]);
  });

  it("strips a top-level directory that has no entry of its own", async () => {
    await extractTarball({ buffer: tgz([file("proj/app.py"), file("proj/lib/x.py")]) }, dest, LIMITS);
    expect(await listTree(dest)).toEqual(["app.py", "lib/", "lib/x.py"]);
  });

  it("keeps several top-level names, a lone top-level file and ./-prefixed paths as they are", async () => {
    await extractTarball({ buffer: tgz([dir("./"), file("./app.py"), file("./lib/x.py")]) }, dest, LIMITS);
    expect(await listTree(dest)).toEqual(["app.py", "lib/", "lib/x.py"]);
    await rm(dest, { recursive: true });
    await extractTarball({ buffer: tgz([file("app.py")]) }, dest, LIMITS);
    expect(await listTree(dest)).toEqual(["app.py"]);
  });

  it("reads pax long names, GNU long names and ustar prefixes", async () => {
    const deep = `${"d".repeat(60)}/${"e".repeat(60)}/${"f".repeat(60)}/module.py`;
    const gnuLong = `${"g".repeat(120)}/long.py`;
    const archive = tgz([
      pax({ path: deep }),
      file("truncated-name-ignored", "pax\n"),
      longLink(gnuLong),
      file("././@LongLink-ignored", "gnu\n", { gnu: true }),
      file("name.py", "prefixed\n", { prefix: "some/prefix" }),
      pax({ linkpath: deep }),
      link("deep-link", "ignored"),
      pax({ size: "4" }),
      file("pax-size.txt", "size", { size: 0 }),
    ]);
    await extractTarball({ buffer: archive }, dest, LIMITS);
    expect(await readFile(path.join(dest, deep), "utf8")).toBe("pax\n");
    expect(await readFile(path.join(dest, gnuLong), "utf8")).toBe("gnu\n");
    expect(await readFile(path.join(dest, "some/prefix/name.py"), "utf8")).toBe("prefixed\n");
    expect(await readlink(path.join(dest, "deep-link"))).toBe(deep);
    expect(await readFile(path.join(dest, "pax-size.txt"), "utf8")).toBe("size");
  });

  it("accepts an archive ending with a single zero block", async () => {
    const raw = Buffer.concat([entry(file("app.py")), Buffer.alloc(512)]);
    await extractTarball({ buffer: gzipSync(raw) }, dest, LIMITS);
    expect(await listTree(dest)).toEqual(["app.py"]);
  });
});

describe("extractTarball: hostile archives", () => {
  const cases: Array<[string, () => Buffer, SourceErrorCode, Partial<typeof LIMITS>?]> = [
    ["an absolute path", () => tgz([file("ok.py"), file("/etc/evil")]), "unsafe_path"],
    ["../evil", () => tgz([file("ok.py"), file("../evil")]), "unsafe_path"],
    ["a/../../evil", () => tgz([file("a/../../evil")]), "unsafe_path"],
    ["a harmless-looking a/../b", () => tgz([file("a/../b")]), "unsafe_path"],
    ["an absolute pax path", () => tgz([pax({ path: "/etc/cron.d/evil" }), file("harmless")]), "unsafe_path"],
    ["a pax path with ..", () => tgz([pax({ path: "x/../../evil" }), file("harmless")]), "unsafe_path"],
    ["a pax path with a NUL byte", () => tgz([pax({ path: "ok\0/../../evil" }), file("harmless")]), "unsafe_path"],
    ["a GNU long name with ..", () => tgz([longLink(`../${"x".repeat(120)}`), file("harmless")]), "unsafe_path"],
    ["an absolute ustar prefix", () => tgz([file("evil", "x", { prefix: "/etc" })]), "unsafe_path"],
    ["a backslash", () => tgz([file("..\\evil")]), "unsafe_path"],
    ["a control character", () => tgz([file("evil\nname")]), "unsafe_path"],
    ["a name that is not UTF-8", () => tgz([file(Buffer.from([0x66, 0xff, 0xfe]))]), "unsafe_path"],
    ["a file at the root path", () => tgz([file(".")]), "unsafe_path"],
    ["a symlink to /etc/passwd", () => tgz([file("app.py"), link("passwd", "/etc/passwd")]), "unsafe_path"],
    ["a symlink to ../..", () => tgz([file("app.py"), link("up", "../..")]), "unsafe_path"],
    ["a symlink to ..", () => tgz([file("app.py"), link("up", "..")]), "unsafe_path"],
    ["a nested symlink climbing out", () => tgz([file("a/b/app.py"), link("x/y/up", "../../../etc")]), "unsafe_path"],
    [
      "a symlink climbing out through another link",
      () => tgz([file("app.py"), link("x/y/b", "../.."), link("x/y/a", "b/../..")]),
      "unsafe_path",
    ],
    ["a symlink loop", () => tgz([file("app.py"), link("a", "b"), link("b", "a")]), "unsafe_path"],
    ["a pax linkpath to /etc", () => tgz([file("app.py"), pax({ linkpath: "/etc" }), link("l", "ok")]), "unsafe_path"],
    [
      "a link that only stays inside before the top directory is stripped",
      () => tgz([file("top/app.py"), link("top/l", "../top/app.py")]),
      "unsafe_path",
    ],
    [
      "a file written through a symlinked directory",
      () => tgz([dir("sub/"), link("link", "sub"), file("link/evil.txt")]),
      "unsafe_path",
    ],
    [
      "a file written through a symlink declared later",
      () => tgz([dir("sub/"), file("link/evil.txt"), link("link", "sub")]),
      "unsafe_path",
    ],
    ["a file written through a link to /tmp", () => tgz([link("tmp", "/tmp"), file("tmp/evil")]), "unsafe_path"],
    ["a directory replaced by a symlink", () => tgz([dir("d/"), link("d", ".")]), "unsafe_path"],
    ["a directory replaced by a file", () => tgz([dir("d/"), file("d/x"), file("d")]), "unsafe_path"],
    ["a file used as a directory", () => tgz([file("f"), file("f/x")]), "unsafe_path"],
    ["a file twice", () => tgz([file("app.py", "one"), file("app.py", "two")]), "unsafe_path"],
    ["a hard link", () => tgz([file("app.py"), { name: "hard", type: "1", linkname: "app.py" }]), "unsupported_entry"],
    ["a character device", () => tgz([{ name: "null", type: "3" }]), "unsupported_entry"],
    ["a block device", () => tgz([{ name: "sda", type: "4" }]), "unsupported_entry"],
    ["a FIFO", () => tgz([{ name: "fifo", type: "6" }]), "unsupported_entry"],
    ["a GNU sparse file", () => tgz([{ name: "sparse", type: "S" }]), "unsupported_entry"],
    ["a pax sparse file", () => tgz([pax({ "GNU.sparse.major": "1" }), file("sparse")]), "unsupported_entry"],
    ["a vendor entry type", () => tgz([{ name: "x", type: "X" }]), "unsupported_entry"],
    [
      "more entries than allowed",
      () => tgz([file("a"), file("b"), file("c"), file("d")]),
      "too_large",
      { maxEntries: 3 },
    ],
    [
      "a deep path creating more implicit directories than allowed entries",
      () => tgz([pax({ path: `${Array.from({ length: 150 }, (_, i) => `d${i}`).join("/")}/f` }), file("x")]),
      "too_large",
    ],
    [
      "a file bigger than the extracted limit",
      () => tgz([file("big.bin", Buffer.alloc(2 * 1024 * 1024, 7))]),
      "too_large",
    ],
    [
      "many files together bigger than the extracted limit",
      () => tgz(Array.from({ length: 12 }, (_, i) => file(`f${i}`, Buffer.alloc(100 * 1024)))),
      "too_large",
    ],
    [
      "a compressed size over the limit",
      () => gzipSync(Buffer.alloc(4096), { level: 0 }),
      "too_large",
      {
        maxCompressedBytes: 1024,
      },
    ],
    ["a corrupt header checksum", () => tgz([file("app.py", "x", { badChecksum: true })]), "invalid_archive"],
    [
      "a truncated tar stream",
      () => gzipSync(tar([file("app.py", "x".repeat(2000))]).subarray(0, 1200)),
      "invalid_archive",
    ],
    ["a truncated gzip stream", () => tgz([file("app.py", "some content here")]).subarray(0, 30), "invalid_archive"],
    ["no end-of-archive marker", () => tgz([file("app.py")], { end: false }), "invalid_archive"],
    ["plain text", () => Buffer.from("hello, this is not an archive"), "invalid_archive"],
    ["an uncompressed tar", () => tar([file("app.py")]), "invalid_archive"],
    ["gzip of something that is not tar", () => gzipSync(Buffer.alloc(2048, 0x41)), "invalid_archive"],
    [
      "a malformed pax record",
      () => tgz([{ name: "p", type: "x", data: "99 path=x\n" }, file("a")]),
      "invalid_archive",
    ],
    ["a pax header at the end", () => tgz([file("a"), pax({ path: "b" })]), "invalid_archive"],
    ["a directory with data", () => tgz([dir("d/", { data: "x" })]), "invalid_archive"],
    [
      "endless extended headers",
      () => tgz(Array.from({ length: 6 }, () => pax({ comment: "x" })).concat([file("a")])),
      "invalid_archive",
    ],
    ["a header without the ustar magic", () => tgz([file("a", "x", { noMagic: true })]), "invalid_archive"],
  ];

  it.each(cases)("refuses %s, leaving nothing behind", async (_name, build, code, limits = {}) => {
    const error = await refusal(() => extractTarball({ buffer: build() }, dest, { ...LIMITS, ...limits }));
    expect(error.code).toBe(code);
    expect(error.userMessage.length).toBeGreaterThan(10);
    expect(error.userMessage).not.toContain(scratch);
    expect(await exists(dest)).toBe(false);
  });

  it("leaves a pre-existing empty destination empty", async () => {
    await mkdir(dest);
    const error = await refusal(() => extractTarball({ buffer: tgz([file("ok.py"), file("../evil")]) }, dest, LIMITS));
    expect(error.code).toBe("unsafe_path");
    expect(await readdir(dest)).toEqual([]);
    expect(await exists(path.join(scratch, "evil"))).toBe(false);
  });

  it("stops a gzip bomb at its first header without inflating it", async () => {
    const bomb = tgz([file("zeros.bin", Buffer.alloc(16 * 1024 * 1024))]);
    expect(bomb.length).toBeLessThan(LIMITS.maxCompressedBytes);
    const started = Date.now();
    const error = await refusal(() => extractTarball({ buffer: bomb }, dest, LIMITS));
    expect(error.code).toBe("too_large");
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await exists(dest)).toBe(false);
  });

  it("refuses an upload file over the compressed limit before reading it", async () => {
    const upload = path.join(scratch, "big.tar.gz");
    await writeFile(upload, gzipSync(Buffer.alloc(8192), { level: 0 }));
    const error = await refusal(() => extractTarball({ file: upload }, dest, { ...LIMITS, maxCompressedBytes: 1024 }));
    expect(error.code).toBe("too_large");
    expect(await exists(dest)).toBe(false);
  });

  it("refuses a destination that is not empty", async () => {
    await mkdir(dest);
    await writeFile(path.join(dest, "keep"), "mine");
    await expect(extractTarball({ buffer: tgz([file("app.py")]) }, dest, LIMITS)).rejects.toThrow(/not empty/);
    expect(await readdir(dest)).toEqual(["keep"]);
  });
});

describe("validateTarballUpload", () => {
  it("accepts gzip", () => {
    expect(() => validateTarballUpload(tgz([file("a")]).subarray(0, 16))).not.toThrow();
  });

  it.each([
    ["empty", Buffer.alloc(0)],
    ["too short", Buffer.from([0x1f, 0x8b])],
    ["zip", Buffer.from("PK\x03\x04rest", "latin1")],
    ["plain tar", tar([file("a")]).subarray(0, 16)],
    ["gzip with another method", Buffer.from([0x1f, 0x8b, 0x07, 0x00])],
  ])("refuses %s", (_name, head) => {
    let caught: unknown;
    try {
      validateTarballUpload(head);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SourceError);
    expect((caught as SourceError).code).toBe("invalid_archive");
  });
});
