import { describe, expect, it } from "vitest";
import { CommandError, type Executor, toUserMessage } from "../exec";
import { type BuildOptions, createPodman } from "./index";
import {
  APP,
  APP_HEX,
  CONFIG,
  DEPLOYMENT,
  exitError,
  fake,
  IMAGE,
  IMAGE_ID,
  LABELS,
  only,
  podmanError,
  TEAM,
} from "./test-fixtures";

describe("build", () => {
  const base = {
    contextDir: "/var/lib/tussilago/builds/abc/src",
    containerfile: "/var/lib/tussilago/builds/abc/Containerfile",
    tag: IMAGE,
    labels: LABELS,
    memoryMiB: 2048,
    cpus: 1.5,
    timeoutMs: 900_000,
  };

  it("passes the exact arguments, the runtime for RUN steps and the log callbacks", async () => {
    const { calls, podman } = fake({
      stdout: `STEP 1/2: FROM scratch\nCOMMIT ${IMAGE}\n--> eeeeeeeeeeee\n${IMAGE_ID}\n`,
    });
    const onStdout = () => {};
    const onStderr = () => {};
    const result = await podman.build({
      ...base,
      buildArgs: { PIP_INDEX_URL: "https://token:s3cret@pypi.example/simple", APP_ENV: "prod" },
      pull: "never",
      noCache: true,
      network: "none",
      pidsLimit: 4096,
      onStdout,
      onStderr,
    });
    expect(result).toEqual({ imageId: IMAGE_ID });
    const call = only(calls);
    const head = [
      "build",
      "--runtime",
      "runsc-hostnet",
      "--runtime-flag",
      "network=host",
      "--isolation=oci",
      "--file",
      "/var/lib/tussilago/builds/abc/Containerfile",
      "--tag",
      IMAGE,
      "--pull=never",
      "--no-cache",
      "--network",
      "none",
      "--memory",
      "2048m",
      "--memory-swap",
      "2048m",
      "--cpu-period",
      "100000",
      "--cpu-quota",
      "150000",
      "--ulimit",
      "nproc=4096:4096",
      "--label",
      "tussilago.managed=true",
      "--label",
      `tussilago.team=${TEAM}`,
      "--label",
      `tussilago.app=${APP}`,
    ];
    expect(call.args).toEqual([
      ...head,
      "--build-arg",
      "APP_ENV=prod",
      "--build-arg",
      "PIP_INDEX_URL=https://token:s3cret@pypi.example/simple",
      "--",
      "/var/lib/tussilago/builds/abc/src",
    ]);
    expect(call.options.logArgs).toEqual([
      ...head,
      "--build-arg",
      "APP_ENV=<redacted>",
      "--build-arg",
      "PIP_INDEX_URL=<redacted>",
      "--",
      "/var/lib/tussilago/builds/abc/src",
    ]);
    expect(call.options.timeoutMs).toBe(900_000);
    expect(call.options.onStdout).toBe(onStdout);
    expect(call.options.onStderr).toBe(onStderr);
  });

  it("leaves out optional flags it was not asked for", async () => {
    const { calls, podman } = fake({ stdout: `${IMAGE_ID}\n` });
    await podman.build(base);
    expect(only(calls).args).toEqual([
      "build",
      "--runtime",
      "runsc-hostnet",
      "--runtime-flag",
      "network=host",
      "--isolation=oci",
      "--file",
      base.containerfile,
      "--tag",
      IMAGE,
      "--memory",
      "2048m",
      "--memory-swap",
      "2048m",
      "--cpu-period",
      "100000",
      "--cpu-quota",
      "150000",
      // A process bound even when none is asked for.
      "--ulimit",
      "nproc=2048:2048",
      "--label",
      "tussilago.managed=true",
      "--label",
      `tussilago.team=${TEAM}`,
      "--label",
      `tussilago.app=${APP}`,
      "--",
      base.contextDir,
    ]);
  });

  it("puts the build under the platform's pids cgroup, and refuses any other cgroup parent", async () => {
    const { calls, podman } = fake({ stdout: `${IMAGE_ID}\n` });
    const parent = `/tussilago-builds/${DEPLOYMENT}`;
    await podman.build({ ...base, cgroupParent: parent });
    const args = only(calls).args;
    expect(args.slice(args.indexOf("--cgroup-parent"), args.indexOf("--cgroup-parent") + 2)).toEqual([
      "--cgroup-parent",
      parent,
    ]);
    for (const hostile of ["/", "/system.slice", "/tussilago-builds/../x", "tussilago-builds/x", `${parent}/..`]) {
      await expect(podman.build({ ...base, cgroupParent: hostile })).rejects.toMatchObject({
        kind: "invalid_argument",
      });
    }
  });

  it("runs RUN steps under the configured build runtime, keeping the runtime flags", async () => {
    const calls: string[][] = [];
    const exec: Executor = async (_file, args) => {
      calls.push([...args]);
      return { stdout: `${IMAGE_ID}\n`, stderr: "", exitCode: 0, durationMs: 1 };
    };
    const podman = createPodman(exec, { ...CONFIG, buildRuntime: "runsc-build" });
    await podman.build(base);
    expect(calls[0]?.slice(0, 6)).toEqual([
      "build",
      "--runtime",
      "runsc-build",
      "--runtime-flag",
      "network=host",
      "--isolation=oci",
    ]);
    expect(() => createPodman(exec, { ...CONFIG, buildRuntime: "runsc build" })).toThrow(/build runtime/);
  });

  it("asks podman for the image ID when the output does not end with it", async () => {
    const inspect = JSON.stringify([{ Id: IMAGE_ID, RepoTags: [IMAGE] }]);
    const { calls, podman } = fake({ stdout: "Successfully tagged\n" }, { stdout: inspect });
    expect(await podman.build(base)).toEqual({ imageId: IMAGE_ID });
    expect(calls[1]?.args).toEqual(["image", "inspect", "--", IMAGE]);
  });

  it("reports a failed build as a command failure with a safe user message", async () => {
    const { podman } = fake(exitError(1, 'Error: building at STEP "RUN pip install": exit status 1'));
    const err = await podmanError(podman.build(base));
    expect(err.kind).toBe("command_failed");
    expect(err.cause).toBeInstanceOf(CommandError);
    expect(toUserMessage(err)).toBe("The build failed. See the build log for details.");
  });

  it("tells a base image podman could not fetch (DNS, registry) from a failing build step, by podman's last line", async () => {
    const unreachable =
      'Trying to pull docker.io/library/python:3.12-slim...\nError: creating build container: initializing source docker://python:3.12-slim: pinging container registry registry-1.docker.io: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host';
    const pulled = await podmanError(fake(exitError(125, unreachable)).podman.build(base));
    expect(pulled.kind).toBe("pull_failed");
    expect(toUserMessage(pulled)).toBe("The server could not reach the registry of an image it needed.");
    // A tenant's RUN step printing the same words, then failing, is still the tenant's failing step.
    const spoofed = `${unreachable}\nError: building at STEP "RUN ./spoof": while running runtime: exit status 1`;
    expect((await podmanError(fake(exitError(1, spoofed)).podman.build(base))).kind).toBe("command_failed");
    const refused = await podmanError(
      fake(
        exitError(125, "Error: initializing source docker://x:1: dial tcp 10.0.0.1:443: connection refused"),
      ).podman.pull("docker.io/library/x:1", { timeoutMs: 1000 }),
    );
    expect(refused.kind).toBe("pull_failed");
    // An image the registry does not know is a misspelt name (a tenant's, in a Containerfile), not the host's.
    const unknown = await podmanError(
      fake(
        exitError(
          125,
          "Error: initializing source docker://x:1: reading manifest 1 in docker.io/library/x: manifest unknown",
        ),
      ).podman.pull("docker.io/library/x:1", { timeoutMs: 1000 }),
    );
    expect(unknown.kind).toBe("command_failed");
  });

  it("refuses tags that are not tenant images, relative paths and hostile build args", async () => {
    const { calls, podman } = fake();
    const refused: BuildOptions[] = [
      { ...base, tag: "python:3.13-slim" },
      { ...base, tag: "localhost/tussilago-python:bookworm" },
      { ...base, tag: `localhost/tsl-${APP_HEX}` },
      { ...base, pidsLimit: 512 },
      { ...base, contextDir: "src" },
      { ...base, contextDir: "/var/lib/../../etc" },
      { ...base, containerfile: "-f" },
      { ...base, buildArgs: { "A;B": "x" } },
      { ...base, buildArgs: { "--privileged": "x" } },
      { ...base, buildArgs: { A: "nul\0byte" } },
      { ...base, labels: { ...LABELS, team: "not-a-uuid" } },
      { ...base, memoryMiB: 0 },
      { ...base, cpus: Number.NaN },
      // @ts-expect-error: host networking is not even a typed option.
      { ...base, network: "host" },
    ];
    for (const options of refused) {
      expect((await podmanError(podman.build(options))).kind).toBe("invalid_argument");
    }
    expect(calls).toHaveLength(0);
  });
});

describe("pull", () => {
  it("pulls one checked reference with the caller's timeout, and refuses option-like references", async () => {
    const { calls, podman } = fake({ stdout: `${IMAGE_ID}\n` });
    await podman.pull("docker.io/library/python:3.12-slim", { timeoutMs: 60_000 });
    expect(only(calls).args).toEqual(["pull", "--quiet", "--", "docker.io/library/python:3.12-slim"]);
    expect(only(calls).options.timeoutMs).toBe(60_000);
    await expect(podman.pull("--tls-verify=false", { timeoutMs: 1 })).rejects.toMatchObject({
      kind: "invalid_argument",
    });
  });

  it("reads an image's ONBUILD triggers", async () => {
    const image = [{ Id: IMAGE_ID, Config: { OnBuild: ["ADD http://127.0.0.1/ /x"] } }];
    const { podman } = fake({ stdout: JSON.stringify(image) });
    expect((await podman.inspectImage("docker.io/acme/base:1"))?.onBuild).toEqual(["ADD http://127.0.0.1/ /x"]);
  });
});
