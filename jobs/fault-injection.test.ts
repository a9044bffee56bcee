// Fault injection: the real worker (jobs/worker.ts) runs as a child process against this file's database, the fake
// podman and the fake Caddy, and is killed with SIGKILL at a step of a release; a new worker must then converge
// without help: the deployment final, one container per desired replica, the new release routed, the old one gone.
// The fake podman's kill switch (FAKE_PODMAN_KILL_ON) kills the worker right after a given podman call.
import fs from "node:fs/promises";
import type { Server } from "node:http";
import { createServer } from "node:http";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { enqueue } from "@/jobs/enqueue";
import { appQueue } from "@/jobs/queues";
import { deploymentLogPath } from "@/lib/data-paths";
import { getDb } from "@/lib/db";
import { releaseDeployment } from "@/lib/engine/release";
import { getEnv } from "@/lib/env";
import {
  assertConverged,
  crashed,
  freePorts,
  harness,
  installFaultHarness,
  REPLICAS,
  releaseQueued,
  resetKillSwitch,
  startWorkerProcess,
  stopped,
  waitFor,
} from "@/test/fault-harness";
import { fakeContainers, seedApp, seedBuiltDeployment, testDeps, upstreamsOf } from "@/test/release-helpers";

installFaultHarness();

describe("a worker killed during a release", { timeout: 300_000 }, () => {
  // <podman command>:<n>: the worker dies right after the n-th such call of the release.
  it.each([
    ["after the first new replica started", "RUN:1"],
    ["after every new replica started, before the health check and the switch", "RUN:2"],
    ["during the drain, after the first old container was removed", "RM:1"],
  ])("converges when killed %s", async (_label, killOn) => {
    const seeded = await releaseQueued();
    await resetKillSwitch();
    const child = await startWorkerProcess(killOn);
    // The fake podman kills it: wait for that rather than killing it here.
    await child.exited;
    await crashed(child);
    expect(await fs.readFile(path.join(harness().podman.stateDir, "killed"), "utf8")).toContain(killOn);

    const restarted = await startWorkerProcess();
    try {
      await assertConverged(seeded);
    } finally {
      await stopped(restarted);
    }
  });

  it("converges when killed after the Caddy switch, while the old release drains", async () => {
    const seeded = await releaseQueued();
    await resetKillSwitch();
    const child = await startWorkerProcess();
    // The switch commits the deployment as running together with the route; the drain waits a second after it.
    await waitFor("the switch", async () => {
      const row = await getDb().deployment.findUniqueOrThrow({ where: { id: seeded.second.deployment.id } });
      return row.status === "running" ? true : undefined;
    });
    await crashed(child);
    const oldLeft = (await fakeContainers(harness().podman)).filter(
      (c) => c.labels["tussilago.deployment"] === seeded.first.deployment.id,
    );
    expect(oldLeft.length).toBe(REPLICAS);

    const restarted = await startWorkerProcess();
    try {
      await assertConverged(seeded);
    } finally {
      await stopped(restarted);
    }
  });
});

