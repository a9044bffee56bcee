import { chmod, mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEnv } from "@/lib/env";
import { backupEncryptionKey, createBackupStore } from "@/lib/infra/backup-store";
import { startS3rver, type TestS3 } from "@/test/s3rver";
import { backupStoreSection, probeBackupStore } from "./backup-store-check";

describe("backup store readiness check", () => {
  let work: string;
  let s3: TestS3;
  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), "tussilago-backup-check-"));
    s3 = await startS3rver();
  });
  afterAll(async () => {
    await s3?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it("passes on the data directory's store and leaves no probe behind", async () => {
    const env = parseEnv({ TUSSILAGO_SECRET_KEY: "k", TUSSILAGO_DATA_DIR: work });
    const section = await backupStoreSection(env);
    expect(section.checks).toEqual([
      { name: "backup store", status: "ok", message: `local ${path.join(work, "backups")}: writable and readable` },
    ]);
    expect(await readdir(path.join(work, "backups", "platform-probe"))).toEqual([]);
  });

  it("passes on a bucket and fails, naming the store, on a wrong bucket or an unwritable directory", async () => {
    const config = {
      kind: "s3" as const,
      bucket: s3.bucket,
      prefix: "p",
      region: "us-east-1",
      endpoint: s3.endpoint,
      forcePathStyle: true,
      accessKeyId: "S3RVER",
      secretAccessKey: "S3RVER",
    };
    const key = backupEncryptionKey("k");
    expect((await probeBackupStore(createBackupStore(config, key))).status).toBe("ok");
    const missing = await probeBackupStore(createBackupStore({ ...config, bucket: "absent" }, key));
    expect(missing.status).toBe("error");
    expect(missing.message).toContain("s3 absent/p is not usable (config");
    expect(missing.message).not.toContain("S3RVER");

    // Root ignores directory modes: there the unwritable case cannot be made this way.
    if (process.getuid?.() !== 0) {
      const locked = path.join(work, "locked");
      const store = createBackupStore({ kind: "local", dir: path.join(locked, "store") }, key);
      await rm(locked, { recursive: true, force: true });
      await mkdir(locked, { mode: 0o500 });
      expect((await probeBackupStore(store)).status).toBe("error");
      await chmod(locked, 0o700);
    }
  });
});
