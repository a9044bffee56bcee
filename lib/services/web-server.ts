// The web server in front of Next.js (scripts/web-server.ts): node:http plus Next's request handler, so the
// client's address comes from the connection. `next start` keeps a client's X-Forwarded-For when there is one,
// which let any client choose the address of its audit rows and per-IP limits.
import { randomUUID } from "node:crypto";
import http from "node:http";
import { isIP } from "node:net";
import { CLIENT_IP_HEADER } from "@/lib/auth/request-meta";

type HeaderValue = string | string[] | undefined;

function normalizeAddress(value: string | undefined | null): string | null {
  let address = (value ?? "").trim();
  // An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d.
  if (address.toLowerCase().startsWith("::ffff:") && isIP(address.slice(7)) === 4) address = address.slice(7);
  return isIP(address) ? address : null;
}

/**
 * The client's address. With no trusted proxy, the connection's peer. Behind n proxies that each append the
 * address they saw to X-Forwarded-For, the entry the outermost one appended: the chain is the header's entries
 * followed by the peer, and the client is n places before its end. What a client put in the header itself sits
 * further left and is never used. A chain too short did not come through the proxies: then only the peer is known.
 */
export function clientAddress(input: {
  forwardedFor: HeaderValue;
  peer: string | undefined;
  trustedProxies: number;
}): string | null {
  const peer = normalizeAddress(input.peer);
  if (!peer || input.trustedProxies === 0) return peer;
  const raw = Array.isArray(input.forwardedFor) ? input.forwardedFor.join(",") : (input.forwardedFor ?? "");
  const chain = [
    ...raw
      .split(",")
      .map((part) => part.trim())
      .filter(Boolean),
    peer,
  ];
  if (chain.length < input.trustedProxies + 1) return peer;
  return normalizeAddress(chain[chain.length - 1 - input.trustedProxies]);
}

/** Replaces X-Forwarded-For and the platform's client address header with the address decided here. */
export function rewriteClientHeaders(
  headers: Record<string, HeaderValue>,
  peer: string | undefined,
  trustedProxies: number,
): void {
  const client = clientAddress({ forwardedFor: headers["x-forwarded-for"], peer, trustedProxies });
  delete headers[CLIENT_IP_HEADER];
  delete headers["x-forwarded-for"];
  if (client) {
    headers[CLIENT_IP_HEADER] = client;
    headers["x-forwarded-for"] = client;
  }
}

/** Whether every %XX escape of the path (the query string aside) decodes to well-formed UTF-8. */
export function isWellFormedPath(url: string): boolean {
  const pathname = url.split("?", 1)[0] ?? "";
  try {
    // decodeURIComponent throws on a truncated escape, bytes that are not UTF-8, overlong forms and encoded surrogates.
    decodeURIComponent(pathname);
    return true;
  } catch {
    return false;
  }
}

/**
 * Answers a request whose path does not decode (Next's route parameter decoding throws on it and answers a plain-text
 * 500): under /api/ the API's 404 in its error shape (such a path names nothing that exists), elsewhere a plain 400.
 */
function answerMalformedPath(request: http.IncomingMessage, response: http.ServerResponse): void {
  const requestId = randomUUID();
  const common = { "cache-control": "no-store", "x-request-id": requestId };
  if ((request.url ?? "").startsWith("/api/")) {
    response.writeHead(404, { ...common, "content-type": "application/json; charset=utf-8" });
    response.end(JSON.stringify({ error: { code: "not_found", message: "Not found.", requestId } }));
    return;
  }
  response.writeHead(400, { ...common, "content-type": "text/plain; charset=utf-8" });
  response.end("Bad request: the path is not valid percent-encoded UTF-8.\n");
}

/**
 * An HTTP server that fixes the client headers of every request before `handler` (Next's) sees it, and answers paths
 * that do not decode itself.
 */
export function createWebServer(
  handler: (request: http.IncomingMessage, response: http.ServerResponse) => unknown,
  trustedProxies: number,
): http.Server {
  return http.createServer((request, response) => {
    if (!isWellFormedPath(request.url ?? "/")) {
      answerMalformedPath(request, response);
      return;
    }
    rewriteClientHeaders(request.headers, request.socket.remoteAddress, trustedProxies);
    void handler(request, response);
  });
}

/** How the supervisor (scripts/start.ts) starts the web server: node <these args>, from the repository root. */
export function webServerArgs(options: { dev: boolean }): string[] {
  return ["--import", "tsx", "scripts/web-server.ts", ...(options.dev ? ["--dev"] : [])];
}
