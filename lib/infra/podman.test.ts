import { describe, expect, it } from "vitest";
import { CommandError, type ExecOptions, type ExecResult, type Executor, toUserMessage } from "./exec";
import {
  type BuildOptions,
  createPodman,
  isImageRef,
  isResourceName,
  type PodmanConfig,
  PodmanError,
  type RunOptions,
  toResourceName,
} from "./podman";

const PODMAN = "/usr/bin/podman";
const TEAM = "7c1e4a52-3b6d-4f0e-9a21-5d8c3e7f1b90";
const APP = "0f3c2a6e-8b1d-4c7e-9a5f-2d4b6c8e0a1b";
const DEPLOYMENT = "5e9d7b31-2c4a-4e8f-b6d0-1a3c5e7f9b2d";
const APP_HEX = "0f3c2a6e8b1d4c7e9a5f2d4b6c8e0a1b";
const TEAM_HEX = "7c1e4a523b6d4f0e9a215d8c3e7f1b90";
const NAME = `tsl-${APP_HEX}-12-0`;
const NETWORK = `tsl-${TEAM_HEX}-net`;
const IMAGE = `localhost/tsl-${APP_HEX}:r12`;
const CONTAINER_ID = "c".repeat(64);
const IMAGE_ID = "e".repeat(64);
const ENV = { PATH: "/usr/bin", HOME: "/root" };
const CONFIG: PodmanConfig = { podmanPath: PODMAN, runtime: "runsc-hostnet", runtimeFlags: ["network=host"], env: ENV };
const LABELS = { team: TEAM, app: APP, deployment: DEPLOYMENT };

type Call = { file: string; args: string[]; options: ExecOptions };
type Answer = Partial<ExecResult> | CommandError;

// Records every call and answers from a queue; an empty queue answers with empty output and exit code 0.
function fake(...answers: Answer[]) {
  const calls: Call[] = [];
  const exec: Executor = async (file, args, options) => {
    calls.push({ file, args: [...args], options });
    const answer = answers.shift() ?? {};
    if (answer instanceof Error) throw answer;
    return { stdout: "", stderr: "", exitCode: 0, durationMs: 1, ...answer };
  };
  return { calls, podman: createPodman(exec, CONFIG) };
}

function exitError(exitCode: number, stderr: string): CommandError {
  return new CommandError({ kind: "exit", file: PODMAN, args: [], exitCode, stderr });
}

async function podmanError(promise: Promise<unknown>): Promise<PodmanError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof PodmanError) return err;
    throw err;
  }
  throw new Error("expected a PodmanError");
}

function only(calls: Call[]): Call {
  expect(calls).toHaveLength(1);
  const [call] = calls;
  if (call === undefined) throw new Error("no call");
  return call;
}

const HOSTILE_NAMES = [
  "../x",
  "a;id",
  "$(id)",
  "-rf",
  "--privileged",
  "tsl-a b",
  `tsl-${APP_HEX} x`,
  `tsl-${APP_HEX}\n`,
  `tsl-${APP_HEX}/../x`,
  `TSL-${APP_HEX}`,
  // Look-alikes: fullwidth digits, Cyrillic "а" and "ѕ".
  `tsl-${"０".repeat(32)}`,
  `tsl-${APP_HEX.slice(0, 31)}а`,
  `tѕl-${APP_HEX}`,
  // Over 63 characters although each part matches.
  `tsl-${APP_HEX}-aaaaaaaaaaaa-bbbbbbbbbbbb-cccccccccccc`,
  "",
  "tsl-",
];

const HOSTILE_IMAGES = [
  "../x",
  "a;id",
  "$(id)",
  "-rf",
  "--privileged",
  "python 3",
  "python\n",
  "ｐython",
  "Python:3",
  "/etc/passwd",
  "x:",
  "x:-rf",
  "a".repeat(256),
  "",
];

