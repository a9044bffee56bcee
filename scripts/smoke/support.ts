// What every step of the smoke shares: its deadlines, failing with a readable message, timed phases and polling.
import { execFile } from "node:child_process";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { REPO_ROOT } from "@/scripts/launcher";

export const execFileAsync = promisify(execFile);
export const EXAMPLES_DIR = path.join(REPO_ROOT, "examples");

export const STARTUP_DEADLINE_MS = 15 * 60_000;
export const DEPLOY_DEADLINE_MS = 10 * 60_000;
export const OPERATION_DEADLINE_MS = 5 * 60_000;
export const SERVE_DEADLINE_MS = 60_000;
export const PROBE_INTERVAL_MS = 25;
/** The cutover must be seen by the probe loop: keep probing this long after the new release is live. */
export const PROBE_TAIL_MS = 3_000;
export const COMMAND_TIMEOUT_MS = 10 * 60_000;

export class SmokeFailure extends Error {}

export function fail(message: string): never {
  throw new SmokeFailure(message);
}

export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export const timings: { name: string; ms: number }[] = [];

export async function phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  say(`… ${name}`);
  const result = await fn();
  const ms = performance.now() - started;
  timings.push({ name, ms });
  say(`✓ ${name} (${(ms / 1000).toFixed(1)} s)`);
  return result;
}

export async function waitUntil<T>(what: string, deadlineMs: number, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  let delay = 200;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) fail(`timed out after ${Math.round(deadlineMs / 1000)} s waiting for ${what}`);
    await sleep(delay);
    delay = Math.min(delay * 2, 2_000);
  }
}
