// Which bodies an endpoint reads (issue #22): a JSON endpoint reads application/json in UTF-8 and nothing else, an
// upload reads its declared media types, and the server decodes no content coding. Anything else is answered 415
// rather than guessed at. Media types are parsed with node:util's MIMEType (the WHATWG MIME type parser that ships
// with Node), not with a regex: parameters, quoting and case are its job.
import { MIMEType } from "node:util";
import { AppError } from "@/lib/errors";

export function unsupportedMediaType(message: string): AppError {
  return new AppError("unsupported_media_type", message);
}

/** `identity` (or no header) only: a gzip- or br-encoded body would be read as garbage, or not bounded by size. */
export function checkContentEncoding(headers: Headers): void {
  const encoding = headers.get("content-encoding");
  if (encoding === null) return;
  const codings = encoding.split(",").map((coding) => coding.trim().toLowerCase());
  if (codings.every((coding) => coding === "identity")) return;
  throw unsupportedMediaType("The server decodes no Content-Encoding: send the body as it is.");
}

function essenceOf(type: string): MIMEType | null {
  try {
    return new MIMEType(type);
  } catch {
    return null;
  }
}

/** A JSON body: application/json, with no charset or UTF-8 (RFC 8259); other parameters are ignored. */
export function checkJsonMediaType(headers: Headers): void {
  const type = headers.get("content-type");
  if (type === null) return;
  const parsed = essenceOf(type);
  const charset = parsed?.params.get("charset")?.toLowerCase();
  if (parsed?.essence === "application/json" && (charset === undefined || charset === "utf-8")) return;
  throw unsupportedMediaType("Send the body as JSON with Content-Type: application/json.");
}

/** A body the client must label: no Content-Type is as unsupported as another one. */
export function checkDeclaredMediaType(headers: Headers, accepted: readonly string[]): void {
  const parsed = essenceOf(headers.get("content-type") ?? "");
  if (parsed && accepted.includes(parsed.essence)) return;
  throw unsupportedMediaType(`Send the body with Content-Type: ${accepted[0] ?? "application/octet-stream"}.`);
}
