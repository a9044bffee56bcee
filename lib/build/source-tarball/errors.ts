import { SourceError } from "../source-errors";

// The refusals of the tarball path (all SourceError, safe to show to the tenant) and the small helpers their
// messages use.

export function invalidArchive(message: string): SourceError {
  return new SourceError("invalid_archive", message);
}

export function unsafePath(message: string): SourceError {
  return new SourceError("unsafe_path", message);
}

export function unsupported(message: string): SourceError {
  return new SourceError("unsupported_entry", message);
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Number((bytes / 1024 ** 2).toFixed(1))} MiB`;
  if (bytes >= 1024) return `${Number((bytes / 1024).toFixed(1))} KiB`;
  return `${bytes} bytes`;
}

export function quote(text: string): string {
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}...` : text);
}

export function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined;
}

export function tooLargeCompressed(max: number): SourceError {
  return new SourceError("too_large", `The upload is larger than the limit of ${formatBytes(max)}.`);
}

export function tooLargeExtracted(max: number): SourceError {
  return new SourceError("too_large", `The archive unpacks to more than the limit of ${formatBytes(max)}.`);
}

export function truncated(): SourceError {
  return invalidArchive("The archive is truncated.");
}
