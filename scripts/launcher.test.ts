// The launcher the e2e suite, the bench and the host smoke share, run against a small stand-in for scripts/start.ts
// (the real one needs a production build): the environment it gets, the health wait, the log, and the stop.
import { readFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type LaunchedPlatform, launchPlatform, PlatformExitedError } from "./launcher";

// Serves GET /api/health (200 once STANDIN_HEALTHY is set), prints what it was started with, and misbehaves on request:
// STANDIN_EXIT exits at once, STANDIN_IGNORE_TERM ignores SIGTERM and leaves a grandchild in its process group.
const STANDIN = `
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
const e = process.env;
console.log(JSON.stringify({ argv: process.argv.slice(2), dataDir: e.TUSSILAGO_DATA_DIR, port: e.PORT,
  secret: e.TUSSILAGO_SECRET_KEY, hostConfig: e.TUSSILAGO_HOST_CONFIG, extra: e.STANDIN_EXTRA,
  databaseUrl: e.DATABASE_URL ?? null, logLevel: e.LOG_LEVEL }));
if (e.STANDIN_EXIT) { console.error("boom: cannot start"); process.exit(3); }
if (e.STANDIN_IGNORE_TERM) {
  process.on("SIGTERM", () => console.log("ignoring SIGTERM"));
  const grandchild = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  writeFileSync(e.STANDIN_GRANDCHILD_FILE, String(grandchild.pid));
}
createServer((request, response) => {
  response.statusCode = request.url === "/api/health" && e.STANDIN_HEALTHY ? 200 : 503;
  response.end();
}).listen(Number(e.PORT), "127.0.0.1");
`;

let dir: string;
let script: string;
const launched: LaunchedPlatform[] = [];

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "tsl-launcher-"));
  script = path.join(dir, "standin.mjs");
  await fs.writeFile(script, STANDIN);
});

afterEach(async () => {
  for (const platform of launched.splice(0)) await platform.stop();
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Running, as opposed to gone or a zombie (an orphan waits for its reaper, which a container may not run). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return false;
  }
  return !/^\S+ \(.*\) [ZX]/s.test(stat);
}

function firstLine(text: string): Record<string, unknown> {
  return JSON.parse(text.split("\n")[0] ?? "{}") as Record<string, unknown>;
}

describe("launchPlatform", () => {
  it("starts the script with the instance's environment, waits for health and stops it", async () => {
    const logFile = path.join(dir, "healthy.log");
    const platform = await launchPlatform({
      script,
      dataDir: path.join(dir, "data"),
      secretKey: "a-secret",
      hostConfig: "none",
      baseEnv: { ...process.env, DATABASE_URL: "postgresql://elsewhere/db", STANDIN_HEALTHY: "1" },
      env: { STANDIN_EXTRA: "extra" },
      build: false,
      logFile,
      truncateLog: true,
      startupTimeoutMs: 60_000,
    });
    launched.push(platform);
    const health = await fetch(`${platform.origin}/api/health`);
    expect(health.status).toBe(200);
    expect(firstLine(await fs.readFile(logFile, "utf8"))).toEqual({
      argv: ["--no-build"],
      dataDir: path.join(dir, "data"),
      port: String(platform.port),
      secret: "a-secret",
      hostConfig: "none",
      extra: "extra",
      databaseUrl: null,
      logLevel: "info",
    });
    expect(platform.env.DATABASE_URL).toBeUndefined();

    await platform.stop();
    expect(alive(platform.pid)).toBe(false);
  });

  it("passes no --no-build by default and generates a secret", async () => {
    const logFile = path.join(dir, "default.log");
    const platform = await launchPlatform({
      script,
      dataDir: path.join(dir, "data"),
      baseEnv: { ...process.env, STANDIN_HEALTHY: "1" },
      logFile,
      truncateLog: true,
      startupTimeoutMs: 60_000,
    });
    launched.push(platform);
    const started = firstLine(await fs.readFile(logFile, "utf8"));
    expect(started.argv).toEqual([]);
    expect(String(started.secret).length).toBeGreaterThanOrEqual(32);
  });

  it("reports a platform that exits before it is healthy, with this start's output only", async () => {
    const logFile = path.join(dir, "exits.log");
    await fs.writeFile(logFile, "a line from an earlier start\n");
    const error = await launchPlatform({
      script,
      dataDir: path.join(dir, "data"),
      baseEnv: { ...process.env, STANDIN_EXIT: "1" },
      logFile,
      startupTimeoutMs: 60_000,
    }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(PlatformExitedError);
    if (!(error instanceof PlatformExitedError)) return;
    expect(error.output).toContain("boom: cannot start");
    expect(error.output).not.toContain("an earlier start");
    expect(await fs.readFile(logFile, "utf8")).toContain("a line from an earlier start");
  });

  it("stops a platform that never becomes healthy", async () => {
    const spawned: number[] = [];
    const error = await launchPlatform({
      script,
      dataDir: path.join(dir, "data"),
      logFile: path.join(dir, "unhealthy.log"),
      startupTimeoutMs: 1_000,
      onSpawn: ({ pid }) => spawned.push(pid),
    }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toContain("was not healthy within 1 s");
    expect(spawned).toHaveLength(1);
    expect(alive(spawned[0] ?? 0)).toBe(false);
  });

  it("kills the whole process group when SIGTERM is ignored", async () => {
    const grandchildFile = path.join(dir, "grandchild.pid");
    const notes: string[] = [];
    const platform = await launchPlatform({
      script,
      dataDir: path.join(dir, "data"),
      baseEnv: {
        ...process.env,
        STANDIN_HEALTHY: "1",
        STANDIN_IGNORE_TERM: "1",
        STANDIN_GRANDCHILD_FILE: grandchildFile,
      },
      logFile: path.join(dir, "stubborn.log"),
      truncateLog: true,
      startupTimeoutMs: 60_000,
      stopTimeoutMs: 500,
      note: (message) => notes.push(message),
    });
    launched.push(platform);
    const grandchild = Number(await fs.readFile(grandchildFile, "utf8"));
    expect(alive(grandchild)).toBe(true);

    await platform.stop();
    expect(alive(platform.pid)).toBe(false);
    expect(notes).toEqual(["stopping the platform", "the platform did not stop in time; killing its process group"]);
    await expect.poll(() => alive(grandchild)).toBe(false);
    expect(await platform.logTail(5)).toContain("ignoring SIGTERM");
  });
});
