// Puts the fake podman where the platform looks for podman: an executable wrapper that fixes the fake's state
// directory and injected failures, pointed to by TUSSILAGO_PODMAN_PATH. No test runs real podman.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { resetEnvForTests } from "@/lib/env";
import { resetInfraForTests } from "@/lib/services/infra";

const FAKE = fileURLToPath(new URL("./fake-podman.mjs", import.meta.url));

export type FakePodman = {
  path: string;
  stateDir: string;
  /** Re-writes the wrapper with these FAKE_PODMAN_* variables (e.g. { FAIL_BUILD: "1" }). */
  configure(env: Record<string, string>): Promise<void>;
  calls(): Promise<string[][]>;
  cleanup(): Promise<void>;
};

export async function installFakePodman(): Promise<FakePodman> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-fake-podman-"));
  const stateDir = path.join(dir, "state");
  const wrapper = path.join(dir, "podman");
  const configure = async (env: Record<string, string>) => {
    const assignments = Object.entries({ STATE: stateDir, ...env })
      .map(([key, value]) => `process.env[${JSON.stringify(`FAKE_PODMAN_${key}`)}] = ${JSON.stringify(value)};`)
      .join("\n");
    await fs.writeFile(wrapper, `#!/usr/bin/env node\n${assignments}\nawait import(${JSON.stringify(FAKE)});\n`, {
      mode: 0o755,
    });
    // A new podman client: a worker's cached readiness answer (lib/checks/readiness.ts) was about the old behaviour.
    resetInfraForTests();
  };
  await configure({});
  const previous = process.env.TUSSILAGO_PODMAN_PATH;
  process.env.TUSSILAGO_PODMAN_PATH = wrapper;
  resetEnvForTests();
  resetInfraForTests();
  return {
    path: wrapper,
    stateDir,
    configure,
    async calls() {
      const text = await fs.readFile(path.join(stateDir, "calls.jsonl"), "utf8").catch(() => "");
      return text
        .split("\n")
        .filter(Boolean)
        .map((line) => {
          const parsed = JSON.parse(line) as { argv?: string[] };
          return parsed.argv ?? [];
        });
    },
    async cleanup() {
      if (previous === undefined) delete process.env.TUSSILAGO_PODMAN_PATH;
      else process.env.TUSSILAGO_PODMAN_PATH = previous;
      resetEnvForTests();
      resetInfraForTests();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
