// caddy_load_ms: renderCaddyConfig and applyCaddyConfig (POST /load of the whole config, as every route change does)
// at 1, 100, 1,000 and 5,000 apps. Against a private Caddy when one is installed: its own admin socket in the bench's
// directory, an HTTP listener on a free loopback port, its own config and data directories (so the host's Caddy and
// its autosaved config are never touched). Without Caddy, against the fake admin API, which only shows the render
// and the client's own cost.
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import {
  applyCaddyConfig,
  type CaddyClient,
  canonicalJson,
  createCaddyClient,
  type DesiredApp,
  renderCaddyConfig,
} from "@/lib/infra/caddy";
import type { BenchContext } from "@/scripts/bench/context";
import { type Metric, type MetricValue, round, summarize } from "@/scripts/bench/stats";
import { startFakeCaddy } from "@/test/fake-caddy";
import { findCaddy, type PrivateCaddy, startPrivateCaddy as startTestCaddy } from "@/test/private-caddy";

const SIZES = [1, 100, 1_000, 5_000] as const;
const REPEATS = 5;
const QUICK_REPEATS = 2;
const RENDER_REPEATS = 5;

export { findCaddy, type PrivateCaddy } from "@/test/private-caddy";

/** A private Caddy in the bench's directory, stopped with the bench (test/private-caddy.ts). */
export async function startPrivateCaddy(context: BenchContext, caddyPath: string, name: string): Promise<PrivateCaddy> {
  const caddy = await startTestCaddy(caddyPath, await context.dir(name));
  context.defer(`private Caddy (${name})`, caddy.stop);
  return caddy;
}

/** One running app per id, one upstream each; `salt` moves the upstream ports so Caddy really reloads. */
function desiredApps(ids: readonly string[], salt: number): DesiredApp[] {
  return ids.map((appId, i) => ({
    appId,
    hostnames: [`app-${i}-bench.localhost`],
    upstreams: [{ dial: `127.0.0.1:${20_000 + ((i + salt * 7) % 30_000)}` }],
    healthCheckPath: "/",
  }));
}

export async function measureCaddyLoad(context: BenchContext): Promise<Metric> {
  const caddyPath = findCaddy();
  let client: CaddyClient;
  let adminListen: string;
  let listen: string;
  let against: string;
  if (caddyPath) {
    const caddy = await startPrivateCaddy(context, caddyPath, "caddy-load");
    ({ client, adminListen, listen } = caddy);
    against = `a private Caddy ${caddy.version} (admin API on a unix socket, serving ${listen})`;
  } else {
    const fake = await startFakeCaddy();
    context.defer("fake Caddy", () => fake.close());
    client = createCaddyClient({ adminEndpoint: fake.url, timeoutMs: 60_000 });
    context.defer("fake Caddy client", () => client.close());
    adminListen = new URL(fake.url).host;
    listen = "127.0.0.1:8080";
    against = "the fake admin API (test/fake-caddy.ts): no caddy on PATH, so apply_ms is NOT Caddy's reload time";
  }
  const options = { listen: [listen], adminListen, automaticHttps: false };
  const repeats = context.options.quick ? QUICK_REPEATS : REPEATS;
  const sizes: Record<string, MetricValue> = {};
  let headline: number | null = null;
  let salt = 0;
  for (const size of SIZES) {
    context.progress(`caddy_load_ms: ${size} apps, ${repeats} loads`);
    const ids = Array.from({ length: size }, () => randomUUID());
    const renders: number[] = [];
    for (let i = 0; i < RENDER_REPEATS; i += 1) {
      const desired = desiredApps(ids, salt);
      const started = performance.now();
      renderCaddyConfig(desired, options);
      renders.push(performance.now() - started);
    }
    const applies: number[] = [];
    let lastHash: string | null = null;
    let bytes = 0;
    for (let i = 0; i < repeats; i += 1) {
      salt += 1;
      const config = renderCaddyConfig(desiredApps(ids, salt), options);
      bytes = Buffer.byteLength(canonicalJson(config));
      const started = performance.now();
      const result = await applyCaddyConfig(client, config, { lastAppliedHash: lastHash });
      applies.push(performance.now() - started);
      if (!result.applied) throw new Error("Caddy skipped a changed config");
      lastHash = result.hash;
    }
    // The common case after a sync that changed nothing: read the live config back and compare hashes.
    const unchangedConfig = renderCaddyConfig(desiredApps(ids, salt), options);
    const unchangedStart = performance.now();
    const unchanged = await applyCaddyConfig(client, unchangedConfig, { lastAppliedHash: lastHash });
    const unchangedMs = performance.now() - unchangedStart;
    const render = summarize(renders);
    const apply = summarize(applies);
    sizes[String(size)] = {
      render_ms: round(render.p50),
      apply_ms: round(apply.p50),
      total_ms: round(render.p50 + apply.p50),
      apply_max_ms: round(apply.max),
      unchanged_ms: round(unchangedMs),
      // True would mean the live config did not hash like the one sent, so every sync reloads Caddy.
      unchanged_reloaded: unchanged.applied,
      config_kb: round(bytes / 1024, 0),
    };
    if (size === 1_000) headline = render.p50 + apply.p50;
  }
  // Back to an empty config: a private Caddy with 5,000 active health checkers is not left running meanwhile.
  await applyCaddyConfig(client, renderCaddyConfig([], options), {});
  return {
    value: headline === null ? null : round(headline),
    unit: "ms (render + apply, 1,000 apps)",
    sizes,
    against: caddyPath ? "caddy" : "fake",
    notes:
      `Against ${against}. render_ms: renderCaddyConfig, p50 of ${RENDER_REPEATS}; apply_ms: applyCaddyConfig ` +
      `(POST /load of the whole config, a real reload: every load changes the upstream ports), p50 of ${repeats}; ` +
      "unchanged_ms: the apply that finds the config already live (GET /config/ and a hash). Each app has one " +
      "upstream and an active health check, like a running app. The database read (desiredRouting) is not included.",
  };
}
