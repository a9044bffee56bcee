// The combined CA bundle for TUSSILAGO_GIT_CA_FILE: written once under the directory given (the data directory's
// git/ in the worker), named by its content, so every worker process and restart reuses the same file.
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { combinedCaBundle } from "@/lib/build/source-git/https-auth";

const PEM = (name: string) => `-----BEGIN CERTIFICATE-----\n${name}\n-----END CERTIFICATE-----\n`;

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "tsl-ca-bundle-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("combinedCaBundle", () => {
  it("writes one bundle under the given directory and reuses it for the same content", async () => {
    const caFile = path.join(root, "extra.pem");
    const system = path.join(root, "system.pem");
    const systemCopy = path.join(root, "system-copy.pem");
    await writeFile(caFile, PEM("extra"));
    await writeFile(system, PEM("system"));
    await writeFile(systemCopy, PEM("system"));
    const dir = path.join(root, "data", "git");

    const first = await combinedCaBundle(caFile, dir, system);
    // Another input path with the same bytes stands for another process: the same file is reused, not a second one.
    const second = await combinedCaBundle(caFile, dir, systemCopy);
    expect(path.dirname(first)).toBe(dir);
    expect(second).toBe(first);
    expect(await readdir(dir)).toEqual([path.basename(first)]);
    expect(await readFile(first, "utf8")).toBe(`${PEM("system")}${PEM("extra")}`);

    // A changed CA file (read by a process started after the change) makes a new bundle.
    const rotated = path.join(root, "rotated.pem");
    await writeFile(rotated, PEM("rotated"));
    const third = await combinedCaBundle(rotated, dir, system);
    expect(third).not.toBe(first);
    expect(await readFile(third, "utf8")).toContain("rotated");
  });
});
