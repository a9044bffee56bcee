// A closed-loop HTTP load generator on undici: N loops each send one request, read the whole answer, and send the
// next, for a fixed time. Closed-loop on purpose: at a fixed concurrency the server sets the pace, so the figures say
// what it sustains rather than how long a queue grew. Bounded by time and by a request count, loopback only.
import { performance } from "node:perf_hooks";
import { Pool } from "undici";
import { type Summary, summarize } from "@/scripts/bench/stats";

export type LoadOptions = {
  /** http://127.0.0.1:<port>; anything but loopback is refused. */
  origin: string;
  path: string;
  headers?: Record<string, string>;
  concurrency: number;
  durationMs: number;
  /** Not measured: connections open, the server's routes load, caches warm. */
  warmupMs?: number;
  /** A hard stop however fast the server answers. */
  maxRequests?: number;
  /** Per request; a request over it counts as an error. */
  timeoutMs?: number;
};

export type LoadResult = {
  requests: number;
  errors: number;
  /** Answers outside 2xx, by status. */
  statuses: Record<string, number>;
  durationS: number;
  rps: number;
  latency: Summary;
  firstError: string | null;
};

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

async function phase(pool: Pool, options: LoadOptions, durationMs: number, record: boolean): Promise<LoadResult> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const maxRequests = options.maxRequests ?? 1_000_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  let issued = 0;
  let errors = 0;
  let firstError: string | null = null;
  const started = performance.now();
  const deadline = started + durationMs;

  const loop = async () => {
    while (performance.now() < deadline && issued < maxRequests) {
      issued += 1;
      const sent = performance.now();
      try {
        const response = await pool.request({
          path: options.path,
          method: "GET",
          headers: options.headers ?? {},
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        // The whole body, as a real client reads it: a server that streams slowly must not look fast.
        await response.body.arrayBuffer();
        if (response.statusCode < 200 || response.statusCode >= 300) {
          const key = String(response.statusCode);
          statuses[key] = (statuses[key] ?? 0) + 1;
        }
        if (record) latencies.push(performance.now() - sent);
      } catch (error) {
        errors += 1;
        firstError ??= error instanceof Error ? error.message : String(error);
        // A refused connection fails at once; without a pause the loop would spin and count thousands of them.
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  const durationS = (performance.now() - started) / 1000;
  return {
    requests: latencies.length,
    errors,
    statuses,
    durationS,
    rps: latencies.length / durationS,
    latency: summarize(latencies),
    firstError,
  };
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const url = new URL(options.origin);
  if (url.protocol !== "http:" || !LOOPBACK.has(url.hostname)) {
    throw new Error(`the load generator only targets loopback http:// origins, not ${options.origin}`);
  }
  // One connection per loop, no pipelining: each loop is one client with keep-alive, like a browser tab or a CLI.
  const pool = new Pool(url.origin, { connections: options.concurrency, pipelining: 1 });
  try {
    if (options.warmupMs && options.warmupMs > 0) await phase(pool, options, options.warmupMs, false);
    return await phase(pool, options, options.durationMs, true);
  } finally {
    await pool.close();
  }
}
