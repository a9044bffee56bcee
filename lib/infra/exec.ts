import { spawn } from "node:child_process";
import { basename } from "node:path";
import { performance } from "node:perf_hooks";
import { StringDecoder } from "node:string_decoder";
import { GENERIC_USER_MESSAGE, InfraError } from "./errors";

// The only way the platform runs host commands (docs/security.md, "Commands"): an argument array, never a shell, a
// timeout, bounded captured output and a typed error that callers handle explicitly.

export type ExecOptions = {
  timeoutMs: number;
  cwd?: string;
  // The complete environment of the child, NOT merged with process.env: the platform's own environment holds its
  // secrets (database URL, secret key), and child tools must only see what the caller chose to hand them.
  // When omitted the child inherits the parent's environment (Node's default).
  env?: Record<string, string>;
  input?: string | Buffer;
  // Per stream (stdout and stderr separately). Defaults to DEFAULT_MAX_OUTPUT_BYTES.
  maxOutputBytes?: number;
  signal?: AbortSignal;
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  // "truncate" (default) keeps the tail of the output, which is where build errors are. "fail" kills the process and
  // rejects with kind "output_limit": for machine-readable output, where a truncated document is worthless.
  onOutputLimit?: "truncate" | "fail";
  // Time between SIGTERM and SIGKILL when the command times out or is aborted.
  killGraceMs?: number;
  // Exit codes that count as success (e.g. `podman image exists` answers 1 for "no"). Defaults to [0].
  okExitCodes?: readonly number[];
  // Arguments recorded on a CommandError instead of the real ones, for commands whose arguments carry secrets.
  logArgs?: readonly string[];
};

export type ExecResult = { stdout: string; stderr: string; exitCode: number; durationMs: number };

export type Executor = (file: string, args: readonly string[], options: ExecOptions) => Promise<ExecResult>;

export type CommandErrorKind = "exit" | "timeout" | "spawn" | "aborted" | "output_limit";

export const DEFAULT_MAX_OUTPUT_BYTES = 4 * 1024 * 1024;
export const DEFAULT_KILL_GRACE_MS = 5_000;
// After SIGKILL, a descendant that left the process group (setsid) may still hold our pipes open; stop waiting for
// them after this long rather than hanging the caller.
const PIPE_DRAIN_MS = 1_000;
const LOG_TAIL_CHARS = 4_096;

// errno codes for which trying again later can succeed.
const TRANSIENT_SPAWN_CODES = new Set(["EAGAIN", "EMFILE", "ENFILE", "ENOMEM"]);

export type CommandErrorInit = {
  kind: CommandErrorKind;
  file: string;
  args: readonly string[];
  exitCode?: number | null;
  signal?: NodeJS.Signals | null;
  stdout?: string;
  stderr?: string;
  durationMs?: number;
  timeoutMs?: number;
  maxOutputBytes?: number;
  spawnCode?: string;
  retryable?: boolean;
  cause?: unknown;
};

export class CommandError extends InfraError<CommandErrorKind> {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly stdout: string;
  readonly file: string;
  readonly args: readonly string[];
  readonly durationMs: number;

  constructor(init: CommandErrorInit) {
    super(init.kind, commandErrorMessage(init), {
      cause: init.cause,
      retryable: init.retryable ?? defaultRetryable(init),
      userMessage: commandUserMessage(init.kind),
    });
    this.name = "CommandError";
    this.exitCode = init.exitCode ?? null;
    this.signal = init.signal ?? null;
    this.stderr = init.stderr ?? "";
    this.stdout = init.stdout ?? "";
    this.file = init.file;
    this.args = [...init.args];
    this.durationMs = init.durationMs ?? 0;
  }

  // Technical detail for the logs: bounded, with the (possibly redacted) argument list. Log this rather than the
  // error object itself, whose stdout/stderr can be megabytes.
  override toLog(): Record<string, unknown> {
    return {
      kind: this.kind,
      file: this.file,
      args: this.args,
      exitCode: this.exitCode,
      signal: this.signal,
      durationMs: this.durationMs,
      retryable: this.retryable,
      stderrTail: this.stderr.slice(-LOG_TAIL_CHARS),
    };
  }
}

