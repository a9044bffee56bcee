// Redoc's standalone bundle (npm `redoc`), served from this origin for the API reference at /docs/api: no CDN, so
// it works offline and under the portal's Content-Security-Policy (script-src 'self' plus the page's nonce; the
// page's own script adds this one, which 'strict-dynamic' allows). Read once from node_modules and kept in memory.
import fs from "node:fs/promises";
import path from "node:path";

let bundle: Promise<string> | undefined;

/**
 * The bundle's one outside fetch: the sidebar's "API docs by Redocly" link shows a logo from Redocly's CDN, which
 * the CSP's img-src refuses (a console error on every visit) and an offline installation cannot reach. An empty
 * SVG as a data: URL (allowed by img-src) takes its place; the link and its text stay.
 */
const REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg";
const EMPTY_SVG = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E";

function readBundle(): Promise<string> {
  // The server runs from the project's root (scripts/start.ts), where node_modules is installed.
  bundle ??= fs
    .readFile(path.join(process.cwd(), "node_modules", "redoc", "bundles", "redoc.standalone.js"), "utf8")
    .then((source) => source.replaceAll(REDOCLY_LOGO, EMPTY_SVG));
  return bundle;
}

export async function GET(): Promise<Response> {
  const body = await readBundle();
  return new Response(body, {
    headers: {
      "content-type": "text/javascript; charset=utf-8",
      // The file changes only with the pinned package version, i.e. with a new release of the platform.
      "cache-control": "public, max-age=3600",
    },
  });
}
