// The failure banner of a deployment page (#18): whose the failure is and what to do. The operator's (the host could
// not fetch the base image, no sandbox runtime, the work gave up after its retries): said so, with the host readiness
// page. The tenant's (no plan, a failing RUN step, a crash at start): the reason's summary and a link to the line of
// the log that matters, which the log highlights. The log itself is shown once, below: the banner does not repeat
// its tail (the API's error field keeps it, for clients without the log).
import { ERROR_LINE_ID } from "@/components/apps/log-error-line";
import { Notice } from "@/components/ui";
import type { DeploymentView } from "@/lib/domain/deployments";

/** The portal's host readiness page (lib/engine/failure.ts READINESS_PAGE; the engine is not imported here). */
const READINESS_PAGE = "/admin/host";

export function DeploymentFailure({
  deployment,
  errorLine,
}: {
  deployment: Pick<DeploymentView, "error" | "failureSide">;
  /** Whether the log has a line to point at (components/apps/log-error-line.ts). */
  errorLine: boolean;
}) {
  const reason = deployment.error ?? "No reason was recorded.";
  // The first line is the summary; a build step's reason goes on to quote the end of the log shown below.
  const summary = reason.split("\n")[0] ?? reason;
  if (deployment.failureSide === "operator") {
    return (
      <Notice tone="error" title="The server could not finish this deployment">
        <p className="whitespace-pre-wrap break-words" data-testid="deployment-error" data-side="operator">
          {reason}
        </p>
        <p className="mt-2" data-testid="operator-note">
          Not a problem in your app: the server's operator has to fix this. Operators: the{" "}
          <a href={READINESS_PAGE} className="font-medium underline underline-offset-2" data-testid="readiness-link">
            host readiness checks
          </a>{" "}
          show what is wrong on the server.
        </p>
      </Notice>
    );
  }
  return (
    <Notice tone="error" title="The deployment failed">
      <p className="whitespace-pre-wrap break-words" data-testid="deployment-error" data-side={deployment.failureSide}>
        {deployment.failureSide === "tenant" ? summary : reason}
      </p>
      {errorLine ? (
        <p className="mt-2">
          <a
            href={`#${ERROR_LINE_ID}`}
            className="font-medium underline underline-offset-2"
            data-testid="error-line-link"
          >
            Go to the line of the log that matters
          </a>
          , highlighted below; fix it in your source or settings, then Retry.
        </p>
      ) : null}
    </Notice>
  );
}
