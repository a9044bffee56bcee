// Fixtures for release and lifecycle tests: apps with built deployments whose images exist in the fake podman,
// small HTTP servers that play the apps' replicas (the fake podman publishes containers on their ports), and the
// release engine's dependencies with an injected clock, so nothing in a test waits for real time.
import fs from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import type { Ctx } from "@/lib/domain/context";
import { createOperation } from "@/lib/domain/operations";
import { httpProbe } from "@/lib/engine/health-probe";
import type { ReleaseDeps } from "@/lib/engine/release";
import type { RoutingConfig } from "@/lib/engine/routing";
import { getEnv } from "@/lib/env";
import type { App, Deployment, Operation } from "@/lib/generated/prisma/client";
import { createCaddyClient } from "@/lib/infra/caddy";
import { toResourceName } from "@/lib/infra/podman";
import { getInfra } from "@/lib/services/infra";
import { createTestTeam, createTestUser, userCtx } from "@/test/factories";
import type { FakeCaddy } from "@/test/fake-caddy";
import type { FakePodman } from "@/test/fake-podman/install";

export const silentLog = pino({ level: "silent" });

/** HTTP servers standing in for app replicas; each answers its `status` to every request. */
export type ReplicaServers = {
  /**
   * Starts `count` servers answering `status` and makes them the host ports the fake podman hands out next. With
   * status null the ports are closed (connections refused), like a container that died.
   */
  offer(count: number, status?: number | null): Promise<number[]>;
  setStatus(port: number, status: number): void;
  /** Requests each port received (path and Host header). */
  requests(port: number): { path: string; host: string | undefined }[];
  close(): Promise<void>;
};