describe("names", () => {
  it("derives names from UUIDs only", () => {
    expect(toResourceName(APP, 12, 0)).toBe(NAME);
    expect(toResourceName(TEAM, "net")).toBe(NETWORK);
    expect(() => toResourceName("my-app")).toThrow(PodmanError);
    expect(() => toResourceName(APP, "a;id")).toThrow(PodmanError);
  });

  it("accepts the platform's own names and refuses hostile ones", () => {
    expect(isResourceName(NAME)).toBe(true);
    expect(isImageRef(IMAGE)).toBe(true);
    expect(isImageRef("docker.io/library/python:3.13-slim")).toBe(true);
    expect(isImageRef(`localhost/tsl-${APP_HEX}@sha256:${"a".repeat(64)}`)).toBe(true);
    for (const name of HOSTILE_NAMES) expect(isResourceName(name), name).toBe(false);
    for (const image of HOSTILE_IMAGES) expect(isImageRef(image), image).toBe(false);
  });
});

describe("createPodman configuration", () => {
  const exec: Executor = async () => ({ stdout: "", stderr: "", exitCode: 0, durationMs: 0 });

  it("refuses a relative podman path, odd runtimes and runtime flags with dashes", () => {
    expect(() => createPodman(exec, { ...CONFIG, podmanPath: "podman" })).toThrow(PodmanError);
    expect(() => createPodman(exec, { ...CONFIG, podmanPath: "/usr/bin/../bin/podman" })).toThrow(PodmanError);
    expect(() => createPodman(exec, { ...CONFIG, runtime: "runsc --debug" })).toThrow(PodmanError);
    expect(() => createPodman(exec, { ...CONFIG, runtime: "-runc" })).toThrow(PodmanError);
    expect(() => createPodman(exec, { ...CONFIG, runtimeFlags: ["--privileged"] })).toThrow(PodmanError);
    expect(() => createPodman(exec, { ...CONFIG, runtimeFlags: ["network=host;id"] })).toThrow(PodmanError);
  });

  it("hands podman only the configured environment", async () => {
    const { calls, podman } = fake({ stdout: "" });
    await podman.remove(NAME);
    expect(only(calls).options.env).toEqual(ENV);
    expect(only(calls).file).toBe(PODMAN);
  });
});

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
      "--label",
      `tussilago.deployment=${DEPLOYMENT}`,
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
      "--label",
      `tussilago.deployment=${DEPLOYMENT}`,
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

