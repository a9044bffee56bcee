import { once } from "node:events";
import { createGunzip } from "node:zlib";
import { SourceError } from "../source-errors";
import { invalidArchive, tooLargeExtracted } from "./errors";
import type { Limits } from "./policy";
import { ByteReader } from "./read";
import { BLOCK, MAX_META_CHAIN, walkTar } from "./tar-format";

// The upload-time check (issue #22): the bytes of an upload go through gunzip and the tar header walk while they are
// written to disk, so an upload that is not a readable .tar.gz is refused at once instead of at build time. Nothing
// is buffered beyond zlib's and the reader's small windows; no file is touched (the caller writes the upload).
// It reads the headers with the same reader and limits as extraction (walkTar), so what passes here unpacks there.

/** Files, directories and links an upload may hold (extraction uses the same bound). */
export const MAX_TARBALL_ENTRIES = 50_000;

export type TarballCheck = {
  /** Feeds the next bytes; rejects with a SourceError as soon as the archive is refused. */
  write(chunk: Uint8Array): Promise<void>;
  /** The upload is complete: resolves when the whole archive read well, rejects with the refusal otherwise. */
  end(): Promise<void>;
  /** Stops reading (the upload failed for another reason). */
  close(): void;
};

/** What the tar stream may hold besides file data: the same bound as extractTarball's (gzip bombs). */
function streamBudget(limits: Limits): number {
  return (
    limits.maxExtractedBytes +
    (limits.maxEntries + 1) * (MAX_META_CHAIN + 1) * 2 * BLOCK +
    Math.min(limits.maxEntries * 8 * 1024, 256 * 1024 * 1024) +
    4 * BLOCK
  );
}

export function checkTarballStream(limits: Limits): TarballCheck {
  const gunzip = createGunzip();
  // Errors reach the walk through the iterator below; this listener only keeps a late one from being unhandled.
  gunzip.on("error", () => undefined);
  const reader = new ByteReader(gunzip[Symbol.asyncIterator]() as AsyncIterator<Buffer>, streamBudget(limits), () =>
    tooLargeExtracted(limits.maxExtractedBytes),
  );
  let outcome: { error: unknown } | undefined;
  // Headers only: the visitor reads no data, which walkTar skips.
  const walk = walkTar(reader, limits, async () => undefined).then(
    () => {
      outcome = { error: undefined };
    },
    (error: unknown) => {
      outcome = { error };
    },
  );
  // A function, not a narrowed variable: the walk settles `outcome` while write awaits.
  const failed = (): boolean => outcome !== undefined && outcome.error !== undefined;
  const refusal = (): unknown => {
    const error = outcome?.error;
    return error instanceof SourceError ? error : invalidArchive("The upload is not a readable .tar.gz archive.");
  };

  return {
    async write(chunk) {
      if (failed()) throw refusal();
      // Done (the end marker was read): the rest is padding the archive's readers never look at.
      if (outcome) return;
      if (!gunzip.write(chunk)) {
        // Backpressure: wait for the walk to take more, or to end (then it will never drain).
        await Promise.race([once(gunzip, "drain").catch(() => undefined), walk]);
      }
      if (failed()) throw refusal();
    },
    async end() {
      if (!outcome) gunzip.end();
      await walk;
      gunzip.destroy();
      if (failed()) throw refusal();
    },
    close() {
      gunzip.destroy();
    },
  };
}
