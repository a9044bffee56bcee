// The supervisor's restart loop against a small stand-in child (a node script), as scripts/start.ts runs the web
// server and the worker: crashes and SIGKILL restart it with a growing backoff, repeated crashes give up, and a
// requested stop is not a crash.
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RestartPolicy } from "./restart-policy";
import { type SupervisedProcess, superviseProcess } from "./supervised-process";

// Counts its starts in STANDIN_COUNTER, exits 1 on the first STANDIN_CRASHES starts, then stays up; on SIGTERM it
// writes "terminated" to STANDIN_TERM_FILE and exits 0.
const STANDIN = `
import { readFileSync, writeFileSync } from "node:fs";
const e = process.env;
let starts = 0;
try { starts = Number(readFileSync(e.STANDIN_COUNTER, "utf8")); } catch {}
starts += 1;
writeFileSync(e.STANDIN_COUNTER, String(starts));
if (starts <= Number(e.STANDIN_CRASHES)) process.exit(1);
process.on("SIGTERM", () => { writeFileSync(e.STANDIN_TERM_FILE, "terminated"); process.exit(0); });
setInterval(() => {}, 1000);
`;

type LogLine = { level: number; msg: string; process?: string; restartInMs?: number; signal?: string | null };

let dir: string;
let script: string;
const supervised: SupervisedProcess[] = [];

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "tsl-supervised-"));
  script = path.join(dir, "standin.mjs");
  await fs.writeFile(script, STANDIN);
});

afterEach(async () => {
  for (const process of supervised.splice(0)) await process.stop();
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Long enough for a few node starts on a busy machine; the assertions are on what happened, not when. */
const WAIT = { timeout: 20_000 };

const quick: RestartPolicy = {
  maxCrashes: 10,
  windowMs: 60_000,
  initialBackoffMs: 20,
  maxBackoffMs: 1_000,
  stableAfterMs: 60_000,
};

function standIn(label: string, crashes: number, policy: RestartPolicy) {
  const counter = path.join(dir, `${label}.count`);
  const termFile = path.join(dir, `${label}.term`);
  const lines: LogLine[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) });
  const giveUps: string[] = [];
  const handle = superviseProcess({
    name: "worker",
    start: () =>
      spawn(process.execPath, [script], {
        stdio: "ignore",
        env: {
          ...process.env,
          STANDIN_COUNTER: counter,
          STANDIN_CRASHES: String(crashes),
          STANDIN_TERM_FILE: termFile,
        },
      }),
    policy,
    log,
    onGiveUp: (reason) => giveUps.push(reason),
    stopGraceMs: 10_000,
  });
  supervised.push(handle);
  const starts = async () => Number(await fs.readFile(counter, "utf8").catch(() => "0"));
  const terminated = async () => (await fs.readFile(termFile, "utf8").catch(() => "")) === "terminated";
  return { handle, lines, giveUps, starts, terminated };
}

describe("superviseProcess", () => {
  it("restarts a crashing process with a doubling backoff until it stays up", async () => {
    const worker = standIn("crashes", 3, quick);
    await expect.poll(worker.starts, WAIT).toBe(4);
    await expect.poll(() => worker.lines.filter((line) => line.msg === "worker restarted").length, WAIT).toBe(3);
    const crashes = worker.lines.filter((line) => line.msg.startsWith("worker exited unexpectedly"));
    expect(crashes.map((line) => line.restartInMs)).toEqual([20, 40, 80]);
    expect(worker.giveUps).toEqual([]);
    expect(worker.handle.pid()).toBeTypeOf("number");
  });

  it("restarts a process killed with SIGKILL", async () => {
    const worker = standIn("killed", 0, quick);
    await expect.poll(worker.starts, WAIT).toBe(1);
    await expect.poll(() => worker.handle.pid(), WAIT).toBeTypeOf("number");
    const first = worker.handle.pid() ?? 0;
    process.kill(first, "SIGKILL");
    await expect.poll(worker.starts, WAIT).toBe(2);
    await expect.poll(() => worker.handle.pid(), WAIT).not.toBe(first);
    expect(worker.lines.find((line) => line.msg.startsWith("worker exited unexpectedly"))?.signal).toBe("SIGKILL");
  });

  it("gives up after too many crashes within the window and restarts no more", async () => {
    const worker = standIn("gives-up", 1_000, { ...quick, maxCrashes: 3 });
    await expect.poll(() => worker.giveUps, WAIT).toEqual(["worker crashed 3 times within 60 s"]);
    expect(await worker.starts()).toBe(3);
    expect(worker.handle.pid()).toBeUndefined();
    expect(worker.lines.at(-1)?.msg).toBe("worker crashed 3 times within 60 s; giving up");
  });

  it("a stop during the backoff cancels the restart", async () => {
    const worker = standIn("stop-in-backoff", 1_000, { ...quick, initialBackoffMs: 600_000, maxBackoffMs: 600_000 });
    await expect.poll(() => worker.lines.some((line) => line.restartInMs === 600_000), WAIT).toBe(true);
    await worker.handle.stop();
    expect(await worker.starts()).toBe(1);
    expect(worker.giveUps).toEqual([]);
  });

  it("a requested stop sends SIGTERM and is not a crash", async () => {
    const worker = standIn("clean-stop", 0, quick);
    await expect.poll(worker.starts, WAIT).toBe(1);
    await worker.handle.stop();
    expect(await worker.terminated()).toBe(true);
    expect(worker.handle.pid()).toBeUndefined();
    expect(worker.lines.filter((line) => line.level >= 50)).toEqual([]);
    expect(await worker.starts()).toBe(1);
  });
});