// The message names the program only: arguments can carry env values and host paths, and messages end up in logs and
// error trackers that are read more widely than structured fields.
function commandErrorMessage(init: CommandErrorInit): string {
  const program = basename(init.file) || "command";
  switch (init.kind) {
    case "exit":
      if (init.exitCode === null || init.exitCode === undefined) {
        return `${program} was terminated by ${init.signal ?? "a signal"}`;
      }
      return `${program} exited with code ${init.exitCode}`;
    case "timeout":
      return `${program} timed out after ${init.timeoutMs ?? "?"} ms`;
    case "spawn":
      return `${program} could not be started (${init.spawnCode ?? "unknown error"})`;
    case "aborted":
      return `${program} was aborted`;
    case "output_limit":
      return `${program} exceeded the output limit of ${init.maxOutputBytes ?? "?"} bytes`;
  }
}

function defaultRetryable(init: CommandErrorInit): boolean {
  switch (init.kind) {
    case "timeout":
      return true;
    case "spawn":
      return init.spawnCode !== undefined && TRANSIENT_SPAWN_CODES.has(init.spawnCode);
    default:
      return false;
  }
}

function commandUserMessage(kind: CommandErrorKind): string {
  switch (kind) {
    case "timeout":
      return "The operation took too long and was stopped.";
    case "aborted":
      return "The operation was cancelled.";
    case "output_limit":
      return "The operation produced more output than allowed.";
    case "spawn":
      return "A required system tool is not available on the server.";
    case "exit":
      return "A system command failed.";
  }
}

// A safe sentence for a person: never a command line, host path, container name or stderr. Every infrastructure error
// (InfraError) carries one; other errors may opt in with a `userMessage` string; anything else is unknown and gets the
// generic sentence.
export function toUserMessage(err: unknown): string {
  if (err instanceof InfraError) return err.userMessage;
  if (typeof err === "object" && err !== null && "userMessage" in err && typeof err.userMessage === "string") {
    return err.userMessage;
  }
  return GENERIC_USER_MESSAGE;
}

