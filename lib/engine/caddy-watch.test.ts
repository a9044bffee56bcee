// The Caddy watch: a Caddy that lost its config (restarted) gets the routes back on the next tick, a Caddy that is
// down is only noted, and one that comes back on the same address is repaired without a human.
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { getDb } from "@/lib/db";
import { createCaddyWatch } from "@/lib/engine/caddy-watch";
import { syncRouting } from "@/lib/engine/routing";
import { createCaddyClient } from "@/lib/infra/caddy";
import { createTestTeam, createTestUser } from "@/test/factories";
import { type FakeCaddy, startFakeCaddy } from "@/test/fake-caddy";
import { routeHandlerOf, routingFor, silentLog } from "@/test/release-helpers";

const fakes: FakeCaddy[] = [];

afterEach(async () => {
  for (const fake of fakes.splice(0)) await fake.close();
});

async function fakeCaddy(port?: number): Promise<FakeCaddy> {
  const fake = await startFakeCaddy(port === undefined ? {} : { port });
  fakes.push(fake);
  return fake;
}

async function stoppedApp() {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  // A stopped app still gets a route (a 503), so no replica rows are needed to see it in Caddy.
  return await getDb().app.create({
    data: { teamId: team.id, name: `w-${randomBytes(3).toString("hex")}`, status: "stopped" },
  });
}

function watchOf(caddy: FakeCaddy, intervalMs?: number) {
  const client = createCaddyClient({ adminEndpoint: caddy.url, timeoutMs: 2_000 });
  const watch = createCaddyWatch({
    db: getDb(),
    caddy: () => client,
    config: routingFor(caddy),
    log: silentLog,
    retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    ...(intervalMs === undefined ? {} : { intervalMs }),
  });
  return { client, watch };
}

describe("caddy watch", () => {
  it("loads the routes again when Caddy restarted with an empty config, and does nothing while it has them", async () => {
    const caddy = await fakeCaddy();
    const app = await stoppedApp();
    const { client, watch } = watchOf(caddy);
    await syncRouting(getDb(), client, { config: routingFor(caddy), log: silentLog });
    expect(routeHandlerOf(caddy.config, app.id)).toBe("static_response");

    expect(await watch.tick()).toBe("ok");
    caddy.restart();
    expect(routeHandlerOf(caddy.config, app.id)).toBeNull();
    expect(await watch.tick()).toBe("resynced");
    expect(routeHandlerOf(caddy.config, app.id)).toBe("static_response");

    // While Caddy has the config, a check is one GET of one @id: no load, no read of the whole config.
    const before = caddy.requests.length;
    expect(await watch.tick()).toBe("ok");
    expect(caddy.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual(["GET /id/tsl-fallback"]);
    await client.close();
  });

  it("notes an unreachable Caddy without throwing and repairs it when it comes back on the same address", async () => {
    const first = await fakeCaddy();
    const app = await stoppedApp();
    const { client, watch } = watchOf(first);
    await syncRouting(getDb(), client, { config: routingFor(first), log: silentLog });
    const port = Number(new URL(first.url).port);

    await first.close();
    fakes.splice(fakes.indexOf(first), 1);
    expect(await watch.tick()).toBe("unreachable");
    expect(await watch.tick()).toBe("unreachable");

    const back = await fakeCaddy(port);
    expect(await watch.tick()).toBe("resynced");
    expect(routeHandlerOf(back.config, app.id)).toBe("static_response");
    expect(await watch.tick()).toBe("ok");
    await client.close();
  });

  it("repairs a restarted Caddy on its own once started, and stops cleanly", async () => {
    const caddy = await fakeCaddy();
    const app = await stoppedApp();
    const { client, watch } = watchOf(caddy, 20);
    await syncRouting(getDb(), client, { config: routingFor(caddy), log: silentLog });
    watch.start();
    try {
      caddy.restart();
      await vi.waitFor(() => expect(routeHandlerOf(caddy.config, app.id)).toBe("static_response"), {
        timeout: 20_000,
        interval: 20,
      });
    } finally {
      await watch.stop();
      await client.close();
    }
  });
});
