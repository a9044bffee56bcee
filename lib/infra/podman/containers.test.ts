import { describe, expect, it } from "vitest";
import {
  APP,
  type Call,
  CONTAINER_ID,
  DEPLOYMENT,
  exitError,
  fake,
  HOSTILE_NAMES,
  IMAGE,
  IMAGE_ID,
  NAME,
  only,
  podmanError,
  TEAM,
} from "./test-fixtures";

describe("inspect", () => {
  const containerJson = JSON.stringify([
    {
      Id: CONTAINER_ID,
      Name: NAME,
      Created: "2025-01-01T00:00:00Z",
      Image: IMAGE_ID,
      ImageName: IMAGE,
      State: { Status: "running", Running: true, ExitCode: 0, OOMKilled: false, StartedAt: "2025-01-01T00:00:01Z" },
      Config: { Labels: { "tussilago.team": TEAM }, Env: ["SECRET=x"] },
      NetworkSettings: { Ports: { "8000/tcp": [{ HostIp: "127.0.0.1", HostPort: "41234" }], "9000/tcp": null } },
    },
  ]);

  it("inspects a container and parses what the platform needs", async () => {
    const { calls, podman } = fake({ stdout: containerJson });
    const details = await podman.inspectContainer(NAME);
    expect(only(calls).args).toEqual(["container", "inspect", "--", NAME]);
    expect(only(calls).options.onOutputLimit).toBe("fail");
    expect(details).toEqual({
      id: CONTAINER_ID,
      name: NAME,
      imageId: IMAGE_ID,
      imageName: IMAGE,
      status: "running",
      running: true,
      exitCode: 0,
      oomKilled: false,
      startedAt: "2025-01-01T00:00:01Z",
      finishedAt: null,
      labels: { "tussilago.team": TEAM },
      ports: [{ containerPort: 8000, protocol: "tcp", hostIp: "127.0.0.1", hostPort: 41234 }],
    });
  });

  it("answers null for a container that does not exist", async () => {
    const { podman } = fake(exitError(125, `Error: no such container ${NAME}`));
    expect(await podman.inspectContainer(NAME)).toBeNull();
  });

  it("raises unexpected_output on output it does not understand", async () => {
    expect((await podmanError(fake({ stdout: "not json" }).podman.inspectContainer(NAME))).kind).toBe(
      "unexpected_output",
    );
    expect((await podmanError(fake({ stdout: "[]" }).podman.inspectContainer(NAME))).kind).toBe("unexpected_output");
    expect((await podmanError(fake({ stdout: '[{"Id":"x"}]' }).podman.inspectContainer(NAME))).kind).toBe(
      "unexpected_output",
    );
  });

  it("passes other failures on as command failures", async () => {
    const err = await podmanError(fake(exitError(125, "Error: database is locked")).podman.inspectContainer(NAME));
    expect(err.kind).toBe("command_failed");
    expect(err.retryable).toBe(true);
  });

  it("inspects an image, null when unknown", async () => {
    const image = [
      {
        Id: IMAGE_ID,
        Digest: `sha256:${"d".repeat(64)}`,
        RepoTags: [IMAGE],
        Created: "2025-01-01T00:00:00Z",
        Size: 123456,
        Labels: null,
        Config: { User: "app", ExposedPorts: { "8000/tcp": {} } },
      },
    ];
    const { calls, podman } = fake(
      { stdout: JSON.stringify(image) },
      exitError(125, `Error: ${IMAGE}: image not known`),
    );
    expect(await podman.inspectImage(IMAGE)).toEqual({
      id: IMAGE_ID,
      digest: `sha256:${"d".repeat(64)}`,
      tags: [IMAGE],
      created: "2025-01-01T00:00:00Z",
      sizeBytes: 123456,
      labels: {},
      user: "app",
      exposedPorts: ["8000/tcp"],
      onBuild: [],
    });
    expect(await podman.inspectImage(IMAGE)).toBeNull();
    expect(calls.map((c) => c.args)).toEqual([
      ["image", "inspect", "--", IMAGE],
      ["image", "inspect", "--", IMAGE],
    ]);
  });
});

