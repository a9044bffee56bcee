// One HTTP health probe of a replica on its loopback host port, as the worker runs it before switching traffic.
import { Agent, request } from "undici";

export type Probe = (input: { port: number; path: string; host: string; timeoutMs: number }) => Promise<number | null>;

// A private pool without keep-alive: each probe tests that the app accepts a fresh connection, and proxy variables
// of the worker's environment never apply (the global dispatcher could be a proxy agent).
let agent: Agent | undefined;

/**
 * The HTTP status of `GET http://127.0.0.1:<port><path>`, or null when nothing answered in time. The Host header is
 * the app's public hostname, so frameworks that check it (Django's ALLOWED_HOSTS) answer as they would through Caddy.
 */
export const httpProbe: Probe = async ({ port, path, host, timeoutMs }) => {
  agent ??= new Agent({ pipelining: 0, keepAliveTimeout: 1, keepAliveMaxTimeout: 1 });
  try {
    const response = await request(`http://127.0.0.1:${port}${path}`, {
      method: "GET",
      dispatcher: agent,
      headers: { host, "user-agent": "tussilago-health-check" },
      signal: AbortSignal.timeout(timeoutMs),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    // The body is the app's business; only the status counts.
    await response.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
    return response.statusCode;
  } catch {
    return null;
  }
};
