import { receiveDeliveryEndpoint } from "@/lib/api/endpoints/webhooks";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle, MAX_JSON_BODY_BYTES } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { receiveDelivery } from "@/lib/domain/deliveries";
import { AppError } from "@/lib/errors";

function tooLarge(): AppError {
  return new AppError("too_large", `The delivery is larger than ${MAX_JSON_BODY_BYTES} bytes.`);
}

/**
 * The raw bytes, as signed: a signature covers these exact bytes, so nothing parses or re-encodes them first.
 * Refused past the limit (by Content-Length, or while streaming when there is none) before anything is read further.
 */
async function readRawBody(request: Request): Promise<Buffer> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_JSON_BODY_BYTES) throw tooLarge();
  if (!request.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_JSON_BODY_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}

export const POST = handle(receiveDeliveryEndpoint, async ({ params, request }) => {
  const body = await readRawBody(request);
  const answer = await receiveDelivery(getDb(), { urlToken: params.urlToken, headers: request.headers, body });
  return answer;
});

export const { GET, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/hooks/{urlToken}");
