import { z } from "zod";

// One line of Caddy's JSON access log (the http.log.access logger, encoder "json"; Caddy 2.6's field names:
// request.host, status, duration in seconds, size the response body's bytes, ts in Unix seconds). Everything else on
// the line is ignored. Hostile input: tenants choose the Host header, the URI and every request header, and a
// client can make Caddy log any of them, so a line is parsed with a length cap, a strict shape for the few fields
// read, and bounds on every number; anything else is skipped and counted, never thrown.

/** Longer lines are skipped unread: Caddy logs request headers, which a client can make huge. */
export const MAX_LINE_BYTES = 64 * 1024;

const accessLineSchema = z.object({
  ts: z.number().finite().positive(),
  request: z.object({ host: z.string().max(300) }),
  // A response Caddy never finished (client gone) can have status 0: not a response, skipped.
  status: z.number().int().min(100).max(599),
  duration: z.number().finite().min(0).max(86_400),
  size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

export type AccessEntry = {
  /** Milliseconds since the epoch. */
  at: number;
  /** Lower-case, without port or trailing dot. */
  host: string;
  status: number;
  durationMs: number;
  bytes: number;
};

// A host as a browser sends it: a DNS name with an optional port. Anything else cannot belong to an app.
const HOST = /^([a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?)\.?(?::[0-9]{1,5})?$/;

export function normalizeHost(raw: string): string | null {
  const match = HOST.exec(raw.toLowerCase());
  return match?.[1] ?? null;
}

/** The entry of one log line, or null when the line is not a request Caddy handled as the platform expects. */
export function parseAccessLine(line: string): AccessEntry | null {
  if (line.length === 0 || line.length > MAX_LINE_BYTES) return null;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  const parsed = accessLineSchema.safeParse(value);
  if (!parsed.success) return null;
  const host = normalizeHost(parsed.data.request.host);
  if (host === null) return null;
  return {
    at: Math.round(parsed.data.ts * 1000),
    host,
    status: parsed.data.status,
    durationMs: parsed.data.duration * 1000,
    bytes: parsed.data.size,
  };
}