// Keeps the last `limit` bytes written to it, so memory stays bounded however much a command prints.
class TailBuffer {
  private chunks: Buffer[] = [];
  private length = 0;
  total = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (chunk.length >= this.limit) {
      this.chunks = [chunk.subarray(chunk.length - this.limit)];
      this.length = this.limit;
      return;
    }
    this.chunks.push(chunk);
    this.length += chunk.length;
    while (this.length > this.limit) {
      const first = this.chunks[0];
      if (first === undefined) break;
      const excess = this.length - this.limit;
      if (first.length <= excess) {
        this.chunks.shift();
        this.length -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.length -= excess;
      }
    }
  }

  get exceeded(): boolean {
    return this.total > this.limit;
  }

  toString(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

// setTimeout fires at once for delays above 2^31-1 ms; a bigger limit is a bug, not "no limit".
const MAX_TIMER_MS = 2_147_483_647;

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number`);
  return Math.ceil(value);
}

export const execFileExecutor: Executor = (file, args, options) =>
  new Promise<ExecResult>((resolve, reject) => {
    const started = performance.now();
    const recordedArgs = options.logArgs ?? args;
    const maxOutputBytes = positiveInteger(options.maxOutputBytes, DEFAULT_MAX_OUTPUT_BYTES, "maxOutputBytes");
    const killGraceMs = Math.min(
      positiveInteger(options.killGraceMs, DEFAULT_KILL_GRACE_MS, "killGraceMs"),
      MAX_TIMER_MS,
    );
    const timeoutMs = positiveInteger(options.timeoutMs, Number.NaN, "timeoutMs");
    if (timeoutMs > MAX_TIMER_MS) throw new RangeError("timeoutMs is too large");
    const okExitCodes = options.okExitCodes ?? [0];
    const stdout = new TailBuffer(maxOutputBytes);
    const stderr = new TailBuffer(maxOutputBytes);

    const fail = (init: Omit<CommandErrorInit, "file" | "args">): CommandError =>
      new CommandError({
        file,
        args: recordedArgs,
        stdout: stdout.toString(),
        stderr: stderr.toString(),
        durationMs: Math.round(performance.now() - started),
        timeoutMs,
        maxOutputBytes,
        ...init,
      });

    if (options.signal?.aborted) {
      reject(fail({ kind: "aborted" }));
      return;
    }

    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(file, [...args], {
        cwd: options.cwd,
        // Next's types declare NODE_ENV as always present in ProcessEnv; a child's environment need not have it.
        env: options.env as NodeJS.ProcessEnv | undefined,
        shell: false,
        // Own process group, so a timeout can kill whatever the command started, not just the command itself.
        detached: true,
        stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
        windowsHide: true,
      });
    } catch (cause) {
      // Synchronous failures: NUL bytes in arguments, invalid options.
      const code = cause instanceof Error && "code" in cause && typeof cause.code === "string" ? cause.code : undefined;
      reject(fail({ kind: "spawn", spawnCode: code, cause }));
      return;
    }

    let settled = false;
    let reason: "timeout" | "aborted" | "output_limit" | null = null;
    const timers: NodeJS.Timeout[] = [];

    const killGroup = (signal: NodeJS.Signals): void => {
      const pid = child.pid;
      if (pid === undefined) return;
      try {
        process.kill(-pid, signal);
      } catch {
        // The group is gone (ESRCH) or was never created; fall back to the direct child.
        try {
          child.kill(signal);
        } catch {
          // Already exited.
        }
      }
    };

    const cleanup = (): void => {
      for (const timer of timers) clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    };

    const settle = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      cleanup();
      flushDecoders();
      if (reason !== null) {
        // Stragglers of the group that ignored SIGTERM must not outlive the failed command.
        killGroup("SIGKILL");
        reject(fail({ kind: reason, exitCode: code, signal }));
        return;
      }
      if (code !== null && okExitCodes.includes(code)) {
        resolve({
          stdout: stdout.toString(),
          stderr: stderr.toString(),
          exitCode: code,
          durationMs: Math.round(performance.now() - started),
        });
        return;
      }
      reject(fail({ kind: "exit", exitCode: code, signal }));
    };

    const stop = (why: "timeout" | "aborted" | "output_limit"): void => {
      if (reason !== null || settled) return;
      reason = why;
      killGroup("SIGTERM");
      timers.push(
        setTimeout(() => {
          killGroup("SIGKILL");
          timers.push(
            setTimeout(() => {
              child.stdout?.destroy();
              child.stderr?.destroy();
              settle(child.exitCode, child.signalCode);
            }, PIPE_DRAIN_MS),
          );
        }, killGraceMs),
      );
    };

    function onAbort(): void {
      stop("aborted");
    }

    const decoders = {
      stdout: new StringDecoder("utf8"),
      stderr: new StringDecoder("utf8"),
    };

    // A throwing log sink must not crash the worker or abandon a running build; its failure is its own business.
    const emit = (callback: ((chunk: string) => void) | undefined, text: string): void => {
      if (callback === undefined || text.length === 0) return;
      try {
        callback(text);
      } catch {
        // Ignored on purpose, see above.
      }
    };

    function flushDecoders(): void {
      emit(options.onStdout, decoders.stdout.end());
      emit(options.onStderr, decoders.stderr.end());
    }

    const capture =
      (buffer: TailBuffer, decoder: StringDecoder, callback: ((chunk: string) => void) | undefined) =>
      (chunk: Buffer): void => {
        buffer.push(chunk);
        if (callback !== undefined) emit(callback, decoder.write(chunk));
        if (buffer.exceeded && options.onOutputLimit === "fail") stop("output_limit");
      };

    child.stdout?.on("data", capture(stdout, decoders.stdout, options.onStdout));
    child.stderr?.on("data", capture(stderr, decoders.stderr, options.onStderr));

    child.on("error", (cause: NodeJS.ErrnoException) => {
      // After a successful spawn, 'error' only reports a failed kill; 'close' still follows.
      if (child.pid !== undefined || settled) return;
      settled = true;
      cleanup();
      reject(fail({ kind: "spawn", spawnCode: cause.code, cause }));
    });

    child.on("close", (code, signal) => settle(code, signal));

    if (options.input !== undefined && child.stdin) {
      // EPIPE when the command exits without reading its input: the exit status tells the story.
      child.stdin.on("error", () => {});
      child.stdin.end(options.input);
    }

    timers.push(setTimeout(() => stop("timeout"), timeoutMs));
    options.signal?.addEventListener("abort", onAbort, { once: true });
  });
