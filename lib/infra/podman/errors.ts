import { InfraError } from "../errors";
import { CommandError } from "../exec";

// podman failures as PodmanError: a kind callers branch on, the operation, whether a retry can help, and a sentence
// a tenant may read. podman answers in stderr text only, so the "not found" / "in use" patterns live here too.

export type PodmanErrorKind =
  | "invalid_argument"
  | "not_found"
  | "already_exists"
  | "in_use"
  | "unexpected_output"
  | "pull_failed"
  | "command_failed";

export type PodmanOperation =
  | "config"
  | "build"
  | "pull"
  | "run"
  | "inspect_container"
  | "inspect_image"
  | "list_containers"
  | "stop"
  | "start"
  | "remove"
  | "logs"
  | "stats"
  | "wait"
  | "image_remove"
  | "image_exists"
  | "network_create"
  | "network_exists"
  | "network_remove"
  | "version"
  | "info"
  | "system_df";

const USER_MESSAGES: Record<Exclude<PodmanErrorKind, "command_failed">, string> = {
  invalid_argument: "The request contained an invalid value.",
  not_found: "The requested resource does not exist.",
  already_exists: "The resource already exists.",
  in_use: "The resource is still in use.",
  unexpected_output: "The container engine gave an unexpected answer.",
  pull_failed: "The server could not reach the registry of an image it needed.",
};

function commandUserMessage(operation: PodmanOperation, cause: unknown): string {
  if (cause instanceof CommandError) {
    if (cause.kind === "timeout") return "The operation took too long and was stopped.";
    if (cause.kind === "aborted") return "The operation was cancelled.";
    if (cause.kind === "exit" && operation === "build") return "The build failed. See the build log for details.";
  }
  return "The container engine reported an error.";
}

// `userMessage` is safe to show to a tenant; `message` is for logs (see toUserMessage in ./exec).
// The object a not_found / already_exists / in_use error is about, so a caller can tell a missing image from a missing
// network of the same `run` without reading the message.
export type PodmanResource = "container" | "image" | "network";

export class PodmanError extends InfraError<PodmanErrorKind> {
  readonly operation: PodmanOperation;
  readonly resource: PodmanResource | null;

  constructor(
    kind: PodmanErrorKind,
    operation: PodmanOperation,
    message: string,
    options: { cause?: unknown; retryable?: boolean; resource?: PodmanResource } = {},
  ) {
    super(kind, `podman ${operation}: ${message}`, {
      cause: options.cause,
      retryable: options.retryable ?? false,
      userMessage: kind === "command_failed" ? commandUserMessage(operation, options.cause) : USER_MESSAGES[kind],
    });
    this.name = "PodmanError";
    this.operation = operation;
    this.resource = options.resource ?? null;
  }

  override toLog(): Record<string, unknown> {
    return {
      kind: this.kind,
      operation: this.operation,
      resource: this.resource,
      retryable: this.retryable,
      message: this.message,
      command: this.cause instanceof CommandError ? this.cause.toLog() : undefined,
    };
  }
}

export function invalid(operation: PodmanOperation, what: string): PodmanError {
  // The offending value stays out of the message: it is hostile by assumption and may carry control characters.
  return new PodmanError("invalid_argument", operation, `invalid ${what}`);
}

// podman's own transient failures (storage lock contention, EAGAIN) that a later attempt can get past.
const TRANSIENT_STDERR = /database is locked|resource temporarily unavailable|timed out waiting for (?:the )?lock/i;

// podman's words when it could not reach an image's registry: its name did not resolve, its address did not answer,
// TLS did not complete. (An image the registry does not know is not this: a tenant's misspelt name is the tenant's.)
// Read from podman's own final "Error:" line only: the lines before it can be a tenant's RUN step output, which must
// not pass for the host's problem.
const PULL_FAILED =
  /^Error: .*(?:initializing source|pinging container registry|unable to pull|error pulling image).*(?:pinging container registry|dial tcp|no such host|connection refused|i\/o timeout|network is unreachable|TLS handshake)/i;

/** Whether a failed build or pull could not fetch an image (a host or registry problem, not the tenant's). */
export function isPullFailure(err: unknown): boolean {
  if (!(err instanceof CommandError) || err.kind !== "exit") return false;
  const last = err.stderr.trimEnd().split("\n").pop() ?? "";
  return PULL_FAILED.test(last.trim());
}

export function commandFailed(operation: PodmanOperation, err: unknown): PodmanError {
  if (err instanceof PodmanError) return err;
  if ((operation === "build" || operation === "pull") && isPullFailure(err)) {
    return new PodmanError("pull_failed", operation, (err as CommandError).message, { cause: err });
  }
  if (err instanceof CommandError) {
    const retryable = err.retryable || (err.kind === "exit" && TRANSIENT_STDERR.test(err.stderr));
    return new PodmanError("command_failed", operation, err.message, { cause: err, retryable });
  }
  return new PodmanError("command_failed", operation, "unexpected failure", { cause: err });
}

export function stderrMatches(err: unknown, pattern: RegExp): err is CommandError {
  return err instanceof CommandError && err.kind === "exit" && pattern.test(err.stderr);
}

export const NO_SUCH_CONTAINER = /no such container|no container with (?:name or id|id or name)|no such object/i;
export const NO_SUCH_IMAGE = /image not known|no such image|no such object/i;
export const NO_SUCH_NETWORK = /network not found|unable to find network|no such network/i;
export const NAME_IN_USE = /is already in use|name is already in use|already exists/i;
export const NOT_RUNNING = /container state improper|is not running|is stopped/i;

export function isExit(err: unknown, code: number): boolean {
  return err instanceof CommandError && err.kind === "exit" && err.exitCode === code;
}
