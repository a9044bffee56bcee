import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import S3rver from "s3rver";

// A real S3-compatible server for tests (the `s3rver` package): on a loopback port, in a temporary directory,
// with one bucket. It accepts any credentials; objects live as files under <dir>/<bucket>/<key>._S3rver_object,
// which lets a test tamper with one.

export type TestS3 = {
  endpoint: string;
  bucket: string;
  dir: string;
  /** The file that holds an object's bytes (the full object key, prefix included). */
  objectFile(objectKey: string): string;
  stop(): Promise<void>;
};

export async function startS3rver(bucket = "backups"): Promise<TestS3> {
  const dir = await mkdtemp(path.join(tmpdir(), "tussilago-s3rver-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    dir,
    objectFile: (objectKey) => path.join(dir, bucket, `${objectKey}._S3rver_object`),
    async stop() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
