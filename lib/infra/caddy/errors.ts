import { InfraError } from "../errors";

// CaddyError: what went wrong talking to or rendering for Caddy, whether a retry can help, and a sentence a tenant
// may read.

export type CaddyErrorKind =
  // Rendering: a value the control plane should never have produced. Not retryable, no partial output.
  | "invalid_app_id"
  | "invalid_hostname"
  | "duplicate_hostname"
  | "duplicate_route_id"
  | "invalid_upstream"
  | "invalid_health_check_path"
  | "invalid_option"
  // Talking to the admin API.
  | "unavailable"
  | "timeout"
  | "rejected"
  | "server_error"
  | "unexpected_response";

export type CaddyOperation = "render" | "client" | "get_config" | "load" | "ping";

const USER_MESSAGES: Record<Exclude<CaddyErrorKind, "rejected">, string> = {
  invalid_app_id: "The routing configuration contains an invalid value.",
  invalid_hostname: "A domain name is not valid.",
  duplicate_hostname: "A domain name is used more than once.",
  duplicate_route_id: "The routing configuration contains an invalid value.",
  invalid_upstream: "The routing configuration contains an invalid value.",
  invalid_health_check_path: "The health check path is not valid.",
  invalid_option: "The router is not configured correctly.",
  unavailable: "The router (Caddy) is not reachable.",
  timeout: "The router (Caddy) did not answer in time.",
  server_error: "The router (Caddy) reported an internal error.",
  unexpected_response: "The router (Caddy) gave an unexpected answer.",
};

function userMessageFor(kind: CaddyErrorKind, operation: CaddyOperation): string {
  if (kind !== "rejected") return USER_MESSAGES[kind];
  return operation === "load"
    ? "The router (Caddy) rejected the configuration."
    : "The router (Caddy) refused the request.";
}

export type CaddyErrorOptions = {
  status?: number | null;
  retryable?: boolean;
  // Caddy's own error text (from its JSON error body) or a network error code: for logs only, it can name internal
  // addresses and paths.
  detail?: string;
  cause?: unknown;
};

// `userMessage` is safe to show to a tenant; `message` and `detail` are for logs (see toUserMessage in ./exec).
export class CaddyError extends InfraError<CaddyErrorKind> {
  readonly operation: CaddyOperation;
  // HTTP status of the admin API's answer; null when there was none (connection failure, timeout, rendering).
  readonly status: number | null;
  readonly detail: string | null;

  constructor(kind: CaddyErrorKind, operation: CaddyOperation, message: string, options: CaddyErrorOptions = {}) {
    super(kind, `caddy ${operation}: ${message}`, {
      cause: options.cause,
      retryable: options.retryable ?? false,
      userMessage: userMessageFor(kind, operation),
    });
    this.name = "CaddyError";
    this.operation = operation;
    this.status = options.status ?? null;
    this.detail = options.detail ?? null;
  }

  override toLog(): Record<string, unknown> {
    return {
      kind: this.kind,
      operation: this.operation,
      status: this.status,
      retryable: this.retryable,
      message: this.message,
      detail: this.detail,
    };
  }
}

export function invalid(kind: CaddyErrorKind, message: string): CaddyError {
  return new CaddyError(kind, "render", message);
}
