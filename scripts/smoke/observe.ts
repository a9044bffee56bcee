// Metrics and notifications on the real host (docs/metrics.md): a webhook channel to a listener on the host's loopback
// (the platform runs with TUSSILAGO_WEBHOOK_ALLOW_PRIVATE_HOSTS=1) whose every delivery's signature is checked, a
// burst of requests through the host's Caddy that the metrics API must count beside the container's CPU and memory
// samples, and the app's container killed with `podman kill`: the crash is told to the webhook, and the crash watch
// brings the app back.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Env } from "@/lib/env";
import { type Api, type App, deploy, field, tarball } from "./api";
import { type Front, fetchThroughCaddy, waitServed } from "./caddy";
import { containersOf, podman } from "./host";
import { EXAMPLES_DIR, fail, OPERATION_DEADLINE_MS, phase, say, waitUntil } from "./support";

const EXAMPLE = "wsgi-stdlib";
const BURST = 60;
/** Samples every 15 s and the access log's ingestion: the first points come about a minute after serving. */
const METRICS_DEADLINE_MS = 4 * 60_000;
/** The crash watch runs twice a minute and restarts after a 10 s backoff (lib/engine/crash-watch.ts). */
const CRASH_DEADLINE_MS = 4 * 60_000;

type Received = { event: string; body: Record<string, unknown>; signatureOk: boolean };
type Point = { t: string; byProcess: Record<string, number> };
type Metrics = {
  processes: string[];
  cpu: Point[];
  memory: Point[];
  http: { t: string; requests: number; status2xx: number; p50Ms: number | null; p95Ms: number | null }[];
  restarts: Point[];
};

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

