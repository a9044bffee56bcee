import { readFileSync } from "node:fs";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CommandError, execFileExecutor, toUserMessage } from "./exec";

const NODE = process.execPath;

// Runs a node -e script; arguments after `--` reach the script as process.argv.slice(1).
function node(
  script: string,
  args: readonly string[] = [],
  options: Partial<Parameters<typeof execFileExecutor>[2]> = {},
) {
  return execFileExecutor(NODE, ["-e", script, "--", ...args], { timeoutMs: 15_000, ...options });
}

async function rejection(promise: Promise<unknown>): Promise<CommandError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CommandError) return err;
    throw err;
  }
  throw new Error("expected the command to fail");
}

// A zombie still answers kill(pid, 0); /proc tells whether the process really runs.
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

async function waitUntilDead(pid: number): Promise<boolean> {
  // Reaping by init is asynchronous; this polls, it does not measure.
  for (let i = 0; i < 100; i += 1) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

describe("execFileExecutor", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it("captures stdout, stderr and the exit code", async () => {
    const result = await node('process.stdout.write("out"); process.stderr.write("err");');
    expect(result.stdout).toBe("out");
    expect(result.stderr).toBe("err");
    expect(result.exitCode).toBe(0);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("rejects a non-zero exit with kind exit, the code and stderr, and a short message", async () => {
    const err = await rejection(node('process.stderr.write("boom"); process.exit(3);', ["SECRET_VALUE"]));
    expect(err.kind).toBe("exit");
    expect(err.exitCode).toBe(3);
    expect(err.stderr).toBe("boom");
    expect(err.retryable).toBe(false);
    expect(err.file).toBe(NODE);
    expect(err.args).toEqual(["-e", 'process.stderr.write("boom"); process.exit(3);', "--", "SECRET_VALUE"]);
    expect(err.message).toBe("node exited with code 3");
  });

  it("accepts the exit codes listed in okExitCodes", async () => {
    const result = await node("process.exit(1)", [], { okExitCodes: [0, 1] });
    expect(result.exitCode).toBe(1);
  });

  it("passes hostile arguments verbatim, without a shell", async () => {
    const hostile = ["$(id)", "a;id", "`id`", "| cat /etc/passwd", "&& echo pwned", "*", "$HOME", "'\"", "x\ny"];
    const result = await node("process.stdout.write(JSON.stringify(process.argv.slice(1)))", hostile);
    expect(JSON.parse(result.stdout)).toEqual(hostile);
  });

  it("gives the child exactly the env it was handed, and keeps env values out of the error message", async () => {
    process.env.TSL_TEST_PARENT_SECRET = "parent-secret";
    try {
      const script =
        "process.stdout.write(JSON.stringify([process.env.TSL_TEST_PARENT_SECRET ?? null, process.env.ONLY]))";
      const result = await node(script, [], { env: { ONLY: "given" } });
      expect(JSON.parse(result.stdout)).toEqual([null, "given"]);

      const err = await rejection(node("process.exit(2)", [], { env: { TOKEN: "hunter2" } }));
      expect(err.message).not.toContain("hunter2");
      expect(JSON.stringify(err.toLog())).not.toContain("hunter2");
    } finally {
      delete process.env.TSL_TEST_PARENT_SECRET;
    }
  });

  it("records logArgs instead of the real arguments on errors", async () => {
    const err = await rejection(
      execFileExecutor(NODE, ["-e", "process.exit(4)", "--", "KEY=secret"], {
        timeoutMs: 15_000,
        logArgs: ["-e", "<script>", "--", "KEY=<redacted>"],
      }),
    );
    expect(err.args).toEqual(["-e", "<script>", "--", "KEY=<redacted>"]);
    expect(JSON.stringify(err.toLog())).not.toContain("secret");
  });

  it("feeds input to stdin and honours cwd", async () => {
    const dir = await realpath(await mkdtemp(join(tmpdir(), "tsl-exec-")));
    dirs.push(dir);
    const script =
      'let s = ""; process.stdin.on("data", (c) => { s += c; }); process.stdin.on("end", () => process.stdout.write(JSON.stringify([s, process.cwd()])));';
    const result = await node(script, [], { input: "hello\n", cwd: dir });
    expect(JSON.parse(result.stdout)).toEqual(["hello\n", dir]);
  });

  it("kills a command that runs past its timeout and reports kind timeout", async () => {
    const err = await rejection(node("setInterval(() => {}, 1000)", [], { timeoutMs: 300 }));
    expect(err.kind).toBe("timeout");
    expect(err.retryable).toBe(true);
    expect(err.signal).toBe("SIGTERM");
    expect(err.message).toBe("node timed out after 300 ms");
  });

  it("escalates to SIGKILL when the command ignores SIGTERM", async () => {
    const script = 'process.on("SIGTERM", () => {}); process.stdout.write("ready"); setInterval(() => {}, 1000);';
    const err = await rejection(node(script, [], { timeoutMs: 1_500, killGraceMs: 200 }));
    expect(err.kind).toBe("timeout");
    expect(err.signal).toBe("SIGKILL");
    expect(err.stdout).toBe("ready");
  });

  it("kills the whole process group on timeout, not only the direct child", async () => {
    const script = [
      'const { spawn } = require("node:child_process");',
      'const grandchild = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });',
      "process.stdout.write(String(grandchild.pid));",
      "setInterval(() => {}, 1000);",
    ].join("\n");
    const err = await rejection(node(script, [], { timeoutMs: 2_000 }));
    expect(err.kind).toBe("timeout");
    const pid = Number(err.stdout);
    expect(Number.isInteger(pid) && pid > 0).toBe(true);
    expect(await waitUntilDead(pid)).toBe(true);
  });

  it("keeps only the tail of oversized output", async () => {
    const result = await node('process.stdout.write("a".repeat(100000) + "END")', [], { maxOutputBytes: 1000 });
    expect(result.stdout).toHaveLength(1000);
    expect(result.stdout.endsWith("aaaEND")).toBe(true);
  });

  it("fails with kind output_limit when asked to", async () => {
    const script = 'const chunk = "x".repeat(65536); setInterval(() => process.stdout.write(chunk), 1);';
    const err = await rejection(node(script, [], { maxOutputBytes: 10_000, onOutputLimit: "fail" }));
    expect(err.kind).toBe("output_limit");
    expect(err.stdout.length).toBeLessThanOrEqual(10_000);
    expect(err.retryable).toBe(false);
  });

  it("streams output chunks to the callbacks, without splitting multi-byte characters", async () => {
    const script = [
      'const e = Buffer.from("é");',
      "process.stdout.write(e.subarray(0, 1));",
      'setTimeout(() => { process.stdout.write(Buffer.concat([e.subarray(1), Buffer.from("-done")])); process.stderr.write("warn"); }, 50);',
    ].join("\n");
    const out: string[] = [];
    const err: string[] = [];
    const result = await node(script, [], { onStdout: (c) => out.push(c), onStderr: (c) => err.push(c) });
    expect(out.join("")).toBe("é-done");
    expect(out.every((c) => !c.includes("\uFFFD"))).toBe(true);
    expect(err.join("")).toBe("warn");
    expect(result.stdout).toBe("é-done");
  });

  it("survives a throwing output callback", async () => {
    const result = await node('process.stdout.write("x")', [], {
      onStdout: () => {
        throw new Error("sink failed");
      },
    });
    expect(result.stdout).toBe("x");
  });

  it("reports a missing program as kind spawn", async () => {
    const err = await rejection(execFileExecutor("/nonexistent/tsl-no-such-tool", ["--help"], { timeoutMs: 5_000 }));
    expect(err.kind).toBe("spawn");
    expect(err.exitCode).toBeNull();
    expect(err.retryable).toBe(false);
    expect(err.message).toBe("tsl-no-such-tool could not be started (ENOENT)");
  });

  it("refuses arguments with NUL bytes as kind spawn", async () => {
    const err = await rejection(node("process.exit(0)", ["a\0b"]));
    expect(err.kind).toBe("spawn");
  });

  it("stops the command when the signal aborts", async () => {
    const controller = new AbortController();
    const err = await rejection(
      node('process.stdout.write("started"); setInterval(() => {}, 1000);', [], {
        signal: controller.signal,
        onStdout: () => controller.abort(),
      }),
    );
    expect(err.kind).toBe("aborted");
    expect(err.retryable).toBe(false);
  });

  it("does not start the command when the signal is already aborted", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tsl-exec-"));
    dirs.push(dir);
    const marker = join(dir, "ran");
    const err = await rejection(
      node('require("node:fs").writeFileSync(process.argv[1], "x")', [marker], { signal: AbortSignal.abort() }),
    );
    expect(err.kind).toBe("aborted");
    expect(() => readFileSync(marker)).toThrow();
  });
});

describe("toUserMessage", () => {
  const base = { file: "/usr/bin/podman", args: ["run", "--env", "KEY=secret", "/srv/tussilago/data"] };

  it("never reveals paths, arguments or stderr of a command error", () => {
    for (const kind of ["exit", "timeout", "spawn", "aborted", "output_limit"] as const) {
      const message = toUserMessage(new CommandError({ ...base, kind, exitCode: 125, stderr: "Error: /var/lib/x" }));
      expect(message).not.toMatch(/podman|secret|\/srv|\/var|\/usr/);
      expect(message.length).toBeGreaterThan(0);
    }
  });

  it("uses an adapter's own userMessage and hides anything unknown", () => {
    expect(toUserMessage(Object.assign(new Error("x"), { userMessage: "The build failed." }))).toBe(
      "The build failed.",
    );
    expect(toUserMessage(new Error("ENOENT: /srv/tussilago/secret"))).toBe("An internal error occurred.");
    expect(toUserMessage("string")).toBe("An internal error occurred.");
  });
});
