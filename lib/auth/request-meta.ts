// Request metadata for audit rows and rate limits, from the headers Next.js passes on.
import { randomUUID } from "node:crypto";
import type { RequestMeta } from "@/lib/domain/context";
import { getEnv } from "@/lib/env";

/**
 * The client's address, from X-Forwarded-For. Next.js fills that header with the connection's peer address only
 * when the request does not carry one, so without a reverse proxy a client can choose what this returns: per-IP
 * limits are then best effort and the per-account limits carry the weight. Behind n reverse proxies that append
 * the address they saw (Caddy does), set TUSSILAGO_TRUSTED_PROXIES=n and the n-th entry from the end is used.
 */
export function clientIpFrom(headers: Headers): string | null {
  const forwarded = (headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
  const hops = getEnv().trustedProxies;
  const ip = (hops === 0 ? forwarded.at(-1) : forwarded.at(-hops)) ?? null;
  return ip && /^[0-9a-fA-F:.]{2,45}$/.test(ip) ? ip : null;
}

export function requestMetaFrom(headers: Headers, requestId: string = randomUUID()): RequestMeta {
  return { requestId, ip: clientIpFrom(headers), userAgent: headers.get("user-agent") };
}
