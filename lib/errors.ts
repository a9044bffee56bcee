// One error type for the whole platform, and one table from its codes to HTTP statuses (docs/api.md). The worker's
// engine (lib/engine) fails with the same type: the message is what the user reads (an operation's or deployment's
// reason), `retryable` says whether another attempt of the job can succeed.

export const ERROR_STATUS = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  /** An API path asked with a method it does not serve (with Allow); no endpoint raises it. */
  method_not_allowed: 405,
  conflict: 409,
  /** A team (or the instance) reached a resource quota; details: { quota, limit } (lib/domain/quotas.ts). */
  quota_exceeded: 409,
  too_large: 413,
  /** A body in a media type or content coding the endpoint does not read (JSON endpoints take application/json). */
  unsupported_media_type: 415,
  invalid: 422,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
  /**
   * The work was stopped on purpose (a cancelled deployment, one skipped for a newer release). Raised inside the
   * worker's engine; it reaches users as an operation's reason, and would mean a conflicting state in a response.
   */
  cancelled: 409,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

export class AppError extends Error {
  override name = "AppError";
  readonly code: ErrorCode;
  readonly details: unknown;
  /** Seconds, for rate_limited answers (Retry-After). */
  readonly retryAfter: number | undefined;
  /**
   * Whether trying the same work again can succeed. False unless said: a failure the user caused (bad source, a
   * failing release command) or a decision (cancelled) ends the job at once; jobs let retryable ones run again.
   */
  readonly retryable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: unknown; cause?: unknown; retryAfter?: number; retryable?: boolean } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.details = options.details;
    this.retryAfter = options.retryAfter;
    this.retryable = options.retryable ?? false;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/** An AppError the current attempt should not retry: the user's failure to read, or a cancellation. */
export function isFinalAppError(error: unknown): error is AppError {
  return error instanceof AppError && !error.retryable;
}

export function notFound(what = "Resource"): AppError {
  return new AppError("not_found", `${what} not found.`);
}
