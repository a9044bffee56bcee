// The one base class of infrastructure errors. Every adapter's error (podman, Caddy, tenant PostgreSQL and Redis, the
// executor, the embedded Redis server, the RESP connection) extends it, so the worker can ask one question of any
// failure — what kind, can a later attempt succeed, what may a tenant read — with `instanceof InfraError` instead of
// matching class names as strings, which breaks silently on a rename or a bundler's minification.

export const GENERIC_USER_MESSAGE = "An internal error occurred.";

export type InfraErrorOptions = {
  cause?: unknown;
  retryable?: boolean;
  // Safe to show to a tenant: no command line, SQL, host path or internal address. `message` is for the logs.
  userMessage?: string;
};

export class InfraError<Kind extends string = string> extends Error {
  // A string union per adapter (PodmanErrorKind, CaddyErrorKind ...): what went wrong, for callers to branch on.
  readonly kind: Kind;
  // True when trying the same thing again later can succeed (a lock, a timeout, a service still starting).
  readonly retryable: boolean;
  readonly userMessage: string;

  constructor(kind: Kind, message: string, options: InfraErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "InfraError";
    this.kind = kind;
    this.retryable = options.retryable ?? false;
    this.userMessage = options.userMessage ?? GENERIC_USER_MESSAGE;
  }

  // Structured detail for pino; subclasses add their own fields (operation, status, stderr tail ...).
  toLog(): Record<string, unknown> {
    return { kind: this.kind, retryable: this.retryable, message: this.message };
  }
}

export function isInfraError(error: unknown): error is InfraError {
  return error instanceof InfraError;
}

// Whether a failure is worth another attempt: infrastructure errors say so themselves; anything else is not known
// to be transient.
export function isRetryable(error: unknown): boolean {
  return error instanceof InfraError && error.retryable;
}