export function replicaServers(podman: FakePodman, baseEnv: () => Record<string, string>): ReplicaServers {
  const servers: Server[] = [];
  const statuses = new Map<number, number>();
  const seen = new Map<number, { path: string; host: string | undefined }[]>();
  return {
    async offer(count, status = 200) {
      const ports: number[] = [];
      for (let i = 0; i < count; i += 1) {
        let port = 0;
        const server = createServer((req, res) => {
          seen.get(port)?.push({ path: req.url ?? "", host: req.headers.host });
          res.writeHead(statuses.get(port) ?? 200, { "content-type": "text/plain" });
          res.end("ok\n");
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        port = (server.address() as AddressInfo).port;
        seen.set(port, []);
        ports.push(port);
        if (status === null) {
          await new Promise<void>((resolve) => server.close(() => resolve()));
          continue;
        }
        statuses.set(port, status);
        servers.push(server);
      }
      await podman.configure({ ...baseEnv(), HOST_PORTS: ports.join(",") });
      return ports;
    },
    setStatus(port, status) {
      statuses.set(port, status);
    },
    requests(port) {
      return seen.get(port) ?? [];
    },
    async close() {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
    },
  };
}

/** Release containers (names ending in -release) exit at once with `code`; replicas keep running. */
export function oneOffExits(code = 0): Record<string, string> {
  return { RUN_EXIT_CODE: String(code), RUN_EXIT_MATCH: "-release$" };
}

export type Clock = { now(): number; sleep(ms: number): Promise<void>; sleeps: number[] };

/** Virtual time: sleeping advances it at once. */
export function fakeClock(onSleep?: (ms: number) => Promise<void> | void): Clock {
  let time = 1_000_000;
  const sleeps: number[] = [];
  return {
    now: () => time,
    async sleep(ms) {
      sleeps.push(ms);
      await onSleep?.(ms);
      time += ms;
    },
    sleeps,
  };
}

export function routingFor(caddy: FakeCaddy): RoutingConfig {
  return {
    routerId: caddy.url,
    listen: [":80"],
    adminListen: new URL(caddy.url).host,
    appsDomain: getEnv().appsDomain,
    automaticHttps: false,
  };
}

export function testDeps(caddy: FakeCaddy, overrides: Partial<ReleaseDeps> = {}): ReleaseDeps {
  const clock = fakeClock();
  return {
    db: getDb(),
    podman: getInfra().podman(),
    caddy: createCaddyClient({ adminEndpoint: caddy.url, timeoutMs: 2_000 }),
    routing: routingFor(caddy),
    log: silentLog,
    dataDir: getEnv().dataDir,
    drainMs: 10_000,
    healthTimeoutMs: 60_000,
    releaseCommandTimeoutMs: 60_000,
    caddyRetry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    probe: httpProbe,
    sleep: clock.sleep,
    now: clock.now,
    ...overrides,
  };
}

export type SeededApp = { ctx: Ctx; app: App; teamSlug: string };

export async function seedApp(settings: { replicas?: number; releaseCommand?: string } = {}): Promise<SeededApp> {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const ctx = await userCtx(owner.id, team.id);
  const view = await createApp(getDb(), ctx, {
    name: `app-${Math.random().toString(36).slice(2, 8)}`,
    settings: {
      replicas: settings.replicas ?? 2,
      ...(settings.releaseCommand ? { releaseCommand: settings.releaseCommand } : {}),
    },
  });
  const app = await getDb().app.findUniqueOrThrow({ where: { id: view.id } });
  return { ctx, app, teamSlug: team.slug };
}

let scratch: string | undefined;

/** A built image in the fake podman, under the tag the build job would give deployment `number`. */
export async function buildImage(appId: string, number: number): Promise<string> {
  scratch ??= await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-release-test-"));
  const context = await fs.mkdtemp(path.join(scratch, "ctx-"));
  await fs.writeFile(path.join(context, "Containerfile"), "FROM scratch\nEXPOSE 8000\nUSER 10001\n");
  const tag = `localhost/${toResourceName(appId)}:${number}`;
  await getInfra()
    .podman()
    .build({
      contextDir: context,
      containerfile: path.join(context, "Containerfile"),
      tag,
      labels: {
        team: (await getDb().app.findUniqueOrThrow({ where: { id: appId } })).teamId,
        app: appId,
      },
      memoryMiB: 512,
      cpus: 1,
      timeoutMs: 30_000,
    });
  return tag;
}

/** A deployment as deployment__build leaves it: "built", an image, the app deploying, its operation running. */
export async function seedBuiltDeployment(
  app: App,
  options: { plan?: { release: string | null; processes?: Record<string, string> } } = {},
): Promise<{ deployment: Deployment; operation: Operation }> {
  const db = getDb();
  const last = await db.deployment.findFirst({ where: { appId: app.id }, orderBy: { number: "desc" } });
  const number = (last?.number ?? 0) + 1;
  const imageRef = await buildImage(app.id, number);
  const now = new Date().toISOString();
  const created = await db.deployment.create({
    data: {
      appId: app.id,
      teamId: app.teamId,
      number,
      status: "built",
      sourceType: "upload",
      imageRef,
      plan: {
        builder: "python",
        release: options.plan?.release ?? null,
        ...(options.plan?.processes ? { processes: options.plan.processes } : {}),
      },
      phases: [
        { name: "queued", status: "succeeded", startedAt: now, finishedAt: now },
        { name: "building", status: "succeeded", startedAt: now, finishedAt: now },
        { name: "releasing", status: "pending", startedAt: null, finishedAt: null },
      ],
    },
  });
  const operation = await createOperation(db, {
    kind: "app.deploy",
    teamId: app.teamId,
    target: { type: "deployment", id: created.id },
  });
  const deployment = await db.deployment.update({ where: { id: created.id }, data: { operationId: operation.id } });
  await db.app.updateMany({ where: { id: app.id, status: { not: "running" } }, data: { status: "deploying" } });
  await db.operation.update({ where: { id: operation.id }, data: { status: "running", attempts: 1 } });
  return { deployment, operation };
}

type FakeContainer = {
  name: string;
  state: string;
  labels: Record<string, string>;
  env: Record<string, string>;
  ports: { host_port: number }[];
  runtime: string;
};

/** The fake podman's containers, straight from its state file. */
export async function fakeContainers(podman: FakePodman): Promise<FakeContainer[]> {
  const text = await fs.readFile(path.join(podman.stateDir, "state.json"), "utf8").catch(() => "");
  if (!text) return [];
  return (JSON.parse(text) as { containers: FakeContainer[] }).containers;
}

export function upstreamsOf(config: unknown, appId: string): string[] {
  const routes = (
    config as {
      apps: { http: { servers: Record<string, { routes: { "@id": string; handle: Record<string, unknown>[] }[] }> } };
    } | null
  )?.apps.http.servers.tussilago?.routes;
  const route = routes?.find((r) => r["@id"] === `tsl-app-${appId.replaceAll("-", "")}`);
  if (!route) return [];
  const handler = route.handle[0] as { handler: string; upstreams?: { dial: string }[] };
  return (handler.upstreams ?? []).map((upstream) => upstream.dial).sort();
}

export function routeHandlerOf(config: unknown, appId: string): string | null {
  const routes = (
    config as {
      apps: { http: { servers: Record<string, { routes: { "@id": string; handle: { handler: string }[] }[] }> } };
    } | null
  )?.apps.http.servers.tussilago?.routes;
  return routes?.find((r) => r["@id"] === `tsl-app-${appId.replaceAll("-", "")}`)?.handle[0]?.handler ?? null;
}
