// Source tarball uploads: streamed to the data directory with a size cap and a hash, kept for a day until a
// deployment uses them. While the bytes are written they also go through gunzip and the tar header walk (no
// buffering), so an upload that is not a readable .tar.gz is refused now, not at build time. Extraction happens in
// the worker, in the build workspace.
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { SourceError } from "@/lib/build/source-errors";
import { checkTarballStream, MAX_TARBALL_ENTRIES } from "@/lib/build/source-tarball/check";
import { uploadPath } from "@/lib/data-paths";
import type { Db } from "@/lib/db";
import { recordAudit } from "@/lib/domain/audit";
import { actorUserId, authorize, type Ctx } from "@/lib/domain/context";
import { enforceUploadQuota, quotaExceeded, uploadRoom } from "@/lib/domain/quotas";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";

export const UPLOAD_TTL_MS = 24 * 60 * 60_000;
const GZIP_MAGIC = [0x1f, 0x8b];

export type UploadView = { id: string; sizeBytes: number; sha256: string; expiresAt: Date; createdAt: Date };

/** The tar reader's refusals (SourceError, written for the tenant) as the API's errors; others pass through. */
function archiveRefusal(error: unknown): unknown {
  if (!(error instanceof SourceError)) return error;
  const message = `This upload is not a usable .tar.gz archive: ${error.userMessage}`;
  return new AppError(error.code === "too_large" ? "too_large" : "invalid", message);
}

export async function createUpload(
  db: Db,
  ctx: Ctx,
  body: AsyncIterable<Uint8Array> | null,
  options: { declaredBytes?: number | null } = {},
): Promise<UploadView> {
  authorize(ctx, "deployments:create");
  const limit = getEnv().infra.uploadMaxBytes;
  const tooLarge = () => new AppError("too_large", `Uploads are limited to ${Math.round(limit / 1024 / 1024)} MiB.`);
  if (options.declaredBytes && options.declaredBytes > limit) throw tooLarge();
  if (!body) throw new AppError("bad_request", "The request has no body: send a .tar.gz file.");
  // The team's upload quota (bytes of unexpired uploads held at once): refused before a byte hits the disk when the
  // upload cannot fit, and checked again under the team's lock once its size is known (uploads may race).
  const quota = await uploadRoom(db, ctx.teamId);
  const overQuota = () =>
    quotaExceeded("uploadBytes", quota.limit, " (uploads count until they expire, a day after upload)");
  if (options.declaredBytes && options.declaredBytes > quota.room) throw overQuota();

  const id = randomUUID();
  const final = uploadPath(getEnv().dataDir, id);
  const temporary = `${final}.partial`;
  await fs.mkdir(path.dirname(final), { recursive: true, mode: 0o700 });
  const file = await fs.open(temporary, "wx", 0o600);
  const hash = createHash("sha256");
  const archive = checkTarballStream({
    maxExtractedBytes: getEnv().infra.sourceMaxBytes,
    maxEntries: MAX_TARBALL_ENTRIES,
  });
  let size = 0;
  let head: number[] = [];
  try {
    for await (const chunk of body) {
      size += chunk.byteLength;
      if (size > limit) throw tooLarge();
      if (size > quota.room) throw overQuota();
      if (head.length < 2) head = [...head, ...chunk.subarray(0, 2 - head.length)];
      hash.update(chunk);
      await file.write(chunk);
      await archive.write(chunk);
    }
    await file.close();
    if (size === 0 || head[0] !== GZIP_MAGIC[0] || head[1] !== GZIP_MAGIC[1]) {
      throw new AppError("invalid", "This is not a gzip-compressed tarball (.tar.gz).");
    }
    await archive.end();
    await fs.rename(temporary, final);
  } catch (error) {
    archive.close();
    await file.close().catch(() => undefined);
    await fs.rm(temporary, { force: true });
    throw archiveRefusal(error);
  }
  try {
    return await db.$transaction(async (tx) => {
      await enforceUploadQuota(tx, ctx.teamId, size);
      const upload = await tx.upload.create({
        data: {
          id,
          teamId: ctx.teamId,
          sizeBytes: size,
          sha256: hash.digest("hex"),
          createdBy: actorUserId(ctx),
          expiresAt: new Date(Date.now() + UPLOAD_TTL_MS),
        },
      });
      await recordAudit(tx, ctx, {
        action: "upload.created",
        target: { type: "upload", id },
        metadata: { sizeBytes: size },
      });
      return {
        id: upload.id,
        sizeBytes: upload.sizeBytes,
        sha256: upload.sha256,
        expiresAt: upload.expiresAt,
        createdAt: upload.createdAt,
      };
    });
  } catch (error) {
    await fs.rm(final, { force: true });
    throw error;
  }
}
