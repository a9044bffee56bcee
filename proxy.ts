// Next.js 16's proxy (formerly middleware): a fresh CSP nonce and the security headers for every page. Next reads
// the nonce from the request's Content-Security-Policy header and applies it to its own scripts, so pages must be
// rendered per request (app/layout.tsx awaits connection()). The header builder is lib/security-headers.ts.
import { type NextRequest, NextResponse } from "next/server";
import { getEnv } from "@/lib/env";
import { newNonce, securityHeaders } from "@/lib/security-headers";

export function proxy(request: NextRequest): NextResponse {
  const env = getEnv();
  const headers = securityHeaders({
    nonce: newNonce(),
    dev: env.nodeEnv === "development",
    publicUrl: env.publicUrl,
    // The single sign-on button posts a form whose answer redirects to the issuer.
    formTargets: env.oidc ? [new URL(env.oidc.issuer).origin] : [],
  });
  const csp = headers["content-security-policy"] ?? "";
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("content-security-policy", csp);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}

export const config = {
  matcher: [
    // Static files need none of this and are served before any page logic; everything else, API included, gets it.
    "/((?!_next/static|_next/image|favicon.ico).*)",
  ],
};
