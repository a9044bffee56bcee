import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHUNK_BYTES, createEncryptStream } from "./crypto";
import { type BackupStore, BackupStoreError, backupEncryptionKey, createBackupStore } from "./index";

const KEY = backupEncryptionKey("test-secret-key-for-backups");
const KEY_ID =
  "7c1e2f4a-3b5d-4e6f-8a9b-0c1d2e3f4a5b/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d/5f6e7d8c-9b0a-4c1d-9e2f-3a4b5c6d7e8f.dump";

async function failure(promise: Promise<unknown>): Promise<BackupStoreError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof BackupStoreError) return error;
    throw error;
  }
  throw new Error("expected a BackupStoreError");
}

async function drain(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts);
}

describe("backup store: local directory", () => {
  let work: string;
  let dir: string;
  let store: BackupStore;

  const plain = async (name: string, bytes: Buffer): Promise<string> => {
    const file = path.join(work, name);
    await writeFile(file, bytes);
    return file;
  };
  const stored = (key: string): string => path.join(dir, ...key.split("/"));

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), "tussilago-backup-work-"));
    dir = path.join(work, "store");
    store = createBackupStore({ kind: "local", dir }, KEY);
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("derives a 32-byte key that is not the secret key, the same for the same secret", () => {
    const secret = randomBytes(32).toString("base64url");
    expect(backupEncryptionKey(secret)).toHaveLength(32);
    expect(backupEncryptionKey(secret).equals(backupEncryptionKey(secret))).toBe(true);
    expect(backupEncryptionKey(secret).toString("base64url")).not.toBe(secret);
    expect(backupEncryptionKey(secret).equals(backupEncryptionKey(`${secret}x`))).toBe(false);
  });

  it("round trips a file, stores it encrypted, private, and under its key only", async () => {
    const bytes = Buffer.concat([Buffer.from("PGDMP header "), randomBytes(3 * CHUNK_BYTES + 123)]);
    const { storedBytes } = await store.put(KEY_ID, await plain("a.dump", bytes));
    const onDisk = await readFile(stored(KEY_ID));
    expect(onDisk.length).toBe(storedBytes);
    expect(onDisk.includes(Buffer.from("PGDMP header"))).toBe(false);
    expect((await stat(stored(KEY_ID))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(path.dirname(stored(KEY_ID)))).mode & 0o777).toBe(0o700);
    expect(await readdir(path.join(dir, ".tmp"))).toEqual([]);

    const out = path.join(work, "a.out");
    await store.get(KEY_ID, out);
    expect((await readFile(out)).equals(bytes)).toBe(true);
    expect((await drain(await store.openRead(KEY_ID))).equals(bytes)).toBe(true);

    const listed = await store.list(KEY_ID.split("/")[0] as string);
    expect(listed.map((item) => [item.key, item.bytes])).toEqual([[KEY_ID, storedBytes]]);
    expect(listed[0]?.modifiedAt).toBeInstanceOf(Date);
    expect(store.describe()).toBe(`local ${dir}`);
  });

  it("round trips an empty file and a file of exactly one chunk", async () => {
    for (const [key, bytes] of [
      ["t/empty.dump", Buffer.alloc(0)],
      ["t/one-chunk.dump", randomBytes(CHUNK_BYTES)],
    ] as const) {
      await store.put(key, await plain(key.replace("/", "-"), bytes));
      const out = path.join(work, `${key.replace("/", "-")}.out`);
      await store.get(key, out);
      expect((await readFile(out)).equals(bytes)).toBe(true);
    }
  });

  it("refuses a tampered byte, a truncated object and another key as corrupt, and writes no output", async () => {
    const bytes = randomBytes(2 * CHUNK_BYTES + 10);
    const source = await plain("t.dump", bytes);
    const out = path.join(work, "tampered.out");

    await store.put("t/tampered.dump", source);
    const file = stored("t/tampered.dump");
    const copy = await readFile(file);
    copy[copy.length - 5] = (copy[copy.length - 5] as number) ^ 0x01;
    await writeFile(file, copy);
    expect((await failure(store.get("t/tampered.dump", out))).kind).toBe("corrupt");
    await expect(stat(out)).rejects.toThrow();
    expect((await failure(drain(await store.openRead("t/tampered.dump")))).kind).toBe("corrupt");

    // Cut at a chunk boundary: every remaining chunk authenticates, only the missing FINAL tag tells.
    await store.put("t/truncated.dump", source);
    await truncate(stored("t/truncated.dump"), 8 + 24 + (CHUNK_BYTES + 17));
    expect((await failure(store.get("t/truncated.dump", out))).kind).toBe("corrupt");
    await truncate(stored("t/truncated.dump"), 20);
    expect((await failure(store.get("t/truncated.dump", out))).kind).toBe("corrupt");

    await store.put("t/wrong-key.dump", source);
    const other = createBackupStore({ kind: "local", dir }, backupEncryptionKey("another-secret-key"));
    expect((await failure(other.get("t/wrong-key.dump", out))).kind).toBe("corrupt");

    // An object moved under another key (another team's backup put in its place) does not authenticate there.
    await writeFile(stored("t/moved.dump"), await readFile(stored("t/wrong-key.dump")));
    expect((await failure(store.get("t/moved.dump", out))).kind).toBe("corrupt");
    await expect(stat(out)).rejects.toThrow();
    expect((await readdir(work)).filter((name) => name.endsWith(".part"))).toEqual([]);
  });

  it("answers not_found for a missing object, deletes idempotently, and refuses keys that could escape", async () => {
    expect((await failure(store.get("t/missing.dump", path.join(work, "m")))).kind).toBe("not_found");
    expect((await failure(store.openRead("t/missing.dump"))).kind).toBe("not_found");
    expect((await failure(store.put("t/x.dump", path.join(work, "no-such-file")))).kind).toBe("config");
    await store.put("t/delete-me.dump", await plain("d.dump", Buffer.from("x")));
    await store.delete("t/delete-me.dump");
    await store.delete("t/delete-me.dump");
    expect((await store.list("t/delete")).length).toBe(0);
    for (const key of ["../escape.dump", "/etc/passwd", "a/../../b", "a//b", "A/b", "a/.tmp/x", "a\\b", "", "a/b/"]) {
      expect((await failure(store.put(key, path.join(work, "d.dump")))).kind).toBe("config");
    }
    expect((await failure(store.list("../"))).kind).toBe("config");
  });

  it("streams a 20 MB file in chunks of bounded size, never whole", async () => {
    const size = 20 * 1024 * 1024;
    const big = await plain("big.dump", randomBytes(size));
    const { storedBytes } = await store.put("t/big.dump", big);
    // Every chunk but the last is full; the last may be full too (it is only sealed FINAL at the end).
    expect(storedBytes).toBe(8 + 24 + Math.max(1, Math.ceil(size / CHUNK_BYTES)) * 17 + size);
    let largest = 0;
    let total = 0;
    let pieces = 0;
    await pipeline(
      await store.openRead("t/big.dump"),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          largest = Math.max(largest, chunk.length);
          total += chunk.length;
          pieces += 1;
          callback();
        },
      }),
    );
    expect(total).toBe(size);
    expect(largest).toBeLessThanOrEqual(CHUNK_BYTES);
    expect(pieces).toBeGreaterThanOrEqual(size / CHUNK_BYTES);

    // The encrypting side too: fed 20 MB it emits nothing larger than a sealed chunk.
    let sealedLargest = 0;
    await pipeline(
      Readable.from(
        (function* () {
          for (let i = 0; i < size / (1024 * 1024); i++) yield randomBytes(1024 * 1024);
        })(),
      ),
      await createEncryptStream(KEY, "t/big.dump"),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          sealedLargest = Math.max(sealedLargest, chunk.length);
          callback();
        },
      }),
    );
    expect(sealedLargest).toBeLessThanOrEqual(CHUNK_BYTES + 17);
  });
});
