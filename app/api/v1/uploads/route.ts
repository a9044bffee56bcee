import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { createUploadEndpoint, uploadJson } from "@/lib/api/endpoints/apps";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { createUpload } from "@/lib/domain/uploads";

// The handler has already refused a Content-Type outside the endpoint's rawBody.contentTypes, any Content-Encoding
// (415) and an Idempotency-Key (not honoured on a streamed upload).
export const POST = handle(createUploadEndpoint, async ({ ctx, request }) => {
  const declared = request.headers.get("content-length");
  const body = request.body ? Readable.fromWeb(request.body as NodeReadableStream<Uint8Array>) : null;
  const upload = await createUpload(getDb(), ctx, body, { declaredBytes: declared ? Number(declared) : null });
  return { status: 201 as const, body: { upload: uploadJson(upload) } };
});

export const { GET, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/uploads");
