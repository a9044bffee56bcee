// Request metadata for audit rows and rate limits, from the headers Next.js passes on.
import { randomUUID } from "node:crypto";
import type { RequestMeta } from "@/lib/domain/context";
import { getEnv } from "@/lib/env";

/**
 * The client's address. Next.js appends the peer address of each connection to X-Forwarded-For, so the last entry
 * is the one this server saw; with TUSSILAGO_TRUSTED_PROXIES = n reverse proxies in front, the n-th from the end.
 * Anything further left was written by the client and is not trusted.
 */
export function clientIpFrom(headers: Headers): string | null {
  const forwarded = (headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
  const hops = getEnv().trustedProxies;
  const ip = forwarded.at(-1 - hops) ?? forwarded[0] ?? null;
  return ip && /^[0-9a-fA-F:.]{2,45}$/.test(ip) ? ip : null;
}

export function requestMetaFrom(headers: Headers, requestId: string = randomUUID()): RequestMeta {
  return { requestId, ip: clientIpFrom(headers), userAgent: headers.get("user-agent") };
}
