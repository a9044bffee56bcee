// The platform under test, started through scripts/launcher.ts like the e2e suite's and the bench's, with the host's
// configuration (no fake podman or Caddy); and `manage`, run against that same instance.
import { launchPlatform, REPO_ROOT } from "@/scripts/launcher";
import { execFileAsync, fail, STARTUP_DEADLINE_MS } from "./support";

export type Platform = { origin: string; env: NodeJS.ProcessEnv; logFile: string; stop(): Promise<void> };

/** `extraEnv`: more of the platform's environment (the HTTPS step's ACME CA and DNS server). */
export async function startPlatform(
  dataDir: string,
  logFile: string,
  secretKey: string,
  extraEnv: Record<string, string> = {},
): Promise<Platform> {
  const platform = await launchPlatform({
    dataDir,
    secretKey,
    logFile,
    // A short drain keeps the smoke quick; the probe loop proves the cutover still drops nothing.
    env: { TUSSILAGO_DRAIN_SECONDS: process.env.TUSSILAGO_DRAIN_SECONDS ?? "2", ...extraEnv },
    startupTimeoutMs: STARTUP_DEADLINE_MS,
  }).catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
  return { origin: platform.origin, env: platform.env, logFile, stop: platform.stop };
}

export async function manage(platform: Platform, args: string[]): Promise<Record<string, unknown>> {
  try {
    const { stdout } = await execFileAsync(
      process.execPath,
      ["--import", "tsx", "scripts/manage.ts", ...args, "--json"],
      {
        cwd: REPO_ROOT,
        env: platform.env,
        timeout: 120_000,
      },
    );
    return JSON.parse(stdout) as Record<string, unknown>;
  } catch (error) {
    const err = error as { stdout?: string; stderr?: string };
    fail(`manage ${args[0]} failed: ${(err.stderr || err.stdout || String(error)).trim().slice(-2000)}`);
  }
}
