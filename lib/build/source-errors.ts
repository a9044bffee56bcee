// The one error type of the source step (deploy pipeline step 1: git clone or tarball upload). Its `userMessage` is
// written for the tenant and is safe to show (no host paths, no command lines, no resolved internal addresses);
// `detail` is for the logs only.

export type SourceErrorCode =
  // git
  | "invalid_url"
  | "forbidden_host"
  | "invalid_ref"
  | "clone_failed"
  | "timeout"
  // tarball
  | "invalid_archive"
  | "unsupported_entry"
  // both
  | "unsafe_path"
  | "too_large";

export class SourceError extends Error {
  override name = "SourceError";
  readonly code: SourceErrorCode;
  // Safe to show to a tenant; picked up by toUserMessage in lib/infra/exec.
  readonly userMessage: string;
  // Trying the same input again later can succeed (DNS hiccup, timeout), as opposed to a refusal of the input.
  readonly retryable: boolean;
  readonly detail: string | undefined;

  constructor(
    code: SourceErrorCode,
    userMessage: string,
    options: { cause?: unknown; retryable?: boolean; detail?: string } = {},
  ) {
    super(userMessage, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.userMessage = userMessage;
    this.retryable = options.retryable ?? false;
    this.detail = options.detail;
  }

  toLog(): Record<string, unknown> {
    const cause = this.cause;
    const causeLog =
      typeof cause === "object" && cause !== null && "toLog" in cause && typeof cause.toLog === "function"
        ? (cause.toLog() as unknown)
        : cause instanceof Error
          ? cause.message
          : undefined;
    return { code: this.code, retryable: this.retryable, message: this.message, detail: this.detail, cause: causeLog };
  }
}

export function isSourceError(error: unknown): error is SourceError {
  return error instanceof SourceError;
}
