import path from "node:path";
import { describe, expect, it } from "vitest";
import { backupStoreConfig, ConfigError, parseEnv } from "@/lib/env";

// The backup store's configuration (TUSSILAGO_BACKUP_S3_*): the data directory by default, a bucket when set, and no
// start without its credentials.

const KEY = { TUSSILAGO_SECRET_KEY: "k", TUSSILAGO_DATA_DIR: "/srv/tussilago" };
const CREDENTIALS = { TUSSILAGO_BACKUP_S3_ACCESS_KEY_ID: "AKIA1", TUSSILAGO_BACKUP_S3_SECRET_ACCESS_KEY: "s3cr3t" };

describe("backup store configuration", () => {
  it("keeps backups in <data dir>/backups when no bucket is set", () => {
    expect(backupStoreConfig(parseEnv(KEY))).toEqual({ kind: "local", dir: path.join("/srv/tussilago", "backups") });
  });

  it("reads the bucket, prefix, region and credentials; path style follows the endpoint unless set", () => {
    const aws = backupStoreConfig(parseEnv({ ...KEY, ...CREDENTIALS, TUSSILAGO_BACKUP_S3_URL: "s3://my-bucket/a/b/" }));
    expect(aws).toEqual({
      kind: "s3",
      bucket: "my-bucket",
      prefix: "a/b",
      region: "us-east-1",
      forcePathStyle: false,
      accessKeyId: "AKIA1",
      secretAccessKey: "s3cr3t",
    });
    const minio = backupStoreConfig(
      parseEnv({
        ...KEY,
        ...CREDENTIALS,
        TUSSILAGO_BACKUP_S3_URL: "s3://backups",
        TUSSILAGO_BACKUP_S3_ENDPOINT: "http://127.0.0.1:9000/",
        TUSSILAGO_BACKUP_S3_REGION: "garage",
      }),
    );
    expect(minio).toMatchObject({ bucket: "backups", prefix: "", endpoint: "http://127.0.0.1:9000", region: "garage" });
    expect(minio.kind === "s3" && minio.forcePathStyle).toBe(true);
    const r2 = backupStoreConfig(
      parseEnv({
        ...KEY,
        ...CREDENTIALS,
        TUSSILAGO_BACKUP_S3_URL: "s3://backups",
        TUSSILAGO_BACKUP_S3_ENDPOINT: "https://acct.r2.example.com",
        TUSSILAGO_BACKUP_S3_FORCE_PATH_STYLE: "0",
      }),
    );
    expect(r2.kind === "s3" && r2.forcePathStyle).toBe(false);
  });

  it("refuses to start with a bucket but no credentials, naming the variables", () => {
    for (const partial of [{}, { TUSSILAGO_BACKUP_S3_ACCESS_KEY_ID: "AKIA1" }]) {
      const start = () => parseEnv({ ...KEY, ...partial, TUSSILAGO_BACKUP_S3_URL: "s3://b-1/x" });
      expect(start).toThrow(ConfigError);
      expect(start).toThrow(/TUSSILAGO_BACKUP_S3_ACCESS_KEY_ID and TUSSILAGO_BACKUP_S3_SECRET_ACCESS_KEY/);
    }
  });

  it("refuses malformed URLs and endpoints", () => {
    for (const bad of [
      { TUSSILAGO_BACKUP_S3_URL: "https://bucket/x" },
      { TUSSILAGO_BACKUP_S3_URL: "s3://UPPER/x" },
      { TUSSILAGO_BACKUP_S3_URL: "s3://b-1/../x y" },
      { TUSSILAGO_BACKUP_S3_URL: "s3://b-1", TUSSILAGO_BACKUP_S3_ENDPOINT: "ftp://host" },
      { TUSSILAGO_BACKUP_S3_URL: "s3://b-1", TUSSILAGO_BACKUP_S3_ENDPOINT: "http://host/path" },
    ]) {
      expect(() => parseEnv({ ...KEY, ...CREDENTIALS, ...bad })).toThrow(ConfigError);
    }
  });
});
