import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startS3rver, type TestS3 } from "@/test/s3rver";
import { CHUNK_BYTES } from "./crypto";
import { type BackupStore, BackupStoreError, backupEncryptionKey, createBackupStore } from "./index";

// The S3 store against a real S3-compatible server (s3rver) on loopback, started by this file.

const KEY = backupEncryptionKey("test-secret-key-for-s3-backups");

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

describe("backup store: S3-compatible bucket (s3rver)", () => {
  let s3: TestS3;
  let work: string;
  let store: BackupStore;
  const config = (overrides: { prefix?: string; bucket?: string } = {}) => ({
    kind: "s3" as const,
    bucket: overrides.bucket ?? s3.bucket,
    prefix: overrides.prefix ?? "tussilago/backups",
    region: "us-east-1",
    endpoint: s3.endpoint,
    forcePathStyle: true,
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
  });
  const plain = async (name: string, bytes: Buffer): Promise<string> => {
    const file = path.join(work, name);
    await writeFile(file, bytes);
    return file;
  };

  beforeAll(async () => {
    s3 = await startS3rver();
    work = await mkdtemp(path.join(tmpdir(), "tussilago-s3-work-"));
    store = createBackupStore(config(), KEY);
  });
  afterAll(async () => {
    await s3?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("puts, gets, streams, lists and deletes, with the bucket holding only ciphertext under the prefix", async () => {
    const bytes = Buffer.concat([Buffer.from("REDIS0011 marker "), randomBytes(2 * CHUNK_BYTES + 7)]);
    const { storedBytes } = await store.put("team/db/one.dump", await plain("one", bytes));
    const raw = await readFile(s3.objectFile("tussilago/backups/team/db/one.dump"));
    expect(raw.length).toBe(storedBytes);
    expect(raw.includes(Buffer.from("REDIS0011 marker"))).toBe(false);

    const out = path.join(work, "one.out");
    await store.get("team/db/one.dump", out);
    expect((await readFile(out)).equals(bytes)).toBe(true);
    expect((await drain(await store.openRead("team/db/one.dump"))).equals(bytes)).toBe(true);

    await store.put("team/db/empty.dump", await plain("empty", Buffer.alloc(0)));
    await store.get("team/db/empty.dump", out);
    expect((await readFile(out)).length).toBe(0);

    const listed = await store.list("team/");
    expect(listed.map((item) => item.key)).toEqual(["team/db/empty.dump", "team/db/one.dump"]);
    expect(listed[1]?.bytes).toBe(storedBytes);
    expect(store.describe()).toBe(`s3 ${s3.bucket}/tussilago/backups`);
    expect(store.describe()).not.toContain("S3RVER");

    await store.delete("team/db/one.dump");
    await store.delete("team/db/one.dump");
    expect((await store.list("team/")).map((item) => item.key)).toEqual(["team/db/empty.dump"]);
    expect((await failure(store.get("team/db/one.dump", out))).kind).toBe("not_found");
    expect((await failure(store.put("team/db/x.dump", path.join(work, "no-such-file")))).kind).toBe("config");
  });

  it("uploads a 20 MB file in parts and reads it back", async () => {
    const bytes = randomBytes(20 * 1024 * 1024);
    const { storedBytes } = await store.put("team/db/big.dump", await plain("big", bytes));
    expect(storedBytes).toBeGreaterThan(bytes.length);
    const out = path.join(work, "big.out");
    await store.get("team/db/big.dump", out);
    expect((await readFile(out)).equals(bytes)).toBe(true);
  });

  it("refuses a tampered object, a re-put raw one and another key as corrupt", async () => {
    const out = path.join(work, "t.out");
    await store.put("team/db/t.dump", await plain("t", randomBytes(CHUNK_BYTES + 100)));
    const file = s3.objectFile("tussilago/backups/team/db/t.dump");
    const raw = await readFile(file);
    raw[raw.length - 3] = (raw[raw.length - 3] as number) ^ 0x80;
    await writeFile(file, raw);
    expect((await failure(store.get("team/db/t.dump", out))).kind).toBe("corrupt");
    expect((await failure(drain(await store.openRead("team/db/t.dump")))).kind).toBe("corrupt");

    // Someone with write access to the bucket but not the key: a plain upload under a backup's key.
    const writer = createBackupStore(config(), backupEncryptionKey("someone-else"));
    await writer.put("team/db/forged.dump", await plain("f", Buffer.from("forged")));
    expect((await failure(store.get("team/db/forged.dump", out))).kind).toBe("corrupt");
  });

  it("answers config for a missing bucket and unavailable for a server that is not there", async () => {
    const missing = createBackupStore(config({ bucket: "no-such-bucket" }), KEY);
    expect((await failure(missing.list(""))).kind).toBe("config");
    const down = createBackupStore({ ...config(), endpoint: "http://127.0.0.1:1" }, KEY);
    const error = await failure(down.list(""));
    expect(error.kind).toBe("unavailable");
    expect(error.retryable).toBe(true);
  });
});
