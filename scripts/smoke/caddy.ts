// Requests through the host's Caddy, the way a visitor reaches an app, and the probe loop that watches a cutover.
import { request } from "undici";
import type { Env } from "@/lib/env";
import { fail, PROBE_INTERVAL_MS, SERVE_DEADLINE_MS, sleep, waitUntil } from "./support";

export type Front = { port: number };

export function caddyFront(env: Env): Front {
  const first = env.release.caddyListen[0] ?? ":80";
  const port = Number(first.slice(first.lastIndexOf(":") + 1));
  if (!Number.isInteger(port) || port <= 0) fail(`cannot tell Caddy's port from TUSSILAGO_CADDY_LISTEN=${first}`);
  return { port };
}

export async function fetchThroughCaddy(front: Front, url: string): Promise<{ status: number; body: string }> {
  const host = new URL(url).host;
  const response = await request(`http://127.0.0.1:${front.port}/`, {
    headers: { host },
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  return { status: response.statusCode, body: await response.body.text() };
}

export async function waitServed(front: Front, url: string, expected: (body: string) => boolean): Promise<void> {
  await waitUntil(`${url} to answer 200 through Caddy`, SERVE_DEADLINE_MS, async () => {
    try {
      const answer = await fetchThroughCaddy(front, url);
      return answer.status === 200 && expected(answer.body) ? true : null;
    } catch {
      return null;
    }
  });
}

/** Probes until stopped; every answer that is not a 200 (or a connection error) counts as a failure. */
export function probeLoop(front: Front, url: string) {
  let stopped = false;
  let ok = 0;
  const failures: string[] = [];
  const running = (async () => {
    while (!stopped) {
      try {
        const answer = await fetchThroughCaddy(front, url);
        if (answer.status === 200) ok += 1;
        else failures.push(`HTTP ${answer.status}`);
      } catch (error) {
        failures.push((error as Error).message);
      }
      await sleep(PROBE_INTERVAL_MS);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await running;
      return { ok, failures };
    },
  };
}
