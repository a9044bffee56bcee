import { InfraError } from "../errors";

// PgBackupError: what went wrong with a dump, a verification or a restore, as a kind a job can act on. `message` is
// for logs (it may carry pg_dump's stderr tail: table names, never a password); `userMessage` is safe for a tenant.

export type PgBackupErrorKind =
  | "invalid_argument"
  | "tool_missing"
  | "version"
  | "connection"
  | "dump_failed"
  | "restore_failed"
  | "verify_failed";

const USER_MESSAGES: Record<PgBackupErrorKind, string> = {
  invalid_argument: "The backup request was invalid.",
  tool_missing: "The backup tools are not installed on the server.",
  version: "The server's backup tools are older than the database server.",
  connection: "The database service is temporarily unavailable. Please try again shortly.",
  dump_failed: "The backup could not be taken.",
  restore_failed: "The backup could not be restored.",
  verify_failed: "The backup could not be verified.",
};

export class PgBackupError extends InfraError<PgBackupErrorKind> {
  /** The tail of the tool's stderr, for logs. */
  readonly stderrTail: string;

  constructor(
    kind: PgBackupErrorKind,
    message: string,
    options: { retryable?: boolean; cause?: unknown; stderr?: string } = {},
  ) {
    super(kind, `pg backup: ${message}`, {
      cause: options.cause,
      // A lost connection or a server restarting can succeed later; everything else needs a person.
      retryable: options.retryable ?? kind === "connection",
      userMessage: USER_MESSAGES[kind],
    });
    this.name = "PgBackupError";
    this.stderrTail = (options.stderr ?? "").slice(-2_000);
  }

  override toLog(): Record<string, unknown> {
    return { kind: this.kind, retryable: this.retryable, message: this.message, stderrTail: this.stderrTail };
  }
}

// libpq's wording when it cannot reach or log in to the server: retrying later can help with the former only.
const CONNECTION_STDERR =
  /could not connect|connection to server .* failed|Connection refused|server closed the connection|could not translate host name|timeout expired|the database system is (?:starting up|shutting down)/i;
const AUTH_STDERR = /password authentication failed|no pg_hba\.conf entry|role .* does not exist/i;

/** The kind for a tool that exited non-zero, from what it printed. */
export function kindOfToolFailure(
  stderr: string,
  fallback: "dump_failed" | "restore_failed",
): { kind: PgBackupErrorKind; retryable: boolean } {
  if (/server version mismatch|aborting because of server version mismatch|unsupported version/i.test(stderr)) {
    return { kind: "version", retryable: false };
  }
  if (AUTH_STDERR.test(stderr)) return { kind: "connection", retryable: false };
  if (CONNECTION_STDERR.test(stderr)) return { kind: "connection", retryable: true };
  return { kind: fallback, retryable: false };
}
