import { describe, expect, it } from "vitest";
import { CommandError } from "../exec";
import {
  CONTAINER_ID,
  exitError,
  fake,
  HOSTILE_IMAGES,
  HOSTILE_NAMES,
  IMAGE,
  NETWORK,
  only,
  PODMAN,
  podmanError,
  TEAM,
} from "./test-fixtures";

describe("images", () => {
  it("checks existence through the exit code", async () => {
    const { calls, podman } = fake({ exitCode: 0 }, { exitCode: 1 });
    expect(await podman.imageExists(IMAGE)).toBe(true);
    expect(await podman.imageExists(IMAGE)).toBe(false);
    expect(calls[0]?.args).toEqual(["image", "exists", "--", IMAGE]);
    expect(calls[0]?.options.okExitCodes).toEqual([0, 1]);
  });

  it("removes idempotently and reports an image in use", async () => {
    const { calls, podman } = fake(
      {},
      exitError(1, `Error: ${IMAGE}: image not known`),
      exitError(2, `Error: image used by ${CONTAINER_ID}: image is in use by a container`),
    );
    await podman.removeImage(IMAGE);
    await podman.removeImage(IMAGE);
    expect((await podmanError(podman.removeImage(IMAGE))).kind).toBe("in_use");
    expect(calls[0]?.args).toEqual(["image", "rm", "--", IMAGE]);
  });

  it("refuses hostile image references", async () => {
    const { calls, podman } = fake();
    for (const image of HOSTILE_IMAGES) {
      expect((await podmanError(podman.imageExists(image))).kind).toBe("invalid_argument");
      expect((await podmanError(podman.removeImage(image))).kind).toBe("invalid_argument");
      expect((await podmanError(podman.inspectImage(image))).kind).toBe("invalid_argument");
    }
    expect(calls).toHaveLength(0);
  });
});

describe("networks", () => {
  it("creates a missing network with the exact arguments", async () => {
    const { calls, podman } = fake({ exitCode: 1 }, { stdout: `${NETWORK}\n` });
    expect(await podman.createNetwork(NETWORK, { internal: true, subnet: "10.89.12.0/24", team: TEAM })).toEqual({
      created: true,
    });
    expect(calls.map((c) => c.args)).toEqual([
      ["network", "exists", "--", NETWORK],
      [
        "network",
        "create",
        "--internal",
        "--subnet",
        "10.89.12.0/24",
        "--label",
        "tussilago.managed=true",
        "--label",
        `tussilago.team=${TEAM}`,
        "--",
        NETWORK,
      ],
    ]);
  });

  it("treats an existing network as success, also when it appears concurrently", async () => {
    const existing = fake({ exitCode: 0 });
    expect(await existing.podman.createNetwork(NETWORK)).toEqual({ created: false });
    expect(existing.calls).toHaveLength(1);

    const race = fake(
      { exitCode: 1 },
      exitError(125, `Error: network name ${NETWORK} already used: network already exists`),
    );
    expect(await race.podman.createNetwork(NETWORK)).toEqual({ created: false });
    expect(race.calls[1]?.args).toEqual(["network", "create", "--label", "tussilago.managed=true", "--", NETWORK]);
  });

  it("refuses hostile names and subnets", async () => {
    const { calls, podman } = fake();
    for (const name of HOSTILE_NAMES) {
      expect((await podmanError(podman.createNetwork(name))).kind).toBe("invalid_argument");
      expect((await podmanError(podman.removeNetwork(name))).kind).toBe("invalid_argument");
      expect((await podmanError(podman.networkExists(name))).kind).toBe("invalid_argument");
    }
    for (const subnet of ["10.0.0.0", "10.0.0.0/33", "10.0.0.0/8;id", "--subnet", "::1/129"]) {
      expect((await podmanError(podman.createNetwork(NETWORK, { subnet }))).kind).toBe("invalid_argument");
    }
    expect(calls).toHaveLength(0);
  });

  it("removes idempotently and reports a network in use", async () => {
    const { calls, podman } = fake(
      {},
      exitError(1, `Error: unable to find network with name or ID ${NETWORK}: network not found`),
      exitError(2, `Error: "${NETWORK}" has associated containers with it. Use -f to forcibly delete containers`),
    );
    await podman.removeNetwork(NETWORK);
    await podman.removeNetwork(NETWORK);
    expect((await podmanError(podman.removeNetwork(NETWORK))).kind).toBe("in_use");
    expect(calls[0]?.args).toEqual(["network", "rm", "--", NETWORK]);
  });
});

describe("host readiness", () => {
  it("reads the version", async () => {
    const version = { Client: { APIVersion: "4.3.1", Version: "4.3.1", GoVersion: "go1.19.8", OsArch: "linux/amd64" } };
    const { calls, podman } = fake({ stdout: JSON.stringify(version) });
    expect(await podman.version()).toEqual({
      client: "4.3.1",
      apiVersion: "4.3.1",
      osArch: "linux/amd64",
      server: null,
    });
    expect(only(calls).args).toEqual(["version", "--format", "json"]);
  });

  it("reads info with the configured runtime", async () => {
    const info = {
      host: {
        arch: "amd64",
        os: "linux",
        kernel: "6.1.0-18-amd64",
        cgroupVersion: "v1",
        cgroupManager: "cgroupfs",
        ociRuntime: {
          name: "runsc-hostnet",
          path: "/usr/local/bin/runsc-hostnet",
          version: "runsc version 0.0~20221219",
        },
        security: { rootless: false },
      },
      store: { graphDriverName: "overlay" },
      version: { Version: "4.3.1" },
    };
    const { calls, podman } = fake({ stdout: JSON.stringify(info) });
    expect(await podman.info()).toEqual({
      version: "4.3.1",
      arch: "amd64",
      os: "linux",
      kernel: "6.1.0-18-amd64",
      cgroupVersion: "v1",
      cgroupManager: "cgroupfs",
      ociRuntime: {
        name: "runsc-hostnet",
        path: "/usr/local/bin/runsc-hostnet",
        version: "runsc version 0.0~20221219",
      },
      rootless: false,
      storageDriver: "overlay",
    });
    expect(only(calls).args).toEqual(["--runtime", "runsc-hostnet", "info", "--format", "json"]);
  });

  it("wraps a missing podman binary as a command failure", async () => {
    const spawnError = new CommandError({ kind: "spawn", file: PODMAN, args: [], spawnCode: "ENOENT" });
    const err = await podmanError(fake(spawnError).podman.version());
    expect(err.kind).toBe("command_failed");
    expect(err.retryable).toBe(false);
    expect(err.toLog()).toMatchObject({ kind: "command_failed", operation: "version" });
  });
});
