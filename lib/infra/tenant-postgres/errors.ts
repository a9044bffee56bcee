import pg from "pg";
import { InfraError } from "../errors";

// TenantPostgresError and the mapping of driver errors (SQLSTATEs, network codes) to kinds a job can act on:
// retry later, or give up with a sentence a tenant may read.

export type TenantPostgresOperation = "provision" | "rotate_password" | "deprovision" | "inspect" | "connection_info";

export type TenantPostgresErrorKind = "invalid_argument" | "not_found" | "unavailable" | "permission" | "failed";

const USER_MESSAGES: Record<TenantPostgresErrorKind, string> = {
  invalid_argument: "The database request was invalid.",
  not_found: "The database does not exist.",
  unavailable: "The database service is temporarily unavailable. Please try again shortly.",
  permission: "The database service is not configured to allow this operation.",
  failed: "The database operation failed.",
};

// `userMessage` is safe to show to a tenant: no SQL, no identifiers, no hostnames. `message` is for logs and never
// holds secrets.
export class TenantPostgresError extends InfraError<TenantPostgresErrorKind> {
  readonly operation: TenantPostgresOperation;
  /** The provisioning step (or sub-action) that failed, for logs and for resuming. */
  readonly step: string | null;
  readonly sqlState: string | null;

  constructor(
    kind: TenantPostgresErrorKind,
    operation: TenantPostgresOperation,
    message: string,
    options: { step?: string | null; sqlState?: string | null; retryable?: boolean; cause?: unknown } = {},
  ) {
    const where = options.step ? `${operation} (${options.step})` : operation;
    super(kind, `tenant postgres ${where}: ${message}`, {
      cause: options.cause,
      retryable: options.retryable ?? kind === "unavailable",
      userMessage: USER_MESSAGES[kind],
    });
    this.name = "TenantPostgresError";
    this.operation = operation;
    this.step = options.step ?? null;
    this.sqlState = options.sqlState ?? null;
  }

  override toLog(): Record<string, unknown> {
    return {
      kind: this.kind,
      operation: this.operation,
      step: this.step,
      sqlState: this.sqlState,
      retryable: this.retryable,
      message: this.message,
    };
  }
}

// SQLSTATEs after which the same operation can succeed later: the server restarting or overloaded, lock and
// serialization conflicts with a concurrent run, `CREATE DATABASE` finding its template busy.
const RETRYABLE_SQLSTATES = new Set([
  "53000", // insufficient_resources
  "53100", // disk_full
  "53200", // out_of_memory
  "53300", // too_many_connections
  "57014", // query_canceled (our statement_timeout under load)
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "57P04", // database_dropped
  "57P05", // idle_session_timeout
  "40001", // serialization_failure
  "40P01", // deadlock_detected
  "55P03", // lock_not_available
  "55006", // object_in_use
]);
const PERMISSION_SQLSTATES = new Set(["42501", "28000", "28P01"]);
const RETRYABLE_NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);
// node-postgres reports dropped connections and its own timeouts as plain Errors without a code.
const RETRYABLE_DRIVER_MESSAGE = /connection terminated|timeout expired|connection timeout|query read timeout/i;
// Concurrent GRANT/ALTER on the same catalog row: the loser gets XX000 with this text; a rerun converges.
const CONCURRENT_UPDATE_MESSAGE = /tuple concurrently (?:updated|deleted)/i;

function sqlStateOf(err: unknown): string | null {
  if (err instanceof pg.DatabaseError && typeof err.code === "string" && /^[0-9A-Z]{5}$/.test(err.code)) {
    return err.code;
  }
  return null;
}

export function fromDriverError(
  err: unknown,
  operation: TenantPostgresOperation,
  step: string | null,
  secret: boolean,
): TenantPostgresError {
  if (err instanceof TenantPostgresError) return err;
  const sqlState = sqlStateOf(err);
  if (sqlState !== null) {
    const concurrent = sqlState === "XX000" && CONCURRENT_UPDATE_MESSAGE.test(String((err as Error).message));
    const retryable = sqlState.startsWith("08") || RETRYABLE_SQLSTATES.has(sqlState) || concurrent;
    const kind: TenantPostgresErrorKind = retryable
      ? "unavailable"
      : PERMISSION_SQLSTATES.has(sqlState)
        ? "permission"
        : "failed";
    // A statement that carried a verifier: keep nothing of PostgreSQL's text, and no cause that would carry it.
    if (secret) {
      return new TenantPostgresError(kind, operation, `statement failed (SQLSTATE ${sqlState})`, {
        step,
        sqlState,
        retryable,
      });
    }
    const message = err instanceof Error ? err.message : "statement failed";
    return new TenantPostgresError(kind, operation, `${message} (SQLSTATE ${sqlState})`, {
      step,
      sqlState,
      retryable,
      cause: err,
    });
  }
  const code =
    typeof err === "object" && err !== null && "code" in err && typeof err.code === "string" ? err.code : null;
  const message = err instanceof Error ? err.message : String(err);
  const retryable = (code !== null && RETRYABLE_NETWORK_CODES.has(code)) || RETRYABLE_DRIVER_MESSAGE.test(message);
  return new TenantPostgresError(retryable ? "unavailable" : "failed", operation, secret ? "driver error" : message, {
    step,
    retryable,
    cause: secret ? undefined : err,
  });
}

export function invalid(operation: TenantPostgresOperation, what: string): TenantPostgresError {
  // The offending value stays out of the message: it may be a password, or hostile.
  return new TenantPostgresError("invalid_argument", operation, `invalid ${what}`);
}