/** A receiver that keeps every delivery with whether its X-Tussilago-Signature matches the channel's secret. */
async function startReceiver() {
  const received: Received[] = [];
  let secret = "";
  const server = createServer((request, response) => {
    readBody(request).then(
      (raw) => {
        const header = String(request.headers["x-tussilago-signature"] ?? "");
        const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(raw).digest("hex")}`);
        const signatureOk = header.length === expected.length && timingSafeEqual(Buffer.from(header), expected);
        const body = JSON.parse(raw.toString("utf8")) as Record<string, unknown>;
        received.push({ event: String(body.event ?? request.headers["x-tussilago-event"]), body, signatureOk });
        response.end("ok");
      },
      () => response.writeHead(400).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/tussilago-hook`,
    received,
    setSecret(value: string) {
      secret = value;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function lastOf(series: Point[], process: string): number | null {
  for (let i = series.length - 1; i >= 0; i -= 1) {
    const value = series[i]?.byProcess[process];
    if (value !== undefined) return value;
  }
  return null;
}

export async function smokeObserve(api: Api, env: Env, front: Front): Promise<void> {
  const marker = randomBytes(3).toString("hex");
  const receiver = await startReceiver();
  let appId: string | null = null;
  let channelId: string | null = null;
  const eventFor = (event: string, id: string) =>
    receiver.received.find(
      (each) => each.event === event && (each.body.app as { id?: string } | null)?.id === id && each.signatureOk,
    ) ?? null;
  try {
    await phase("observe: a webhook channel to a loopback receiver", async () => {
      const answer = await api("POST", "/api/v1/notification-channels", {
        kind: "webhook",
        name: `smoke-${marker}`,
        target: receiver.url,
        events: ["deployment.succeeded", "deployment.failed", "app.crashed", "app.crash_looping"],
      });
      channelId = field<{ id: string }>(answer, "channel").id;
      const secret = field<string | null>(answer, "secret");
      if (!secret) fail("the webhook channel was created without a signing secret");
      receiver.setSecret(secret);
    });

    const app = field<App>(
      await api("POST", "/api/v1/apps", { name: `smoke-observe-${marker}`, settings: { healthCheckPath: "/" } }),
      "app",
    );
    appId = app.id;
    await phase("observe: deploy, the webhook gets a signed deployment.succeeded", async () => {
      await deploy(api, app.id, await tarball(path.join(EXAMPLES_DIR, EXAMPLE)));
      await waitServed(front, app.url, (body) => body.length > 0);
      await waitUntil("a signed deployment.succeeded delivery", OPERATION_DEADLINE_MS, async () =>
        eventFor("deployment.succeeded", app.id),
      );
      const unsigned = receiver.received.filter((each) => !each.signatureOk);
      if (unsigned.length > 0) fail(`${unsigned.length} delivery(ies) with a signature that does not verify`);
    });

    await phase(
      `observe: ${BURST} requests through Caddy, then metrics show CPU, memory and the requests`,
      async () => {
        let ok = 0;
        for (let i = 0; i < BURST; i += 1) {
          if ((await fetchThroughCaddy(front, app.url)).status === 200) ok += 1;
        }
        if (ok !== BURST) fail(`${BURST - ok} of ${BURST} requests through Caddy did not answer 200`);
        const metrics = await waitUntil("metrics with CPU, memory and the burst", METRICS_DEADLINE_MS, async () => {
          const current = (await api("GET", `/api/v1/apps/${app.id}/metrics?range=1h`)) as unknown as Metrics;
          const requests = current.http.reduce((sum, point) => sum + point.requests, 0);
          const hasCpu = lastOf(current.cpu, "web") !== null;
          const memory = lastOf(current.memory, "web") ?? 0;
          return hasCpu && memory > 0 && requests >= BURST ? current : null;
        }).catch((error: unknown) =>
          api("GET", `/api/v1/apps/${app.id}/metrics?range=1h`).then((last) =>
            fail(
              `${String(error instanceof Error ? error.message : error)}; last answer: ${JSON.stringify(last).slice(0, 1500)}`,
            ),
          ),
        );
        const requests = metrics.http.reduce((sum, point) => sum + point.requests, 0);
        const ok2xx = metrics.http.reduce((sum, point) => sum + point.status2xx, 0);
        const p95 = metrics.http.at(-1)?.p95Ms ?? null;
        say(
          `    processes ${metrics.processes.join(",")}: ${metrics.cpu.length} CPU point(s), last ${lastOf(metrics.cpu, "web")?.toFixed(4)} of the limit; ` +
            `${metrics.memory.length} memory point(s), last ${((lastOf(metrics.memory, "web") ?? 0) / 1048576).toFixed(1)} MiB; ` +
            `http ${metrics.http.length} step(s), ${requests} requests (${ok2xx} 2xx), last p95 ${p95 ?? "-"} ms`,
        );
      },
    );

    await phase("observe: podman kill of the app's container, the crash is told and the app comes back", async () => {
      const [name] = await containersOf(env, app.id);
      if (!name) fail("no running container of the app to kill");
      await podman(env, ["kill", "--signal", "KILL", name]);
      say(`    killed ${name}`);
      const crash = await waitUntil("a signed app.crashed delivery", CRASH_DEADLINE_MS, async () =>
        eventFor("app.crashed", app.id),
      );
      say(`    webhook: ${crash.event}: ${String(crash.body.summary)}`);
      await waitUntil(`${app.url} to answer 200 through Caddy again`, CRASH_DEADLINE_MS, async () => {
        const answer = await fetchThroughCaddy(front, app.url).catch(() => ({ status: 0 }));
        return answer.status === 200 ? true : null;
      });
      const running = await containersOf(env, app.id);
      say(`    serving again; running: ${running.join(", ")}`);
      const unsigned = receiver.received.filter((each) => !each.signatureOk);
      if (unsigned.length > 0) fail(`${unsigned.length} delivery(ies) with a signature that does not verify`);
      const events = receiver.received.map((each) => each.event).join(", ");
      say(`    the webhook received: ${events} (all signatures verified)`);
    });
  } finally {
    await receiver.stop();
    if (channelId)
      await api("DELETE", `/api/v1/notification-channels/${channelId}`, undefined, [204, 404]).catch(() => {});
    if (appId) {
      const id = appId;
      await api("DELETE", `/api/v1/apps/${id}`, undefined, [202, 404]).catch(() => {});
      await waitUntil("the observed app to be deleted", OPERATION_DEADLINE_MS, async () => {
        const status = await api("GET", `/api/v1/apps/${id}`, undefined, [200, 404]);
        return status.error ? true : null;
      }).catch(() => say("    the observed app was not deleted in time"));
    }
  }
}
