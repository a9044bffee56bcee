import { describe, expect, it } from "vitest";
import { CommandError } from "../exec";
import { PodmanError } from "./errors";
import { fake, NAME, PODMAN } from "./test-fixtures";

// podman 4.3's `stats --no-stream --format json` for two containers (cmd/podman/containers/stats.go, outputJSON):
// every figure a human-readable string, "--" where podman cannot tell.
const OUTPUT = JSON.stringify([
  {
    id: "a9f807ffaacd",
    name: NAME,
    cpu_time: "4m39.028579s",
    cpu_percent: "12.50%",
    avg_cpu: "1.45%",
    mem_usage: "56.3MB / 536.9MB",
    mem_percent: "10.49%",
    net_io: "1.2kB / 648B",
    block_io: "4.096kB / 0B",
    pids: "46",
  },
  {
    id: "3b33001239ee",
    name: "someone-elses-container",
    cpu_time: "4.933ms",
    cpu_percent: "--",
    avg_cpu: "3.10%",
    mem_usage: "-- / --",
    mem_percent: "--",
    net_io: "-- / --",
    block_io: "-- / --",
    pids: "--",
  },
]);

describe("podman statsAll", () => {
  it("asks once for every running container and parses podman's human-readable figures", async () => {
    const { calls, podman } = fake({ stdout: OUTPUT });
    const stats = await podman.statsAll();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args).toEqual(["stats", "--no-stream", "--no-reset", "--format", "json"]);
    expect(stats).toEqual([
      {
        name: NAME,
        cpuPercent: 12.5,
        memoryUsageBytes: 56_300_000,
        memoryLimitBytes: 536_900_000,
        netInBytes: 1200,
        netOutBytes: 648,
        blockInBytes: 4096,
        blockOutBytes: 0,
        pids: 46,
      },
      {
        name: "someone-elses-container",
        cpuPercent: 0,
        memoryUsageBytes: 0,
        memoryLimitBytes: 0,
        netInBytes: 0,
        netOutBytes: 0,
        blockInBytes: 0,
        blockOutBytes: 0,
        pids: 0,
      },
    ]);
  });

  it("reads no output or null as no containers", async () => {
    expect(await fake({ stdout: "" }).podman.statsAll()).toEqual([]);
    expect(await fake({ stdout: "null\n" }).podman.statsAll()).toEqual([]);
  });

  it("refuses output that is not podman's JSON", async () => {
    await expect(fake({ stdout: '[{"id": 3}]' }).podman.statsAll()).rejects.toMatchObject({
      kind: "unexpected_output",
    });
  });

  it("turns a failed command into a PodmanError", async () => {
    const failure = new CommandError({ kind: "spawn", file: PODMAN, args: [], spawnCode: "ENOENT" });
    await expect(fake(failure).podman.statsAll()).rejects.toBeInstanceOf(PodmanError);
  });
});
