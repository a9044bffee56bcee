// The I/O around the policy: the file must be a real file of the context, and nothing reaches podman for a refused
// file or one without registry images.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Podman } from "@/lib/infra/podman";
import { ContainerfilePolicyError, vetContainerfile } from "./vet";

let context: string;
let outside: string;

beforeAll(async () => {
  const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-vet-test-")));
  context = path.join(root, "source");
  outside = path.join(root, "host-file");
  await fs.mkdir(context);
  await fs.writeFile(outside, "FROM python:3.12\n");
});

afterAll(async () => {
  await fs.rm(path.dirname(context), { recursive: true, force: true });
});

function noPodman(): Podman {
  throw new Error("podman must not be reached");
}

describe("vetContainerfile", () => {
  it("refuses a Containerfile that links out of the source, before reading it", async () => {
    await fs.symlink(outside, path.join(context, "Containerfile"));
    const refusal = vetContainerfile({
      contextDir: context,
      file: path.join(context, "Containerfile"),
      displayName: "Containerfile",
      baseImages: [],
      podman: noPodman,
      pullTimeoutMs: 1000,
    });
    await expect(refusal).rejects.toBeInstanceOf(ContainerfilePolicyError);
    await expect(refusal).rejects.toThrow(/not a link out of it/);
    await fs.rm(path.join(context, "Containerfile"));
  });

  it("refuses by the policy without reaching podman, and passes a file built from scratch", async () => {
    await fs.writeFile(path.join(context, "Dockerfile"), "FROM scratch\nRUN --network=host x\n");
    const options = {
      contextDir: context,
      file: path.join(context, "Dockerfile"),
      displayName: "Dockerfile",
      baseImages: [],
      podman: noPodman,
      pullTimeoutMs: 1000,
    };
    await expect(vetContainerfile(options)).rejects.toThrow(/Dockerfile line 2: RUN/);
    await fs.writeFile(path.join(context, "Dockerfile"), "FROM scratch\nCOPY . /\n");
    await expect(vetContainerfile(options)).resolves.toBeUndefined();
  });
});