describe("listContainers", () => {
  const psJson = JSON.stringify([
    {
      Id: CONTAINER_ID,
      Names: [NAME],
      Image: IMAGE,
      ImageID: IMAGE_ID,
      State: "running",
      Status: "Up 2 minutes",
      Labels: { "tussilago.team": TEAM },
      Created: "2025-01-01T00:00:00Z",
      ExitCode: 0,
      Ports: [{ host_ip: "127.0.0.1", container_port: 8000, host_port: 41234, range: 1, protocol: "tcp" }],
    },
  ]);

  it("filters by the managed label plus the requested ones and parses the answer", async () => {
    const { calls, podman } = fake({ stdout: psJson });
    const list = await podman.listContainers({ team: TEAM, app: APP, deployment: DEPLOYMENT, process: "web" });
    expect(only(calls).args).toEqual([
      "ps",
      "--all",
      "--format",
      "json",
      "--filter",
      "label=tussilago.managed=true",
      "--filter",
      `label=tussilago.team=${TEAM}`,
      "--filter",
      `label=tussilago.app=${APP}`,
      "--filter",
      `label=tussilago.deployment=${DEPLOYMENT}`,
      "--filter",
      "label=tussilago.process=web",
    ]);
    expect(list).toEqual([
      {
        id: CONTAINER_ID,
        name: NAME,
        image: IMAGE,
        imageId: IMAGE_ID,
        state: "running",
        status: "Up 2 minutes",
        labels: { "tussilago.team": TEAM },
        created: "2025-01-01T00:00:00Z",
        exitCode: 0,
        ports: [{ containerPort: 8000, protocol: "tcp", hostIp: "127.0.0.1", hostPort: 41234 }],
      },
    ]);
  });

  it("lists all managed containers without a filter, and treats empty output as none", async () => {
    const { calls, podman } = fake({ stdout: "" }, { stdout: "[]\n" });
    expect(await podman.listContainers()).toEqual([]);
    expect(await podman.listContainers()).toEqual([]);
    expect(calls[0]?.args).toEqual(["ps", "--all", "--format", "json", "--filter", "label=tussilago.managed=true"]);
  });

  it("refuses hostile filter values and malformed output", async () => {
    const { calls, podman } = fake();
    for (const team of ["x", "$(id)", `${TEAM},tussilago.team=${APP}`]) {
      expect((await podmanError(podman.listContainers({ team }))).kind).toBe("invalid_argument");
    }
    expect(calls).toHaveLength(0);
    const malformed = fake({ stdout: JSON.stringify([{ Id: CONTAINER_ID, Names: [], Image: "x", State: "running" }]) });
    expect((await podmanError(malformed.podman.listContainers())).kind).toBe("unexpected_output");
  });
});

