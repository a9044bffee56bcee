import type { FileHandle } from "node:fs/promises";
import { Readable } from "node:stream";
import { createGunzip, type Gunzip } from "node:zlib";
import { SourceError } from "../source-errors";
import { errorCode, invalidArchive, tooLargeCompressed, truncated } from "./errors";

// The decompressed bytes of the upload: gunzip over the file (or buffer), and exact reads that count every byte
// against a budget, so a gzip bomb is stopped however well it compresses.

export const DATA_CHUNK = 64 * 1024;

export type Source = { iterator: AsyncIterator<Buffer>; close(): void };

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

export function openGunzip(input: { buffer: Buffer } | { handle: FileHandle }, maxCompressedBytes: number): Source {
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

/** Exact reads over the decompressed stream, counting every byte against a budget (the gzip-bomb cap). */
export class ByteReader {
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
