import { describe, expect, it } from "vitest";
import { toUserMessage } from "../exec";
import type { RunOptions } from "./index";
import {
  APP,
  CONTAINER_ID,
  DEPLOYMENT,
  exitError,
  fake,
  HOSTILE_IMAGES,
  HOSTILE_NAMES,
  IMAGE,
  LABELS,
  NAME,
  NETWORK,
  only,
  podmanError,
  TEAM,
} from "./test-fixtures";

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
    expect(await podmanError(fake(inUse).podman.run(base))).toMatchObject({
      kind: "already_exists",
      resource: "container",
    });
    const noImage = exitError(125, `Error: ${IMAGE}: image not known`);
    // Which object is missing is a field, so callers never read it out of the message.
    expect(await podmanError(fake(noImage).podman.run(base))).toMatchObject({ kind: "not_found", resource: "image" });
    const noNetwork = exitError(125, `Error: unable to find network with name or ID ${NETWORK}: network not found`);
    expect(await podmanError(fake(noNetwork).podman.run(base))).toMatchObject({
      kind: "not_found",
      resource: "network",
    });
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