describe("stop and remove", () => {
  it("stops with a timeout and treats a missing container as stopped", async () => {
    const { calls, podman } = fake(
      {},
      exitError(125, `Error: no container with name or ID "${NAME}" found: no such container`),
    );
    await podman.stop(NAME, { timeoutSeconds: 5 });
    await podman.stop(NAME);
    expect(calls.map((c) => c.args)).toEqual([
      ["stop", "--ignore", "--time", "5", "--", NAME],
      ["stop", "--ignore", "--time", "10", "--", NAME],
    ]);
    expect(calls[0]?.options.timeoutMs).toBe(35_000);
  });

  it("passes other stop failures on", async () => {
    const err = await podmanError(fake(exitError(125, "Error: something else")).podman.stop(NAME));
    expect(err.kind).toBe("command_failed");
    expect(err.retryable).toBe(false);
  });

  it("starts an exited container again by name, and refuses hostile names (#15 crash handling)", async () => {
    const { calls, podman } = fake({});
    await podman.start(NAME);
    expect(calls.map((c) => c.args)).toEqual([["start", "--", NAME]]);
    for (const name of HOSTILE_NAMES) expect((await podmanError(podman.start(name))).kind).toBe("invalid_argument");
    expect(calls).toHaveLength(1);
  });

  it("removes by force and idempotently", async () => {
    const { calls, podman } = fake(
      {},
      exitError(1, `Error: no container with name or ID "${NAME}" found: no such container`),
    );
    await podman.remove(NAME);
    await podman.remove(NAME);
    expect(calls.map((c) => c.args)).toEqual([
      ["rm", "--force", "--ignore", "--", NAME],
      ["rm", "--force", "--ignore", "--", NAME],
    ]);
  });

  it("refuses hostile names", async () => {
    const { calls, podman } = fake();
    for (const name of HOSTILE_NAMES) {
      expect((await podmanError(podman.stop(name))).kind).toBe("invalid_argument");
      expect((await podmanError(podman.remove(name))).kind).toBe("invalid_argument");
      expect((await podmanError(podman.inspectContainer(name))).kind).toBe("invalid_argument");
      expect((await podmanError(podman.logs(name))).kind).toBe("invalid_argument");
      expect((await podmanError(podman.stats(name))).kind).toBe("invalid_argument");
      expect((await podmanError(podman.wait(name, { timeoutMs: 1000 }))).kind).toBe("invalid_argument");
    }
    expect(calls).toHaveLength(0);
  });
});

describe("logs, stats and wait", () => {
  it("reads the log tail since a timestamp", async () => {
    const { calls, podman } = fake({ stdout: "line 1\n", stderr: "warn\n" });
    const logs = await podman.logs(NAME, { tail: 50, since: new Date("2025-01-02T03:04:05.000Z"), timestamps: true });
    expect(logs).toEqual({ stdout: "line 1\n", stderr: "warn\n" });
    expect(only(calls).args).toEqual([
      "logs",
      "--tail",
      "50",
      "--since",
      "2025-01-02T03:04:05.000Z",
      "--timestamps",
      "--",
      NAME,
    ]);
  });

  it("defaults to 200 lines and answers null for a missing container", async () => {
    const { calls, podman } = fake(exitError(125, `Error: no such container ${NAME}`));
    expect(await podman.logs(NAME)).toBeNull();
    expect(only(calls).args).toEqual(["logs", "--tail", "200", "--", NAME]);
  });

  it("parses stats", async () => {
    const stats = [
      {
        id: CONTAINER_ID.slice(0, 12),
        name: NAME,
        cpu_time: "1.2s",
        cpu_percent: "12.50%",
        avg_cpu: "3.00%",
        mem_usage: "56.3MB / 536.9MB",
        mem_percent: "10.49%",
        net_io: "1.2kB / 3.4kB",
        block_io: "0B / 0B",
        pids: "46",
      },
    ];
    const { calls, podman } = fake({ stdout: JSON.stringify(stats) }, exitError(125, "Error: no such container x"));
    expect(await podman.stats(NAME)).toEqual({
      id: CONTAINER_ID.slice(0, 12),
      name: NAME,
      cpuPercent: 12.5,
      memoryUsageBytes: 56_300_000,
      memoryLimitBytes: 536_900_000,
      memoryPercent: 10.49,
      pids: 46,
      netIO: "1.2kB / 3.4kB",
      blockIO: "0B / 0B",
    });
    expect(await podman.stats(NAME)).toBeNull();
    expect(calls[0]?.args).toEqual(["stats", "--no-stream", "--format", "json", "--", NAME]);
  });

  it("waits for the exit code", async () => {
    const { calls, podman } = fake({ stdout: "3\n" }, exitError(125, "Error: no such container"));
    expect(await podman.wait(NAME, { timeoutMs: 60_000 })).toBe(3);
    expect(only([calls[0] as Call]).args).toEqual(["wait", "--", NAME]);
    expect(calls[0]?.options.timeoutMs).toBe(60_000);
    expect((await podmanError(podman.wait(NAME, { timeoutMs: 1000 }))).kind).toBe("not_found");
  });
});