describe("run", () => {
  const base = { name: NAME, image: IMAGE, network: NETWORK, labels: LABELS, memoryMiB: 512, cpus: 0.5 };
  const hardening = (pids = "2048", tmp = "64m") => [
    "--runtime",
    "runsc-hostnet",
    "--runtime-flag",
    "network=host",
    "run",
    "--detach",
    "--name",
    NAME,
    "--pull=never",
    "--cap-drop=all",
    "--security-opt=no-new-privileges",
    "--read-only",
    "--tmpfs",
    `/tmp:rw,noexec,nosuid,nodev,size=${tmp}`,
    "--image-volume=ignore",
    "--memory",
    "512m",
    "--memory-swap",
    "512m",
    "--cpus",
    "0.5",
    "--pids-limit",
    pids,
    "--init",
    "--http-proxy=false",
    "--network",
    NETWORK,
    "--log-opt",
    "max-size=10mb",
    "--label",
    "tussilago.managed=true",
    "--label",
    `tussilago.team=${TEAM}`,
    "--label",
    `tussilago.app=${APP}`,
    "--label",
    `tussilago.deployment=${DEPLOYMENT}`,
  ];

  it("starts a detached, hardened container with the exact arguments", async () => {
    const { calls, podman } = fake({ stdout: `${CONTAINER_ID}\n` });
    const result = await podman.run({
      ...base,
      labels: { ...LABELS, process: "web" },
      env: { SECRET_KEY: "s3cret value; $(id)", DEBUG: "0" },
      port: 8000,
      pidsLimit: 4096,
      tmpSizeMiB: 128,
      user: "1000:1000",
      command: ["gunicorn", "--bind", "0.0.0.0:8000", "app:wsgi"],
    });
    expect(result).toEqual({ id: CONTAINER_ID });
    const call = only(calls);
    const expectedHead = [...hardening("4096", "128m"), "--label", "tussilago.process=web", "--user", "1000:1000"];
    const tail = ["--publish", "127.0.0.1::8000/tcp", "--", IMAGE, "gunicorn", "--bind", "0.0.0.0:8000", "app:wsgi"];
    expect(call.args).toEqual([
      ...expectedHead,
      "--env",
      "DEBUG=0",
      "--env",
      "SECRET_KEY=s3cret value; $(id)",
      ...tail,
    ]);
    expect(call.options.logArgs).toEqual([
      ...expectedHead,
      "--env",
      "DEBUG=<redacted>",
      "--env",
      "SECRET_KEY=<redacted>",
      ...tail,
    ]);
    expect(call.args).not.toContain("--privileged");
    expect(call.args.some((arg) => /^(?:-v|--volume|--mount|--network=host)/.test(arg))).toBe(false);
  });

  it("uses the defaults: pids 2048, /tmp of 64m, no published port", async () => {
    const { calls, podman } = fake({ stdout: `${CONTAINER_ID}\n` });
    await podman.run(base);
    expect(only(calls).args).toEqual([...hardening(), "--", IMAGE]);
  });

  it("maps a name in use to already_exists and a missing image or network to not_found", async () => {
    const inUse = exitError(
      125,
      `Error: creating container storage: the container name "${NAME}" is already in use by ${CONTAINER_ID}. You have to remove that container to be able to reuse that name: that name is already in use`,
    );
    expect((await podmanError(fake(inUse).podman.run(base))).kind).toBe("already_exists");
    const noImage = exitError(125, `Error: ${IMAGE}: image not known`);
    expect((await podmanError(fake(noImage).podman.run(base))).kind).toBe("not_found");
    const noNetwork = exitError(125, `Error: unable to find network with name or ID ${NETWORK}: network not found`);
    expect((await podmanError(fake(noNetwork).podman.run(base))).kind).toBe("not_found");
  });

  it("refuses output that is not a container ID", async () => {
    const err = await podmanError(fake({ stdout: "Trying to pull...\n" }).podman.run(base));
    expect(err.kind).toBe("unexpected_output");
  });

  it("refuses hostile names, env entries and limits before running anything", async () => {
    const { calls, podman } = fake();
    const refused: RunOptions[] = [
      ...HOSTILE_NAMES.map((name) => ({ ...base, name })),
      ...HOSTILE_NAMES.map((network) => ({ ...base, network })),
      ...HOSTILE_IMAGES.map((image) => ({ ...base, image })),
      { ...base, env: { "A=B": "x" } },
      { ...base, env: { lower: "x" } },
      { ...base, env: { "--privileged": "x" } },
      { ...base, env: { "A B": "x" } },
      { ...base, env: { A: "nul\0" } },
      { ...base, env: { A: "x".repeat(200_000) } },
      { ...base, labels: { ...LABELS, app: "$(id)" } },
      { ...base, labels: { ...LABELS, deployment: `${DEPLOYMENT} ` } },
      { ...base, labels: { ...LABELS, process: "-rf" } },
      { ...base, pidsLimit: 100 },
      { ...base, port: 70_000 },
      { ...base, user: "root;id" },
      { ...base, command: ["ok", "nul\0"] },
      { ...base, cpus: 0 },
      { ...base, memoryMiB: 1.5 },
    ];
    for (const options of refused) {
      expect((await podmanError(podman.run(options))).kind).toBe("invalid_argument");
    }
    expect(calls).toHaveLength(0);
  });

  it("keeps the container name out of the user message", async () => {
    const err = await podmanError(fake(exitError(125, `Error: ${NAME} broke`)).podman.run(base));
    expect(toUserMessage(err)).toBe("The container engine reported an error.");
    expect(toUserMessage(err)).not.toContain(NAME);
  });
});

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
