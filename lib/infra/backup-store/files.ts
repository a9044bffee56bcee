import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import path from "node:path";
import type { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";

// Writing a decrypted object to a file whole or not at all, shared by both stores.

/** Streams `source` through `decrypt` into a temporary file beside `dest`, renamed over it only once it authenticated. */
export async function writeWhole(source: Readable, decrypt: Transform, dest: string): Promise<void> {
  const temp = path.join(path.dirname(dest), `.${path.basename(dest)}.${randomUUID()}.part`);
  try {
    await pipeline(source, decrypt, createWriteStream(temp, { flags: "wx", mode: 0o600 }));
    await syncFile(temp);
    await rename(temp, dest);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Flushes a written file to disk before it is renamed into place, and answers its size. */
export async function syncFile(file: string): Promise<number> {
  const handle = await open(file, "r+");
  try {
    await handle.sync();
    return (await handle.stat()).size;
  } finally {
    await handle.close();
  }
}

export function errnoCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined;
}
