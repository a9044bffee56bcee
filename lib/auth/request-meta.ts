// Request metadata for audit rows and rate limits, from the headers the web server passes on.
import { randomUUID } from "node:crypto";
import { isIP } from "node:net";
import type { RequestMeta } from "@/lib/domain/context";

/**
 * The client's address as the platform's web server (lib/services/web-server.ts) decided it from the connection
 * and TUSSILAGO_TRUSTED_PROXIES. The server sets it on every request and drops any value a client sent, so unlike
 * X-Forwarded-For (which Next.js only fills in when the client did not) a client cannot choose it.
 */
export const CLIENT_IP_HEADER = "x-tussilago-client-ip";

/** The client's address, or null when unknown (no such header: not served by the platform's web server). */
export function clientIpFrom(headers: Headers): string | null {
  const ip = headers.get(CLIENT_IP_HEADER)?.trim() ?? "";
  return isIP(ip) ? ip : null;
}

export function requestMetaFrom(headers: Headers, requestId: string = randomUUID()): RequestMeta {
  return { requestId, ip: clientIpFrom(headers), userAgent: headers.get("user-agent") };
}
