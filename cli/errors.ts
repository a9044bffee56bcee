// The CLI's one error type and its exit codes (docs/cli.md#exit-codes). Commands throw CliError; cli/main.ts prints
// `error: <code>: <message>` on stderr and exits with the code: never a stack trace.

export const EXIT = {
  ok: 0,
  /** The work failed: a failed deployment, operation or run, or an error the API answered that fits nothing below. */
  failure: 1,
  /** Wrong arguments, or input the API refused as invalid (422). */
  usage: 2,
  /** Not logged in, or the token is unknown, expired, revoked (401) or not allowed to do this (403). */
  auth: 3,
  /** No such app, deployment, database… (404). */
  notFound: 4,
  /** A conflict: name taken, quota reached, the app's state does not allow it (409). */
  conflict: 5,
  /** The platform could not be reached, timed out or is unavailable (503) after the bounded retries. */
  unavailable: 6,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  constructor(
    /** The API's error code (`not_found`, `quota_exceeded`, …) or the CLI's own (`not_logged_in`, `deploy_failed`). */
    readonly code: string,
    message: string,
    readonly exitCode: ExitCode = EXIT.failure,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** The exit code for an API error answer, from its HTTP status. */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404) return EXIT.notFound;
  if (status === 409) return EXIT.conflict;
  if (status === 400 || status === 413 || status === 415 || status === 422) return EXIT.usage;
  if (status === 429 || status === 503 || status === 502 || status === 504) return EXIT.unavailable;
  return EXIT.failure;
}
