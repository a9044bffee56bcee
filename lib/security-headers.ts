// The security headers of every response the portal serves, built per request by proxy.ts (a CSP nonce must be new
// for each page). Pure, so the policy is unit-tested.
import { randomBytes } from "node:crypto";

/** 128 random bits, base64: what CSP nonces need (unguessable, fresh per response). */
export function newNonce(): string {
  return randomBytes(16).toString("base64");
}

/**
 * Scripts run only with this response's nonce; Next.js reads it from the request's CSP header and puts it on its
 * own scripts, and 'strict-dynamic' lets those load their chunks. No inline script, no eval in production (React
 * needs eval in development for its error overlays).
 *
 * Styles keep 'unsafe-inline': React renders `style` props as style attributes, which a nonce cannot cover (nonces
 * apply to elements, not attributes), Next's built-in error pages use them, and Next injects style elements in
 * development. Style injection cannot run code, and with img-src, font-src and connect-src limited to this origin
 * it cannot send data elsewhere either, so scripts carry the weight of the policy.
 */
export function contentSecurityPolicy(input: {
  nonce: string;
  dev: boolean;
  https: boolean;
  /** Origins a sign-in form may continue to (the single sign-on issuer). */
  formTargets?: string[];
}): string {
  const directives = [
    "default-src 'self'",
    `script-src 'self' 'nonce-${input.nonce}' 'strict-dynamic'${input.dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    ["form-action 'self'", ...(input.formTargets ?? [])].join(" "),
    "frame-ancestors 'none'",
    ...(input.https ? ["upgrade-insecure-requests"] : []),
  ];
  return directives.join("; ");
}

export function securityHeaders(input: {
  nonce: string;
  dev: boolean;
  publicUrl: string;
  formTargets?: string[];
}): Record<string, string> {
  const https = input.publicUrl.startsWith("https://");
  return {
    "content-security-policy": contentSecurityPolicy({ ...input, https }),
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    // Only when users reach the portal over https: over plain http a browser ignores it, and on localhost it would
    // pin the whole host to https for a year. No includeSubDomains: apps live under other names and may be http.
    ...(https ? { "strict-transport-security": "max-age=31536000" } : {}),
  };
}