describe("a worker killed between the health check and the committed switch", { timeout: 300_000 }, () => {
  it("converges when killed while its Caddy switch is in flight", async () => {
    const seeded = await releaseQueued();
    await resetKillSwitch();
    // The new replicas get ports nobody listens on yet, so the release waits in its health check until the test
    // is ready to hold the switch.
    await fs.rm(path.join(harness().podman.stateDir, "serve-http"));
    const ports = await freePorts(REPLICAS);
    const fakeEnv = { HOST_PORTS: ports.join(",") };
    const child = await startWorkerProcess(undefined, fakeEnv);
    const servers: Server[] = [];
    try {
      await waitFor("the new replicas", async () => {
        const mine = (await fakeContainers(harness().podman)).filter(
          (c) => c.labels["tussilago.deployment"] === seeded.second.deployment.id,
        );
        return mine.length === REPLICAS ? true : undefined;
      });
      // The next Caddy request (the switch) never gets an answer; the health check passes once the ports answer.
      const mark = harness().caddy.requests.length;
      harness().caddy.hangNext(1);
      for (const port of ports) {
        const server = createServer((_req, res) => res.end("ok\n"));
        await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
        servers.push(server);
      }
      const logFile = deploymentLogPath(getEnv().dataDir, seeded.second.deployment.id);
      await waitFor("the switch to be in flight", async () => {
        const text = await fs.readFile(logFile, "utf8").catch(() => "");
        return text.includes("Health check passed") && harness().caddy.requests.length > mark ? true : undefined;
      });
      await crashed(child);
      // Killed before the switch committed: the database still has the old release live.
      expect((await getDb().deployment.findUniqueOrThrow({ where: { id: seeded.second.deployment.id } })).status).toBe(
        "releasing",
      );

      const restarted = await startWorkerProcess(undefined, fakeEnv);
      try {
        await assertConverged(seeded);
      } finally {
        await stopped(restarted);
      }
    } finally {
      await fs.writeFile(path.join(harness().podman.stateDir, "serve-http"), "");
      for (const server of servers) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    }
  });
});

describe("a worker killed during a release of an app with a worker process type (#15)", { timeout: 300_000 }, () => {
  const plan = { release: null, processes: { web: "gunicorn a:b --bind :$PORT", worker: "celery -A a worker" } };

  // RUN:2 is the new worker's container (web starts first); STOP:1 the old worker's SIGTERM in the drain.
  it.each([
    ["after the new worker started, before the checks and the switch", "RUN:2"],
    ["while the old worker is being stopped", "STOP:1"],
  ])("converges when killed %s: exactly one web and one worker of the new release", async (_label, killOn) => {
    const { app } = await seedApp({ replicas: 1 });
    const first = await seedBuiltDeployment(app, { plan });
    await releaseDeployment(testDeps(harness().caddy, { drainMs: 0 }), {
      deploymentId: first.deployment.id,
      operationId: first.operation.id,
    });
    const second = await seedBuiltDeployment(app, { plan });
    await getDb().$transaction((tx) =>
      enqueue(
        tx,
        "deployment__release",
        { deploymentId: second.deployment.id, operationId: second.operation.id },
        { queue: appQueue(app.id), jobKey: `release:${second.deployment.id}` },
      ),
    );
    await resetKillSwitch();
    const child = await startWorkerProcess(killOn);
    await child.exited;
    await crashed(child);
    expect(await fs.readFile(path.join(harness().podman.stateDir, "killed"), "utf8")).toContain(killOn);

    const restarted = await startWorkerProcess();
    try {
      await waitFor("the release to end", async () => {
        const row = await getDb().operation.findUniqueOrThrow({ where: { id: second.operation.id } });
        return row.status === "succeeded" || row.status === "failed" ? row : undefined;
      });
      const deployment = await getDb().deployment.findUniqueOrThrow({ where: { id: second.deployment.id } });
      expect({ status: deployment.status, error: deployment.error }).toEqual({ status: "running", error: null });
      const containers = await waitFor("exactly the desired containers", async () => {
        const list = (await fakeContainers(harness().podman)).filter((c) => c.labels["tussilago.app"] === app.id);
        return list.length === 2 ? list : undefined;
      });
      expect(
        containers.map((c) => [c.labels["tussilago.process"], c.labels["tussilago.deployment"], c.state]).sort(),
      ).toEqual([
        ["web", second.deployment.id, "running"],
        ["worker", second.deployment.id, "running"],
      ]);
      const web = containers.find((c) => c.labels["tussilago.process"] === "web");
      expect(upstreamsOf(harness().caddy.config, app.id)).toEqual([`127.0.0.1:${web?.ports[0]?.host_port}`]);
      const rows = await getDb().replica.findMany({ where: { appId: app.id } });
      expect(rows.map((row) => `${row.process}:${row.status}`).sort()).toEqual(["web:healthy", "worker:healthy"]);
    } finally {
      await stopped(restarted);
    }
  });
});
