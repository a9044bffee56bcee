// upload_extract_ms: the cost of reading an uploaded .tar.gz of about 50 MB, the two ways the platform reads it: the
// upload-time check (checkTarballStream, fed chunk by chunk as the upload endpoint feeds it) and the build's
// extraction (extractTarball from the file, both passes, into an empty directory). The floor, measured in the same
// run on the same file, is streaming gunzip to nothing through node:zlib: the decompression neither reader can avoid.
// The archive is built once per run from deterministic content (a seeded generator): many small source-like text
// files, a few large text files and some incompressible binary assets, packed by the host's GNU tar, as a person's
// `tar czf` would.
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { extractTarball } from "@/lib/build/source-tarball";
import { checkTarballStream, MAX_TARBALL_ENTRIES } from "@/lib/build/source-tarball/check";
import { type BenchContext, execFileAsync } from "@/scripts/bench/context";
import { type Metric, ratio, round, summarize } from "@/scripts/bench/stats";

const REPEATS = 7;
const QUICK_REPEATS = 3;
// The endpoint's defaults (TUSSILAGO_UPLOAD_MAX_MB, TUSSILAGO_SOURCE_MAX_MB).
const LIMITS = { maxCompressedBytes: 100 * 1024 * 1024, maxExtractedBytes: 500 * 1024 * 1024 };
const SMALL_FILES = 8_000;
const LARGE_TEXT_FILES = 8;
const LARGE_TEXT_BYTES = 4 * 1024 * 1024;
const BINARY_FILES = 13;
const BINARY_BYTES = 2 * 1024 * 1024;

/** xorshift32: the same archive on every machine and run. */
function generator(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
}

const WORDS = (
  "def class return import from self None True False if else elif for while in not and or with as try except " +
  "raise yield lambda async await request response user session config value items result data model view " +
  "query filter order limit offset cache logger settings path name id key index count total status error"
).split(" ");

/** Python-looking lines: indentation, identifiers, calls, numbers; compresses like real source (about 4:1). */
function sourceText(next: () => number, bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const indent = "    ".repeat(next() % 4);
    const words = Array.from({ length: 2 + (next() % 7) }, () => WORDS[next() % WORDS.length]);
    const line = `${indent}${words.join(next() % 3 === 0 ? "." : " ")}(${next() % 10_000})\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join(""), "utf8");
}

function binary(next: () => number, bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  for (let i = 0; i + 4 <= bytes; i += 4) out.writeUInt32LE(next(), i);
  return out;
}

async function buildArchive(context: BenchContext): Promise<{ file: string; bytes: number; entries: number }> {
  const work = await context.dir("upload-extract");
  const tree = path.join(work, "app");
  const next = generator(0x7c5a_19e3);
  let entries = 0;
  for (let i = 0; i < SMALL_FILES; i++) {
    const dir = path.join(tree, `pkg${i % 40}`, `mod${i % 7}`);
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, `file_${i}.py`), sourceText(next, 512 + (next() % 12_000)));
    entries += 1;
  }
  for (let i = 0; i < LARGE_TEXT_FILES; i++) {
    await fs.mkdir(path.join(tree, "data"), { recursive: true });
    await fs.writeFile(path.join(tree, "data", `fixtures_${i}.txt`), sourceText(next, LARGE_TEXT_BYTES));
    entries += 1;
  }
  for (let i = 0; i < BINARY_FILES; i++) {
    await fs.mkdir(path.join(tree, "static"), { recursive: true });
    await fs.writeFile(path.join(tree, "static", `image_${i}.bin`), binary(next, BINARY_BYTES));
    entries += 1;
  }
  const file = path.join(work, "upload.tar.gz");
  // GNU tar, as a person packs an upload; sorted names and fixed owner/time so the bytes do not depend on the disk.
  await execFileAsync(
    "tar",
    ["--sort=name", "--owner=0", "--group=0", "--mtime=@1700000000", "-czf", file, "-C", work, "--", "app"],
    { maxBuffer: 1024 * 1024 },
  );
  await fs.rm(tree, { recursive: true, force: true });
  return { file, bytes: (await fs.stat(file)).size, entries };
}

async function timed(run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

/** The upload endpoint's reading: chunks as they arrive, each awaited through the check. */
async function check(file: string): Promise<void> {
  const archive = checkTarballStream({ maxExtractedBytes: LIMITS.maxExtractedBytes, maxEntries: MAX_TARBALL_ENTRIES });
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 64 * 1024 })) {
      await archive.write(chunk as Buffer);
    }
    await archive.end();
  } finally {
    archive.close();
  }
}

async function gunzipToNothing(file: string): Promise<void> {
  const sink = new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
  await pipeline(createReadStream(file, { highWaterMark: 64 * 1024 }), createGunzip(), sink);
}

export async function measureUploadExtract(context: BenchContext): Promise<Metric> {
  context.progress("building a deterministic source archive");
  const archive = await buildArchive(context);
  const repeats = context.options.quick ? QUICK_REPEATS : REPEATS;
  const floor: number[] = [];
  const checks: number[] = [];
  const extracts: number[] = [];
  const dest = path.join(await context.dir("upload-extract"), "src");
  for (let i = 0; i < repeats; i++) {
    context.progress(`round ${i + 1}/${repeats}`);
    floor.push(await timed(() => gunzipToNothing(archive.file)));
    checks.push(await timed(() => check(archive.file)));
    extracts.push(
      await timed(async () => {
        await extractTarball({ file: archive.file }, dest, { ...LIMITS, maxEntries: MAX_TARBALL_ENTRIES });
      }),
    );
    await fs.rm(dest, { recursive: true, force: true });
  }
  const gunzip = summarize(floor);
  const checked = summarize(checks);
  const extracted = summarize(extracts);
  return {
    value: round(extracted.p50),
    unit: "ms",
    p50: round(extracted.p50),
    p99: round(extracted.p99),
    baseline: round(gunzip.p50),
    baseline_unit: "ms (streaming gunzip to nothing)",
    ratio: ratio(extracted.p50, gunzip.p50),
    check_p50_ms: round(checked.p50),
    check_ratio: ratio(checked.p50, gunzip.p50),
    archive_mb: round(archive.bytes / 1024 / 1024),
    files: archive.entries,
    repeats,
    notes:
      "value: extractTarball from the file (both passes, writing into an empty directory), p50; check_p50_ms: " +
      "checkTarballStream fed 64 KiB chunks as the upload endpoint feeds it; baseline: gunzip of the same file.",
  };
}
