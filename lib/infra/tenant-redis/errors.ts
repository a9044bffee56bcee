import { InfraError } from "../errors";
import { RedisConnectionError, RedisReplyError } from "../resp";

// TenantRedisError and the mapping of Redis answers and connection failures to kinds a job can act on.

export type TenantRedisErrorKind =
  | "invalid_argument"
  | "not_found"
  | "unavailable"
  | "misconfigured"
  | "unexpected_reply"
  | "command_failed"
  | "out_of_memory";

export type TenantRedisOperation =
  | "names"
  | "provision"
  | "rotate"
  | "deprovision"
  | "inspect"
  | "connection_info"
  | "quota"
  | "export"
  | "import";

const USER_MESSAGES: Record<TenantRedisErrorKind, string> = {
  invalid_argument: "The request contained an invalid value.",
  not_found: "The Redis database does not exist.",
  unavailable: "The Redis service is temporarily unavailable. Try again later.",
  misconfigured: "The Redis service is not configured correctly on the server.",
  unexpected_reply: "The Redis service gave an unexpected answer.",
  command_failed: "The Redis service reported an error.",
  out_of_memory: "The Redis server ran out of memory: the import stopped before all keys were written.",
};

// Messages carry the operation, a short reason and at most the server's error code: never a password, a password
// hash or the server's error text, which can echo command arguments.
// `userMessage` is safe to show to a tenant; `message` is for logs (see toUserMessage in ./exec).
export class TenantRedisError extends InfraError<TenantRedisErrorKind> {
  readonly operation: TenantRedisOperation;
  // The Redis error code (NOPERM, WRONGPASS, LOADING ...) when the server answered with an error.
  readonly code: string | null;

  constructor(
    kind: TenantRedisErrorKind,
    operation: TenantRedisOperation,
    message: string,
    options: { cause?: unknown; retryable?: boolean; code?: string } = {},
  ) {
    super(kind, `tenant redis ${operation}: ${message}`, {
      cause: options.cause,
      retryable: options.retryable ?? false,
      userMessage: USER_MESSAGES[kind],
    });
    this.name = "TenantRedisError";
    this.operation = operation;
    this.code = options.code ?? null;
  }

  override toLog(): Record<string, unknown> {
    return {
      kind: this.kind,
      operation: this.operation,
      retryable: this.retryable,
      code: this.code,
      message: this.message,
    };
  }
}

export function invalid(operation: TenantRedisOperation, what: string): TenantRedisError {
  // The offending value stays out of the message: it may be a secret or hostile.
  return new TenantRedisError("invalid_argument", operation, `invalid ${what}`);
}

// Answers that a later attempt can get past: the server is loading its data set, busy, or failing over.
const TRANSIENT_CODES = new Set(["LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "CLUSTERDOWN", "READONLY"]);
// The admin's credentials or rights are wrong: a host setup problem, not the tenant's.
const ADMIN_REFUSED_CODES = new Set(["WRONGPASS", "NOPERM", "NOAUTH"]);

export function toTenantRedisError(operation: TenantRedisOperation, err: unknown): TenantRedisError {
  if (err instanceof TenantRedisError) return err;
  if (err instanceof RedisConnectionError) {
    // The connection error's message names the endpoint only; its cause keeps the socket detail for the logs.
    const kind = err.kind === "protocol" ? "unexpected_reply" : "unavailable";
    return new TenantRedisError(kind, operation, err.message, { cause: err, retryable: err.retryable });
  }
  if (err instanceof RedisReplyError) {
    // The reply error stays off `cause`: its text can quote arguments, such as a password hash.
    const code = err.code;
    if (TRANSIENT_CODES.has(code)) {
      return new TenantRedisError("unavailable", operation, `server answered ${code}`, { code, retryable: true });
    }
    if (ADMIN_REFUSED_CODES.has(code)) {
      return new TenantRedisError("misconfigured", operation, `admin user refused (${code})`, { code });
    }
    return new TenantRedisError("command_failed", operation, `server answered ${code}`, { code });
  }
  return new TenantRedisError("command_failed", operation, "unexpected failure", { cause: err });
}
