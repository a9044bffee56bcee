import { createReadStream } from "node:fs";
import { PassThrough, pipeline, type Readable } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { createDecryptStream, createEncryptStream } from "./crypto";
import { BackupStoreError } from "./errors";
import { errnoCode, writeWhole } from "./files";
import { checkKey, checkPrefix } from "./keys";
import type { BackupStore, BackupStoreConfig, StoredObject } from "./types";

// The store in an S3-compatible bucket through the AWS SDK v3 (@aws-sdk/client-s3, the maintained client that
// signs SigV4 and speaks to AWS, MinIO, Garage and R2 alike; endpoint + forcePathStyle for the latter) and its
// lib-storage Upload, which sends a stream of unknown length as a multipart upload in bounded parts (one PutObject
// when it fits one part). The object only appears under its key when the upload completes, so a crash never leaves a
// half object there; parts of an abandoned upload are aborted by Upload on failure (a bucket lifecycle rule
// "abort incomplete multipart uploads" covers a killed worker, docs/backups.md).

type S3Config = Extract<BackupStoreConfig, { kind: "s3" }>;

// Parts of 8 MiB, two in flight: a put holds about 16 MiB whatever the backup's size.
const PART_BYTES = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 2;
// Bounded retries (the SDK's standard mode backs off exponentially between them) and timeouts on every request.
const MAX_ATTEMPTS = 3;
const CONNECT_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 120_000;

function statusOf(error: unknown): number | undefined {
  const metadata = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata;
  return typeof metadata?.httpStatusCode === "number" ? metadata.httpStatusCode : undefined;
}

/** The SDK's failures in the store's kinds; the server's own text stays in `cause` (logs), not in the message. */
export function toBackupStoreError(error: unknown, what: string): BackupStoreError {
  if (error instanceof BackupStoreError) return error;
  const name = error instanceof Error ? error.name : "";
  const status = statusOf(error);
  if (name === "NoSuchBucket") return new BackupStoreError("config", `${what}: the bucket does not exist`);
  if (name === "NoSuchKey" || name === "NotFound" || status === 404) {
    return new BackupStoreError("not_found", `${what}: no such object`);
  }
  if (
    status === 401 ||
    status === 403 ||
    ["AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"].includes(name)
  ) {
    return new BackupStoreError("auth", `${what}: refused (${name || status})`, { cause: error });
  }
  if (status === undefined || status >= 500 || status === 429 || errnoCode(error) !== undefined) {
    return new BackupStoreError("unavailable", `${what}: the store did not answer (${name || status})`, {
      cause: error,
    });
  }
  return new BackupStoreError("config", `${what}: the store refused the request (${name || status})`, { cause: error });
}

export function createS3BackupStore(config: S3Config, encryptionKey: Buffer): BackupStore {
  const client = new S3Client({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    forcePathStyle: config.forcePathStyle,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    maxAttempts: MAX_ATTEMPTS,
    requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
  });
  const base = config.prefix.replace(/^\/+|\/+$/g, "");
  const objectKey = (key: string): string => (base ? `${base}/${checkKey(key)}` : checkKey(key));
  const body = async (key: string): Promise<Readable> => {
    try {
      const answer = await client.send(new GetObjectCommand({ Bucket: config.bucket, Key: objectKey(key) }));
      if (!answer.Body) throw new BackupStoreError("unavailable", `get ${key}: the store sent no body`);
      return answer.Body as Readable;
    } catch (error) {
      throw toBackupStoreError(error, `get ${key}`);
    }
  };

  return {
    async put(key, plainFile) {
      const target = objectKey(key);
      const encrypt = await createEncryptStream(encryptionKey, key);
      let storedBytes = 0;
      const counted = new PassThrough();
      counted.on("data", (chunk: Buffer) => {
        storedBytes += chunk.length;
      });
      const source = pipeline(createReadStream(plainFile), encrypt, counted, () => undefined);
      const upload = new Upload({
        client,
        params: { Bucket: config.bucket, Key: target, Body: source },
        partSize: PART_BYTES,
        queueSize: PARTS_IN_FLIGHT,
        leavePartsOnError: false,
      });
      // A source that fails (the file is missing) must fail the upload, not leave it waiting for more bytes.
      const failed = new Promise<never>((_, reject) => {
        source.once("error", (error) => {
          void upload.abort().catch(() => undefined);
          reject(
            errnoCode(error) === "ENOENT"
              ? new BackupStoreError("config", "the file to store does not exist")
              : toBackupStoreError(error, `put ${key}`),
          );
        });
      });
      try {
        await Promise.race([upload.done(), failed]);
      } catch (error) {
        if (errnoCode(error) === "ENOENT") throw new BackupStoreError("config", "the file to store does not exist");
        throw toBackupStoreError(error, `put ${key}`);
      }
      return { storedBytes };
    },

    async get(key, plainDestFile) {
      await writeWhole(await body(key), await createDecryptStream(encryptionKey, key), plainDestFile);
    },

    async openRead(key) {
      const source = await body(key);
      const decrypt = await createDecryptStream(encryptionKey, key);
      return pipeline(source, decrypt, () => undefined);
    },

    async delete(key) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: config.bucket, Key: objectKey(key) }));
      } catch (error) {
        const mapped = toBackupStoreError(error, `delete ${key}`);
        if (mapped.kind !== "not_found") throw mapped;
      }
    },

    async list(prefix) {
      checkPrefix(prefix);
      const found: StoredObject[] = [];
      const strip = base ? base.length + 1 : 0;
      let token: string | undefined;
      do {
        let page: ListObjectsV2CommandOutput;
        try {
          page = await client.send(
            new ListObjectsV2Command({
              Bucket: config.bucket,
              Prefix: base ? `${base}/${prefix}` : prefix,
              ContinuationToken: token,
            }),
          );
        } catch (error) {
          throw toBackupStoreError(error, "list");
        }
        for (const item of page.Contents ?? []) {
          if (!item.Key) continue;
          found.push({
            key: item.Key.slice(strip),
            bytes: item.Size ?? 0,
            modifiedAt: item.LastModified ?? new Date(0),
          });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return found.sort((a, b) => a.key.localeCompare(b.key));
    },

    describe: () => `s3 ${config.bucket}/${base}`,
  };
}
