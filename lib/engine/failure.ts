// The engine's one failure vocabulary: an AppError (lib/errors.ts). Its message is what the user reads (the reason
// on the deployment and the operation), its code says what kind of end it is, and `retryable` whether another
// attempt of the job can succeed. The tasks catch a final one and record it; anything else is thrown for
// graphile-worker to retry (jobs/runner.ts only shows AppError messages when the attempts run out).
import { AppError } from "@/lib/errors";
import type { FailureSide } from "@/lib/generated/prisma/client";
import { CaddyError } from "@/lib/infra/caddy";
import { PodmanError } from "@/lib/infra/podman";

/** A failure the user caused or can fix (bad source, failing build step or release command, health check): final. */
export function userFailure(message: string, cause?: unknown): AppError {
  return new AppError("invalid", message, cause === undefined ? {} : { cause });
}

/**
 * A failure reason as the deployment's log prints it: without the output it quotes ("The end of its output:" after a
 * release command or a container, "The end of the build log:" after a build step), which that log holds just above,
 * so it is not printed twice; every other reason (a refused Containerfile's lines, a plan that could not be made) is
 * printed whole, since the log has it nowhere else.
 */
export function logSummary(reason: string): string {
  return reason.replace(/ The end of (its output|the build log):\n[\s\S]*$/, "");
}

/** The work was stopped on purpose (the user cancelled, a newer deployment went first): final, not an error. */
export function cancelled(message: string): AppError {
  return new AppError("cancelled", message);
}

/** This host cannot do the work (no container engine, no sandbox runtime): final, with what the operator must do. */
export function hostNotReady(message: string): AppError {
  return new AppError("unavailable", message);
}

/** The portal's host readiness page (app/(portal)/admin/host), where an operator sees what the host lacks. */
export const READINESS_PAGE = "/admin/host";

/**
 * podman could not reach the registry of an image the build needs (DNS, TCP, TLS: PodmanError "pull_failed"): the
 * host's problem, final (retrying against a host that cannot resolve the registry only delays the answer), and said
 * so, so the tenant does not hunt for a bug in their app.
 */
export function imageFetchFailure(error: unknown): AppError | null {
  if (!(error instanceof PodmanError) || error.kind !== "pull_failed") return null;
  return new AppError(
    "unavailable",
    "The server could not fetch the base image: its registry could not be reached from this host (the platform " +
      `operator's to fix, not a problem in your app: see the host readiness checks at ${READINESS_PAGE}). Deploy ` +
      "again once it is fixed.",
    { cause: error },
  );
}

/** A failure that ends the work now, with its message as the reason: never retried. */
export function isFinalFailure(error: unknown): error is AppError {
  return error instanceof AppError && !error.retryable;
}

/** Whose a final failure is to fix: the user's (`invalid`) is the tenant's; an unready host or anything else the operator's. */
export function failureSide(error: unknown): FailureSide {
  return error instanceof AppError && error.code === "invalid" ? "tenant" : "operator";
}

export function isCancelled(error: unknown): error is AppError {
  return error instanceof AppError && error.code === "cancelled";
}

/**
 * For errors a job throws to be retried: podman's and Caddy's own user messages, as a retryable AppError, so the
 * reason shown when the attempts run out says what broke. Anything else unchanged.
 */
export function asRetryableFailure(error: unknown, suffix = "Several attempts failed; nothing was switched."): unknown {
  if (error instanceof PodmanError || error instanceof CaddyError) {
    return new AppError("unavailable", `${error.userMessage} ${suffix}`, { cause: error, retryable: true });
  }
  return error;
}
