import { Transform, type TransformCallback } from "node:stream";
import sodium, { type StateAddress } from "libsodium-wrappers";
import { BackupStoreError } from "./errors";

// Backups are encrypted with libsodium's crypto_secretstream_xchacha20poly1305 (libsodium-wrappers: the maintained
// WebAssembly build, no native compilation): a streaming AEAD made for exactly this, so no construction of ours sits
// between the file and the cipher. Each chunk is authenticated on its own, chunks cannot be reordered, dropped or
// repeated (the stream's nonce counts them), and the last one carries the FINAL tag, so a truncated object fails too.
//
// Format, version 1:  "TSLGBK01" (8 bytes) | secretstream header (24 bytes) | chunks
// Every chunk but the last holds exactly CHUNK_BYTES of plaintext (CHUNK_BYTES + 17 stored, tag MESSAGE); the last
// holds 0..CHUNK_BYTES (tag FINAL), so the reader needs no lengths and an empty file is one empty FINAL chunk.
// Each chunk's associated data names the object key: an object copied or renamed to another key (another team's
// backup put in its place) does not authenticate there.
// Memory stays bounded by about two chunks per stream whatever the file's size.

export const MAGIC = Buffer.from("TSLGBK01", "latin1");
export const CHUNK_BYTES = 64 * 1024;

let ready: Promise<void> | undefined;
function sodiumReady(): Promise<void> {
  ready ??= sodium.ready;
  return ready;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function associatedData(objectKey: string): Uint8Array {
  return new Uint8Array(Buffer.from(`tussilago-backup\u0000${objectKey}`, "utf8"));
}

/** Takes bytes off the front of a list of buffers without copying more than it hands out. */
class ByteQueue {
  private parts: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.parts.push(chunk);
    this.length += chunk.length;
  }

  take(count: number): Buffer {
    const out = Buffer.allocUnsafe(count);
    let filled = 0;
    while (filled < count) {
      const head = this.parts[0] as Buffer;
      const used = Math.min(head.length, count - filled);
      head.copy(out, filled, 0, used);
      filled += used;
      if (used === head.length) this.parts.shift();
      else this.parts[0] = head.subarray(used);
    }
    this.length -= count;
    return out;
  }
}

function asBuffer(chunk: unknown): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
}

/** A Transform that encrypts what is written to it into the format above. */
export async function createEncryptStream(key: Buffer, objectKey: string): Promise<Transform> {
  await sodiumReady();
  const { state, header } = sodium.crypto_secretstream_xchacha20poly1305_init_push(new Uint8Array(key));
  const ad = associatedData(objectKey);
  const queue = new ByteQueue();
  const seal = (plain: Buffer, tag: number): Buffer =>
    toBuffer(sodium.crypto_secretstream_xchacha20poly1305_push(state, new Uint8Array(plain), ad, tag));
  let started = false;
  const start = (stream: Transform): void => {
    if (started) return;
    started = true;
    stream.push(Buffer.concat([MAGIC, toBuffer(header)]));
  };
  return new Transform({
    transform(this: Transform, chunk: unknown, _encoding: BufferEncoding, callback: TransformCallback) {
      start(this);
      queue.push(asBuffer(chunk));
      // Strictly more than a chunk: the last chunk must stay behind until the end to be sealed FINAL.
      while (queue.length > CHUNK_BYTES) {
        this.push(seal(queue.take(CHUNK_BYTES), sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE));
      }
      callback();
    },
    flush(this: Transform, callback: TransformCallback) {
      start(this);
      this.push(seal(queue.take(queue.length), sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL));
      callback();
    },
  });
}

const HEADER_BYTES = 24;
const ABYTES = 17;
const BLOCK_BYTES = CHUNK_BYTES + ABYTES;

/**
 * A Transform that decrypts the format above. Only authenticated plaintext is pushed; a bad header, a chunk that
 * does not authenticate, a FINAL chunk before the end or an end without one fails the stream with kind corrupt.
 */
export async function createDecryptStream(key: Buffer, objectKey: string): Promise<Transform> {
  await sodiumReady();
  const ad = associatedData(objectKey);
  const queue = new ByteQueue();
  let state: StateAddress | null = null;
  let done = false;
  const corrupt = (why: string): BackupStoreError => new BackupStoreError("corrupt", `${objectKey}: ${why}`);

  const open = (block: Buffer, final: boolean): Buffer => {
    let result: { message: Uint8Array; tag: number } | false;
    try {
      result = sodium.crypto_secretstream_xchacha20poly1305_pull(state as StateAddress, new Uint8Array(block), ad);
    } catch {
      result = false;
    }
    if (!result) throw corrupt("a chunk failed authentication");
    const isFinal = result.tag === sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL;
    if (isFinal !== final) throw corrupt(final ? "the object is truncated" : "data after the final chunk");
    return toBuffer(result.message);
  };

  const readHeader = (): void => {
    const head = queue.take(MAGIC.length + HEADER_BYTES);
    if (!head.subarray(0, MAGIC.length).equals(MAGIC)) throw corrupt("not a backup object of this platform");
    try {
      state = sodium.crypto_secretstream_xchacha20poly1305_init_pull(
        new Uint8Array(head.subarray(MAGIC.length)),
        new Uint8Array(key),
      );
    } catch {
      throw corrupt("an invalid header");
    }
  };

  return new Transform({
    transform(this: Transform, chunk: unknown, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        if (done) throw corrupt("data after the final chunk");
        queue.push(asBuffer(chunk));
        if (state === null && queue.length >= MAGIC.length + HEADER_BYTES) readHeader();
        // Strictly more than a block: the last block is only known to be last at the end.
        while (state !== null && queue.length > BLOCK_BYTES) this.push(open(queue.take(BLOCK_BYTES), false));
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(this: Transform, callback: TransformCallback) {
      try {
        if (state === null) throw corrupt("the object is truncated");
        if (queue.length < ABYTES) throw corrupt("the object is truncated");
        this.push(open(queue.take(queue.length), true));
        done = true;
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}
