// The host under test: podman as the platform runs it, the base image, and what podman reports about an app.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { baseImageFor } from "@/lib/build/containerfile";
import { defaultPythonVersion, type Env } from "@/lib/env";
import { COMMAND_TIMEOUT_MS, execFileAsync, fail, phase, say } from "./support";

export async function podman(env: Env, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(env.infra.podmanPath, args, { timeout: COMMAND_TIMEOUT_MS });
  return stdout;
}

export async function ensureBaseImage(env: Env): Promise<void> {
  const image = baseImageFor(env.infra.pythonImage, defaultPythonVersion());
  const exists = await execFileAsync(env.infra.podmanPath, ["image", "exists", image]).then(
    () => true,
    () => false,
  );
  if (exists) {
    say(`base image ${image} is present`);
    return;
  }
  if (!image.startsWith("localhost/")) {
    say(`base image ${image} is pulled by the first build`);
    return;
  }
  await phase(`build the base image ${image} from Debian packages`, async () => {
    const rootfs = await fs.mkdtemp(path.join("/var/tmp", "tussilago-smoke-rootfs-"));
    try {
      const release =
        (await fs.readFile("/etc/os-release", "utf8")).match(/^VERSION_CODENAME=(.+)$/m)?.[1] ?? "bookworm";
      await execFileAsync(
        "debootstrap",
        [
          "--variant=minbase",
          "--include=python3,python3-venv,python3-pip,ca-certificates",
          release,
          rootfs,
          "http://deb.debian.org/debian",
        ],
        { timeout: COMMAND_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
      );
      await pipe(["tar", "-C", rootfs, "-c", "."], [env.infra.podmanPath, "import", "-", image]);
    } finally {
      await fs.rm(rootfs, { recursive: true, force: true });
    }
  });
}

/** `a | b` without a shell. */
async function pipe(first: string[], second: string[]): Promise<void> {
  const [firstFile = "", ...firstArgs] = first;
  const [secondFile = "", ...secondArgs] = second;
  const producer = spawn(firstFile, firstArgs, { stdio: ["ignore", "pipe", "inherit"] });
  const consumer = spawn(secondFile, secondArgs, { stdio: ["pipe", "ignore", "inherit"] });
  producer.stdout.pipe(consumer.stdin);
  const exit = (child: ChildProcess) =>
    new Promise<number>((resolve) => child.once("exit", (code) => resolve(code ?? 1)));
  const [a, b] = await Promise.all([exit(producer), exit(consumer)]);
  if (a !== 0 || b !== 0) fail(`${first.join(" ")} | ${second.join(" ")} failed (${a}, ${b})`);
}

export async function containersOf(env: Env, appId: string, all = false): Promise<string[]> {
  const out = await podman(env, [
    "ps",
    ...(all ? ["--all"] : []),
    "--filter",
    `label=tussilago.app=${appId}`,
    "--format",
    "{{.Names}}",
  ]);
  return out.split("\n").filter(Boolean);
}

export async function imagesOf(env: Env, appId: string): Promise<string[]> {
  const out = await podman(env, ["images", "--filter", `label=tussilago.app=${appId}`, "--format", "{{.ID}}"]);
  return out.split("\n").filter(Boolean);
}

/**
 * The PID of the worker process of the platform that keeps its data in `dataDir` (its command line runs
 * jobs/worker.ts and its environment names that data directory), or null.
 */
export async function workerPid(dataDir: string): Promise<number | null> {
  for (const entry of await fs.readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await fs.readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (!cmdline.includes("jobs/worker.ts")) continue;
    const environ = await fs.readFile(`/proc/${entry}/environ`, "utf8").catch(() => "");
    if (environ.split("\0").includes(`TUSSILAGO_DATA_DIR=${dataDir}`)) return Number(entry);
  }
  return null;
}
