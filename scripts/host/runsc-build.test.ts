// The build runtime wrapper (scripts/host/runsc-build.py) against a fake runtime: it must pass every subcommand
// through with its exit status, and forgive a failed `delete` only when the runtime no longer knows the container.
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const WRAPPER = fileURLToPath(new URL("./runsc-build.py", import.meta.url));
const PYTHON = "/usr/bin/python3";
const execFileAsync = promisify(execFile);

// A runtime that records its arguments and answers per subcommand from variables: FAKE_<SUBCOMMAND>_EXIT and
// FAKE_<SUBCOMMAND>_STDERR.
const FAKE_RUNTIME = `#!/bin/sh
echo "$*" >> "$FAKE_LOG"
for arg in "$@"; do
  case "$arg" in
    create|start|state|delete|kill) sub=$arg; break ;;
  esac
done
upper=$(echo "$sub" | tr a-z A-Z)
eval "code=\\\${FAKE_\${upper}_EXIT:-0}"
eval "err=\\\${FAKE_\${upper}_STDERR:-}"
[ -n "$err" ] && echo "$err" >&2
exit "$code"
`;

let dir: string;
let runtime: string;
let logFile: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "runsc-build-"));
  runtime = path.join(dir, "runtime");
  logFile = path.join(dir, "calls.log");
  await fs.writeFile(runtime, FAKE_RUNTIME, { mode: 0o755 });
});

afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function wrapper(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
  try {
    await execFileAsync(PYTHON, [WRAPPER, runtime, ...args], {
      env: { ...process.env, FAKE_LOG: logFile, ...env },
      timeout: 20_000,
    });
    return { code: 0, stderr: "" };
  } catch (error) {
    const failed = error as { code?: unknown; stderr?: string };
    return { code: typeof failed.code === "number" ? failed.code : -1, stderr: failed.stderr ?? "" };
  }
}

async function calls(): Promise<string[]> {
  return (await fs.readFile(logFile, "utf8")).trim().split("\n");
}

describe("runsc-build wrapper", () => {
  it("passes other subcommands through with their exit status", async () => {
    const created = await wrapper(["--root", "/run/x", "create", "--bundle", "/b", "c1"], { FAKE_CREATE_EXIT: "7" });
    expect(created.code).toBe(7);
    expect(await calls()).toEqual(["--root /run/x create --bundle /b c1"]);
  });

  it("answers a successful delete as it is, without asking for the state", async () => {
    expect((await wrapper(["delete", "c1"])).code).toBe(0);
    expect(await calls()).toEqual(["delete c1"]);
  });

  it("forgives a failed delete when the runtime no longer knows the container", async () => {
    const result = await wrapper(["--root", "/run/x", "delete", "c1"], {
      FAKE_DELETE_EXIT: "128",
      FAKE_DELETE_STDERR: "destroying container: stopping container: context deadline exceeded",
      FAKE_STATE_EXIT: "128",
      FAKE_STATE_STDERR: "loading container: file does not exist",
    });
    expect(result.code).toBe(0);
    expect(await calls()).toEqual(["--root /run/x delete c1", "--root /run/x state c1"]);
  });

  it("keeps the failure when the container still exists", async () => {
    const result = await wrapper(["delete", "c1"], {
      FAKE_DELETE_EXIT: "128",
      FAKE_DELETE_STDERR: "destroying container: stopping container: context deadline exceeded",
    });
    expect(result.code).toBe(128);
    expect(result.stderr).toContain("context deadline exceeded");
  });

  it("keeps the failure when the state cannot be read for another reason", async () => {
    const result = await wrapper(["delete", "c1"], {
      FAKE_DELETE_EXIT: "1",
      FAKE_DELETE_STDERR: "permission denied",
      FAKE_STATE_EXIT: "1",
      FAKE_STATE_STDERR: "permission denied",
    });
    expect(result.code).toBe(1);
  });
});
