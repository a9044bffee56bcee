// The runtime log collector and reader: lines of every live replica merged in time order and labelled by replica
// index, each line copied once across collections, the cursor kept per container, tail and since on reading.
import fs from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { readAppLogLines } from "@/lib/app-log-file";
import { appLogCursorPath, appLogPath } from "@/lib/data-paths";
import { getDb } from "@/lib/db";
import { collectAppLogs } from "@/lib/engine/app-logs";
import { getEnv } from "@/lib/env";
import type { LogsOptions, Podman } from "@/lib/infra/podman";
import { createTestTeam, createTestUser } from "@/test/factories";

type Line = { time: string; stream: "stdout" | "stderr"; text: string };

/** podman logs over an in-memory log per container, honouring --since and --tail like podman. */
function stubPodman(logs: Map<string, Line[]>): Pick<Podman, "logs"> & { calls: [string, LogsOptions][] } {
  const calls: [string, LogsOptions][] = [];
  return {
    calls,
    async logs(name, options = {}) {
      calls.push([name, options]);
      const all = logs.get(name);
      if (!all) return null;
      let lines = all.filter((line) => !options.since || Date.parse(line.time) >= options.since.getTime());
      if (options.tail !== undefined) lines = lines.slice(-options.tail);
      const render = (stream: string) =>
        lines
          .filter((line) => line.stream === stream)
          .map((line) => `${options.timestamps ? `${line.time} ` : ""}${line.text}\n`)
          .join("");
      return { stdout: render("stdout"), stderr: render("stderr") };
    },
  };
}

async function appWithReplicas(count: number) {
  const db = getDb();
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const app = await db.app.create({ data: { teamId: team.id, name: "logs", status: "running" } });
  const deployment = await db.deployment.create({
    data: { appId: app.id, teamId: team.id, number: 1, status: "running", sourceType: "upload" },
  });
  const names: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const containerName = `tsl-${app.id.replaceAll("-", "")}-1-${index}`;
    names.push(containerName);
    await db.replica.create({
      data: {
        appId: app.id,
        deploymentId: deployment.id,
        index,
        containerName,
        hostPort: 40_000 + index,
        status: "healthy",
      },
    });
  }
  return { app, names };
}

const at = (second: number, nanos = "000000000") => `2030-01-02T03:04:${String(second).padStart(2, "0")}.${nanos}Z`;

describe("collectAppLogs and readAppLogLines", () => {
  it("labels each line with its replica's process type (#15)", async () => {
    const { app, names } = await appWithReplicas(1);
    const db = getDb();
    const web = await db.replica.findFirstOrThrow({ where: { appId: app.id } });
    const workerName = `${names[0]}-worker`.replace(/-1-0-worker$/, "-1-worker0000-0");
    await db.replica.create({
      data: {
        appId: app.id,
        deploymentId: web.deploymentId,
        process: "worker",
        index: 0,
        containerName: workerName,
        status: "healthy",
      },
    });
    const podman = stubPodman(
      new Map<string, Line[]>([
        [names[0] as string, [{ time: at(1), stream: "stdout", text: "GET / 200" }]],
        [workerName, [{ time: at(2), stream: "stderr", text: "task done" }]],
      ]),
    );
    await collectAppLogs({ db, podman, dataDir: getEnv().dataDir }, app.id);
    expect(await readAppLogLines(getEnv().dataDir, app.id, { tail: 10 })).toEqual([
      { time: "2030-01-02T03:04:01.000Z", replica: 0, process: "web", stream: "stdout", text: "GET / 200" },
      { time: "2030-01-02T03:04:02.000Z", replica: 0, process: "worker", stream: "stderr", text: "task done" },
    ]);
  });

  it("merges the replicas' lines in time order, labelled by index, and copies each line once", async () => {
    const { app, names } = await appWithReplicas(2);
    const [first, second] = names as [string, string];
    const logs = new Map<string, Line[]>([
      [
        first,
        [
          { time: at(1), stream: "stdout", text: "booting" },
          { time: at(3), stream: "stderr", text: "warning: slow" },
        ],
      ],
      [second, [{ time: at(2), stream: "stdout", text: "GET / 200" }]],
    ]);
    const podman = stubPodman(logs);
    const deps = { db: getDb(), podman, dataDir: getEnv().dataDir };
    expect(await collectAppLogs(deps, app.id)).toBe(3);
    expect(await readAppLogLines(getEnv().dataDir, app.id, { tail: 10 })).toEqual([
      { time: "2030-01-02T03:04:01.000Z", replica: 0, process: "web", stream: "stdout", text: "booting" },
      { time: "2030-01-02T03:04:02.000Z", replica: 1, process: "web", stream: "stdout", text: "GET / 200" },
      { time: "2030-01-02T03:04:03.000Z", replica: 0, process: "web", stream: "stderr", text: "warning: slow" },
    ]);

    // Within the same millisecond, podman's nanoseconds tell old from new.
    logs.get(first)?.push({ time: at(3, "000000500"), stream: "stdout", text: "same millisecond, later" });
    logs.get(second)?.push({ time: at(4), stream: "stdout", text: "GET /health 200" });
    expect(await collectAppLogs(deps, app.id)).toBe(2);
    // The second collection asked for what is new only.
    expect(podman.calls.slice(2).map(([, options]) => options.since?.toISOString())).toEqual([
      "2030-01-02T03:04:03.000Z",
      "2030-01-02T03:04:02.000Z",
    ]);
    const lines = await readAppLogLines(getEnv().dataDir, app.id, { tail: 10 });
    expect(lines.map((line) => line.text)).toEqual([
      "booting",
      "GET / 200",
      "warning: slow",
      "same millisecond, later",
      "GET /health 200",
    ]);
    expect(await collectAppLogs(deps, app.id)).toBe(0);

    // tail and since; nothing a reader gets names a container or a port.
    expect((await readAppLogLines(getEnv().dataDir, app.id, { tail: 2 })).map((line) => line.text)).toEqual([
      "same millisecond, later",
      "GET /health 200",
    ]);
    const since = new Date("2030-01-02T03:04:02.500Z");
    expect((await readAppLogLines(getEnv().dataDir, app.id, { tail: 10, since })).map((line) => line.text)).toEqual([
      "warning: slow",
      "same millisecond, later",
      "GET /health 200",
    ]);
    const file = await fs.readFile(appLogPath(getEnv().dataDir, app.id), "utf8");
    expect(file).not.toContain("tsl-");
  });

  it("keeps cursors only for live containers, and skips unread apps when asked to", async () => {
    const { app, names } = await appWithReplicas(2);
    const podman = stubPodman(new Map([[names[0] ?? "", [{ time: at(1), stream: "stdout", text: "hello" }]]]));
    const deps = { db: getDb(), podman, dataDir: getEnv().dataDir };
    expect(await collectAppLogs(deps, app.id, { onlyIfRead: true })).toBe(0);
    expect(podman.calls).toEqual([]);

    await collectAppLogs(deps, app.id);
    await getDb().replica.updateMany({ where: { containerName: names[0] }, data: { status: "stopped" } });
    await collectAppLogs(deps, app.id, { onlyIfRead: true });
    const cursor = JSON.parse(await fs.readFile(appLogCursorPath(getEnv().dataDir, app.id), "utf8")) as object;
    expect(Object.keys(cursor)).toEqual([]);
  });

  it("answers no lines for an app that never logged", async () => {
    expect(await readAppLogLines(getEnv().dataDir, crypto.randomUUID(), { tail: 200 })).toEqual([]);
  });
});
